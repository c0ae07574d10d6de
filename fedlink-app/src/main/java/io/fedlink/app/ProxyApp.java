package io.fedlink.app;

import io.fedlink.api.AccessLogFormat;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteSource;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import io.fedlink.metrics.MetricsServer;
import io.fedlink.metrics.ProxyMetrics;
import io.fedlink.metrics.RegistryHealth;
import io.fedlink.metrics.TunnelListeners;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy application {@code fedlink proxy} runs, for embedding: the SNI proxy fed by a {@link RouteSource} (a
 * route file, the registry in etcd, a fixed table, or the application's own), with, when asked, Prometheus metrics
 * and health ({@code /metrics}, {@code /healthz}, {@code /readyz}), the admin endpoint on a Unix socket or on TCP
 * with a token, the batched access log, TLS files that reload, and a graceful drain on close.
 *
 * <pre>{@code
 * try (ProxyApp app = ProxyApp.builder(SniProxy.builder().bind(443))
 *         .routes(new RouteFileSource(Path.of("sni.yaml"), Duration.ofSeconds(2)))
 *         .metrics(new InetSocketAddress("127.0.0.1", 9464))
 *         .adminSocket(AdminSocket.defaultPath())
 *         .start()) {
 *     app.announcements().forEach(System.out::println);
 *     ...                                   // app.reload() re-reads the routes (SIGHUP); close() drains
 * }
 * }</pre>
 *
 * <p>Everything is bound before the proxy accepts its first connection (a busy metrics or admin port fails the
 * start, not the first scrape), and a start that fails closes what it had opened. The app sets the proxy's tunnel
 * listener to its metrics plus {@link Builder#listener}; the routes it sets from the source.
 */
public final class ProxyApp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyApp.class);

    private final TunnelServer proxy;
    private final RouteSource source;
    private final RouteHolder routes;
    private final ProxyMetrics metrics;
    private final MetricsServer metricsServer;
    private final List<AdminServer> admins;
    private final List<AutoCloseable> owned;
    private final List<String> announcements;
    private final Duration drain;

    private ProxyApp(Started s, TunnelServer proxy, Builder b) {
        this.proxy = proxy;
        this.source = b.source;
        this.routes = s.routes;
        this.metrics = s.metrics;
        this.metricsServer = s.metricsServer;
        this.admins = List.copyOf(s.admins);
        this.owned = List.copyOf(b.owned);
        this.drain = b.drain;
        List<String> lines = new ArrayList<>(s.announcements);
        lines.add("fedlink proxy listening on " + proxy.localAddress() + " with " + routes.current().size()
                + " routes from " + source);
        if (proxy.agentAddress() != null) {
            lines.add("fedlink proxy accepting party agents on " + proxy.agentAddress() + " (parties of "
                    + b.agentDomain + ")");
        }
        this.announcements = List.copyOf(lines);
    }

    /** Starts an app around {@code proxy}: its listeners, limits and timeouts as configured there. */
    public static Builder builder(TunnelServerConfig.Builder proxy) {
        return new Builder(proxy);
    }

    /** The running proxy. */
    public TunnelServer proxy() {
        return proxy;
    }

    /** The routes in force, as the source keeps them. */
    public RouteHolder routes() {
        return routes;
    }

    /** The metrics, or {@code null} without {@link Builder#metrics}. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** Where metrics and health are served, or {@code null}. */
    public InetSocketAddress metricsAddress() {
        return metricsServer == null ? null : metricsServer.address();
    }

    /** What was started, one line each (metrics, admin, listening, agents): what {@code fedlink proxy} prints. */
    public List<String> announcements() {
        return announcements;
    }

    /** Reads the route source again now (what {@code fedlink proxy} does on SIGHUP); a failure keeps the routes. */
    public void reload() {
        source.reload();
    }

    /** Whether the proxy serves new connections (false once closed, draining, or after an internal failure). */
    public boolean ready() {
        return proxy.ready();
    }

    /** Closes with the configured drain ({@link Builder#drain}, default 10 s). */
    @Override
    public void close() {
        try {
            close(drain);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops following the routes, drains the proxy for at most {@code grace} (then aborts what is left), and closes
     * the admin and metrics endpoints and what the app owns; returns whether every tunnel ended by itself.
     */
    public boolean close(Duration grace) throws InterruptedException {
        closeQuietly(source, "the route source");
        boolean drained;
        try {
            drained = proxy.close(grace);
        } finally {
            admins.forEach(AdminServer::close); // removes the socket file
            if (metricsServer != null) {
                metricsServer.close();
            }
            owned.forEach(o -> closeQuietly(o, String.valueOf(o)));
        }
        return drained;
    }

    private static void closeQuietly(AutoCloseable c, String what) {
        try {
            c.close();
        } catch (Exception e) {
            log.warn("closing {}: {}", what, e.toString());
        }
    }

    /** What {@link Builder#start} opened before the proxy; closed again if the start fails. */
    private static final class Started {
        RouteHolder routes;
        ProxyMetrics metrics;
        MetricsServer metricsServer;
        final List<AdminServer> admins = new ArrayList<>();
        final List<String> announcements = new ArrayList<>();

        void close() {
            admins.forEach(AdminServer::close);
            if (metricsServer != null) {
                metricsServer.close();
            }
        }
    }

    /** Collects what to start with the proxy; {@link #start()} binds it all. */
    public static final class Builder {
        private final TunnelServerConfig.Builder proxy;
        private RouteSource source;
        private InetSocketAddress metricsAt;
        private List<String> registryStates;
        private Supplier<RegistryHealth> registryHealth;
        private Path adminSocket;
        private InetSocketAddress adminTcp;
        private byte[] adminToken;
        private AccessLogFormat accessLog = AccessLogFormat.TEXT;
        private TunnelListener listener = TunnelListener.NONE;
        private Duration drain = Duration.ofSeconds(10);
        private String agentDomain = "fate.org";
        private final List<AutoCloseable> owned = new ArrayList<>();

        private Builder(TunnelServerConfig.Builder proxy) {
            this.proxy = Objects.requireNonNull(proxy, "proxy");
        }

        /** Where the routes come from (required); the app starts it, and closes it on close. */
        public Builder routes(RouteSource source) {
            this.source = source;
            return this;
        }

        /** Serves {@code /metrics}, {@code /healthz} and {@code /readyz} at {@code address}. */
        public Builder metrics(InetSocketAddress address) {
            this.metricsAt = address;
            return this;
        }

        /**
         * Shows a registry's state (one of {@code states}, lower case) in the metrics and {@code /readyz}, e.g. for
         * routes that come from etcd.
         */
        public Builder registry(List<String> states, Supplier<RegistryHealth> health) {
            this.registryStates = List.copyOf(states);
            this.registryHealth = Objects.requireNonNull(health, "health");
            return this;
        }

        /** Serves the admin endpoint on this Unix socket (its folder must be the proxy user's alone). */
        public Builder adminSocket(Path socket) {
            this.adminSocket = socket;
            return this;
        }

        /** Serves the admin endpoint on TCP too, answering only requests with {@code Bearer token}. */
        public Builder adminTcp(InetSocketAddress address, byte[] token) {
            this.adminTcp = address;
            this.adminToken = token.clone();
            return this;
        }

        /**
         * The access log: {@link AccessLogFormat#TEXT} (the default) writes the proxy's lines in batches to standard
         * error when the {@code io.fedlink.sni.access} logger is on; {@link AccessLogFormat#JSON} writes bare JSON
         * lines to standard output (for a log shipper).
         */
        public Builder accessLog(AccessLogFormat format) {
            this.accessLog = Objects.requireNonNull(format, "format");
            return this;
        }

        /** Also tells {@code l} of every tunnel (beside the metrics). */
        public Builder listener(TunnelListener l) {
            this.listener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /** How long {@link ProxyApp#close()} lets open tunnels drain (default 10 s). */
        public Builder drain(Duration grace) {
            this.drain = Objects.requireNonNull(grace, "grace");
            return this;
        }

        /** The party domain the agent listener names in its announcement (default {@code fate.org}). */
        public Builder agentDomain(String domain) {
            this.agentDomain = domain;
            return this;
        }

        /** Closes {@code c} with the app (e.g. a {@link PemFilesMaterial} that keeps the proxy's TLS files fresh). */
        public Builder closeWithApp(AutoCloseable c) {
            owned.add(Objects.requireNonNull(c, "c"));
            return this;
        }

        /**
         * Starts the route source, binds the metrics and admin endpoints, then the proxy.
         *
         * @throws IOException              when an address cannot be bound or the routes cannot be read
         * @throws IllegalArgumentException when a setting or the routes are refused
         */
        public ProxyApp start() throws IOException {
            Objects.requireNonNull(source, "routes: give a RouteSource");
            Started s = new Started();
            AtomicReference<TunnelServer> running = new AtomicReference<>();
            try {
                s.routes = source.start();
                proxy.routes(s.routes);
                if (accessLog == AccessLogFormat.JSON) {
                    proxy.accessLogFormat(AccessLogFormat.JSON).accessLogSink(AccessLogWriter.json());
                } else if (LoggerFactory.getLogger("io.fedlink.sni.access").isInfoEnabled()) { // else: off
                    proxy.accessLogSink(AccessLogWriter.text(
                            LoggerFactory.getLogger("io.fedlink.sni.refusals").isInfoEnabled()));
                }
                TunnelListener tell = listener;
                if (metricsAt != null) {
                    s.metrics = ProxyMetrics.watching(s.routes).reloadFailing(() -> source.problem().isPresent());
                    tell = TunnelListeners.all(s.metrics, listener);
                    if (registryHealth != null) {
                        s.metrics.registry(registryStates, registryHealth);
                    }
                    s.metricsServer = MetricsServer.start(metricsAt, s.metrics);
                    InetSocketAddress a = s.metricsServer.address();
                    s.announcements.add("fedlink proxy metrics on http://"
                            + Endpoint.of(a.getAddress().getHostAddress(), a.getPort()) + "/metrics (/healthz, /readyz)");
                }
                proxy.listener(tell);
                if (adminSocket != null) { // answers 503 until the proxy runs
                    AdminServer http = AdminServer.onSocket(adminSocket, running::get);
                    s.admins.add(http);
                    s.announcements.add("fedlink proxy admin on " + http.where() + " (POST " + AdminServer.CLOSE_PATH
                            + ")");
                    if (s.metrics != null) {
                        s.metrics.httpServer("admin_socket", http.http());
                    }
                }
                if (adminTcp != null) {
                    AdminServer http = AdminServer.onTcp(adminTcp, adminToken, running::get);
                    s.admins.add(http);
                    s.announcements.add("fedlink proxy admin on " + http.where() + " (POST, bearer token)");
                    if (s.metrics != null) {
                        s.metrics.httpServer("admin", http.http());
                    }
                }
                TunnelServer started = proxy.start();
                running.set(started);
                if (s.metrics != null) {
                    s.metrics.observe(started);
                }
                for (var r : s.routes.current().routes()) {
                    log.info("route {}", r);
                }
                return new ProxyApp(s, started, this);
            } catch (IOException | RuntimeException | Error e) {
                s.close();
                closeQuietly(source, "the route source");
                owned.forEach(o -> closeQuietly(o, String.valueOf(o)));
                throw e;
            }
        }
    }
}
