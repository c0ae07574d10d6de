package io.fedlink.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP port of a proxy's metrics and health, bound where the operator says (loopback by default in the CLI):
 * <ul>
 *   <li>{@code /metrics}: the Prometheus text exposition (the client library's handler; OpenMetrics and protobuf
 *       when the scraper asks for them);</li>
 *   <li>{@code /healthz}: 200 while the process serves HTTP;</li>
 *   <li>{@code /readyz}: 200 when {@link ProxyMetrics#notReady()} is empty, else 503 listing why.</li>
 * </ul>
 * Served by {@value #THREADS} daemon threads; anything else is 404. An embedder should bound how long a client
 * may take (the JDK's {@code -Dsun.net.httpserver.maxReqTime=SECONDS} and {@code maxRspTime}, as {@code fedlink proxy}
 * does): without it each client that sends half a request holds a thread for ever.
 */
public final class MetricsServer implements AutoCloseable {
    /**
     * Threads serving requests: a client that stalls holds one until the JDK's request time limit cuts it
     * ({@code sun.net.httpserver.maxReqTime}; {@code fedlink proxy} sets 10 s), so a few stalled clients cannot
     * stop the rest.
     */
    static final int THREADS = 4;

    private final HttpServer http;
    private final ExecutorService executor;

    private MetricsServer(HttpServer http, ExecutorService executor) {
        this.http = http;
        this.executor = executor;
    }

    /**
     * Binds {@code address} and serves {@code metrics} (registered in a registry of its own).
     *
     * @throws IOException when the address cannot be bound; the message names it
     */
    public static MetricsServer start(InetSocketAddress address, ProxyMetrics metrics) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        metrics.register(registry);
        HttpServer http;
        try {
            http = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address.getHostString() + ":" + address.getPort() + ": "
                    + e.getMessage() + " (choose another address or port)", e);
        }
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "fedlink-metrics-http-" + http.getAddress().getPort());
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        http.createContext("/metrics", new MetricsHandler(registry));
        http.createContext("/healthz", ex -> exact(ex, "/healthz", 200, "ok\n"));
        http.createContext("/readyz", ex -> {
            List<String> why = metrics.notReady();
            exact(ex, "/readyz", why.isEmpty() ? 200 : 503, why.isEmpty() ? "ready\n"
                    : "not ready: " + String.join("; ", why) + "\n");
        });
        http.createContext("/", ex -> exact(ex, "", 404, "not found: try /metrics, /healthz or /readyz\n"));
        http.start();
        return new MetricsServer(http, executor);
    }

    private static void exact(HttpExchange ex, String path, int status, String body) throws IOException {
        try (ex) {
            if (!ex.getRequestURI().getPath().equals(path)) {
                status = 404;
                body = "not found: try /metrics, /healthz or /readyz\n";
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(status, head ? -1 : b.length);
            if (!head) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(b);
                }
            }
        }
    }

    /** The address bound (useful with port 0). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Stops serving at once. */
    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
