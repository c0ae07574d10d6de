package io.fedlink.metrics;

import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.BoundedHttpServer.Limits;
import io.fedlink.api.BoundedHttpServer.Request;
import io.fedlink.api.BoundedHttpServer.Response;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP port of a proxy's metrics and health, bound where the operator says (loopback by default in the CLI):
 * <ul>
 *   <li>{@code /metrics}: the Prometheus text exposition (OpenMetrics and protobuf when the scraper asks for them);</li>
 *   <li>{@code /healthz}: 200 while the process serves HTTP;</li>
 *   <li>{@code /readyz}: 200 when {@link ProxyMetrics#notReady()} is empty, else 503 listing why; with a
 *       {@linkplain ProxyMetrics#registry registry}, its state and problem too (a proxy serving its last good table
 *       while the registry cannot be read stays 200, "degraded").</li>
 * </ul>
 * Anything else is 404. Served by a {@link BoundedHttpServer} with {@link Limits#DEFAULT} but no request body: a
 * client that sends half a request holds no thread, at most 64 connections come from one address, and a full
 * worker pool answers 503 at once, so an orchestrator's {@code /healthz} is answered while others misbehave.
 * Refusals are counted in {@code fedlink_http_refused_total{server="metrics"}}.
 */
public final class MetricsServer implements AutoCloseable {
    /** The limits of the metrics port: the defaults, without a request body. */
    public static final Limits LIMITS = Limits.DEFAULT.withMaxBodyBytes(0);
    private static final String NOT_FOUND = "not found: try /metrics, /healthz or /readyz\n";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final int MAX_PROBLEM_CHARS = 1000;
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final BoundedHttpServer http;

    private MetricsServer(BoundedHttpServer http) {
        this.http = http;
    }

    /**
     * Binds {@code address} and serves {@code metrics} (registered in a registry of its own).
     *
     * @throws IOException when the address cannot be bound; the message names it
     */
    public static MetricsServer start(InetSocketAddress address, ProxyMetrics metrics) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        metrics.register(registry);
        ExpositionFormats formats = ExpositionFormats.init();
        Consumer<String> info = log::info;
        BoundedHttpServer http = BoundedHttpServer.start("metrics", address, LIMITS,
                r -> answer(r, registry, formats, metrics), info);
        metrics.httpServer("metrics", http);
        return new MetricsServer(http);
    }

    private static Response answer(Request r, PrometheusRegistry registry, ExpositionFormats formats,
                                   ProxyMetrics metrics) throws IOException {
        if (!r.method().equals("GET") && !r.method().equals("HEAD")) {
            return Response.of(405, TEXT, r.method() + " not allowed: use GET\n").withHeader("Allow", "GET, HEAD");
        }
        switch (r.path()) {
            case "/healthz" -> {
                return Response.of(200, TEXT, "ok\n");
            }
            case "/readyz" -> {
                List<String> why = metrics.notReady();
                return Response.of(why.isEmpty() ? 200 : 503, TEXT, readiness(why, metrics));
            }
            case "/metrics" -> {
                ExpositionFormatWriter writer = formats.findWriter(r.header("Accept"));
                ByteArrayOutputStream out = new ByteArrayOutputStream(16384);
                writer.write(out, registry.scrape());
                return new Response(200, writer.getContentType(), out.toByteArray(), Map.of(), null);
            }
            default -> {
                return Response.of(404, TEXT, NOT_FOUND);
            }
        }
    }

    /**
     * The {@code /readyz} body: {@code ready} or {@code not ready: REASONS}; with a registry, its state on a line of
     * its own and, unless ok, {@code ready, degraded: serving the last good table (N routes)} and the problem on one
     * line of at most {@value #MAX_PROBLEM_CHARS} characters.
     */
    static String readiness(List<String> notReady, ProxyMetrics metrics) {
        RegistryHealth registry = metrics.registryHealth();
        StringBuilder b = new StringBuilder(notReady.isEmpty() ? "ready" : "not ready: " + String.join("; ", notReady));
        List<String> agents = metrics.agentLines();
        if (registry == null) {
            b.append('\n');
            agents.forEach(l -> b.append(l).append('\n'));
            return b.toString();
        }
        if (notReady.isEmpty() && !registry.ok()) {
            b.append(", degraded: serving the last good table (").append(metrics.routesInForce()).append(" routes)");
        }
        b.append("\nregistry: ").append(registry.state()).append('\n');
        if (!registry.ok() && registry.problem() != null) {
            String p = registry.problem().replaceAll("\\p{Cntrl}", " ");
            b.append("problem: ").append(p.length() > MAX_PROBLEM_CHARS ? p.substring(0, MAX_PROBLEM_CHARS) + "..." : p)
                    .append('\n');
        }
        agents.forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }

    /** The address bound (useful with port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) http.address();
    }

    /** Stops serving at once. */
    @Override
    public void close() {
        http.close();
    }
}
