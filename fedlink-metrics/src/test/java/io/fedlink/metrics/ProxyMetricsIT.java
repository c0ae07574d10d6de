package io.fedlink.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.Tunnels;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real proxy on 127.0.0.1 with its metrics port: real clients (raw TCP sending a real JSSE ClientHello, and TLS
 * end to end), then the scraped figures against the traffic sent, and promtool on the exposition.
 */
class ProxyMetricsIT {
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final int PAYLOAD = 100_000;

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<AutoCloseable> closeLast = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeLast.size() - 1; i >= 0; i--) {
            closeLast.get(i).close();
        }
        pool.shutdownNow();
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeLast.add(c);
        return c;
    }

    /**
     * A target that reads one TLS record (the ClientHello) and {@value #PAYLOAD} bytes, answers {@value #PAYLOAD}
     * bytes, then half-closes and waits for the client's end.
     */
    private Endpoint replyingTarget() throws IOException {
        ServerSocket ss = closing(new ServerSocket(0, 50, LOOPBACK));
        pool.submit(() -> {
            while (!ss.isClosed()) {
                Socket s = ss.accept();
                pool.submit(() -> {
                    try (s) {
                        DataInputStream in = new DataInputStream(s.getInputStream());
                        byte[] header = new byte[5];
                        in.readFully(header);
                        in.readFully(new byte[((header[3] & 0xff) << 8 | header[4] & 0xff) + PAYLOAD]);
                        s.getOutputStream().write(new byte[PAYLOAD]);
                        s.shutdownOutput();
                        in.readAllBytes();
                    }
                    return null;
                });
            }
            return null;
        });
        return Endpoint.of("127.0.0.1", ss.getLocalPort());
    }

    /** The ClientHello JSSE sends for {@code serverName} (none when {@code null}). */
    static byte[] clientHello(String serverName) throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, null, null);
        SSLEngine engine = serverName == null ? tls.createSSLEngine() : tls.createSSLEngine(serverName, 443);
        engine.setUseClientMode(true);
        ByteBuffer wire = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), wire);
        return java.util.Arrays.copyOf(wire.array(), wire.position());
    }

    /** Sends {@code first} then {@code payload} bytes through the proxy; returns how many bytes came back. */
    static long exchange(TunnelServer proxy, byte[] first, int payload) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(proxy.localAddress(), 10_000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write(first);
            s.getOutputStream().write(new byte[payload]);
            s.shutdownOutput();
            long n = 0;
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16384];
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
            return n;
        } catch (IOException e) { // a refusal may end with a reset
            return -1;
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    private static Scrape scrapeWhen(MetricsServer http, String what, java.util.function.Predicate<Scrape> ok)
            throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Scrape s = Scrape.of(http);
            if (ok.test(s)) {
                return s;
            }
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for " + what + " in\n" + s.text());
            Thread.sleep(20);
        }
    }

    /** A proxy on 127.0.0.1 serving {@code routes} with its metrics on a loopback port. */
    private record Running(TunnelServer proxy, ProxyMetrics metrics, MetricsServer http) {}

    private Running start(RouteHolder routes) throws IOException {
        ProxyMetrics metrics = ProxyMetrics.watching(routes);
        TunnelServer proxy = closing(Tunnels.server().bind(new InetSocketAddress(LOOPBACK, 0)).routes(routes)
                .listener(TunnelListeners.all(metrics)).eventLoops(2).start());
        metrics.observe(proxy);
        MetricsServer http = closing(MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), metrics));
        return new Running(proxy, metrics, http);
    }

    @Test
    void agentsShowPerPartyInMetricsAndReadyz() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").create();
        TlsMaterial proxyTls = ca.issue(CertificateRequest.server("proxy.fate.org").ip("127.0.0.1")).tlsMaterial();
        RouteHolder routes = new RouteHolder(RouteTable.of(
                PartyRoute.builder("10000.fate.org").agent("10000").build(),
                PartyRoute.builder("10001.fate.org").agent("10001").build()));
        ProxyMetrics metrics = ProxyMetrics.watching(routes);
        TunnelServer proxy = closing(Tunnels.server().bind(new InetSocketAddress(LOOPBACK, 0)).routes(routes)
                .listener(TunnelListeners.all(metrics)).agents(io.fedlink.api.AgentListenerConfig.builder(
                        new InetSocketAddress(LOOPBACK, 0)).tls(io.fedlink.api.ReloadableTlsMaterial.of(proxyTls))
                        .partyDomain("fate.org").build()).start());
        metrics.observe(proxy);
        MetricsServer http = closing(MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), metrics));
        Endpoint broker = replyingTarget();
        closing(io.fedlink.sni.Agent.builder().tls(ca.issue(CertificateRequest.party("10000", "fate.org"))
                .tlsMaterial()).proxy(Endpoint.of("127.0.0.1", proxy.agentAddress().getPort())).target(broker)
                .pool(3).start());
        Scrape s = scrapeWhen(http, "the agent of 10000 with its pool", x -> x.value("fedlink_agent_pool",
                "party", "10000") == 3);
        assertEquals(1, s.value("fedlink_agents_connected", "party", "10000"));
        assertEquals(0, s.value("fedlink_agents_connected", "party", "10001"));
        assertEquals(List.of("10000", "10001"), s.labelValues("fedlink_agents_connected", "party"));
        s.assertPromtoolAccepts();
        assertEquals(PAYLOAD, exchange(proxy, clientHello("10000.fate.org"), PAYLOAD));
        try (Socket c = new Socket(LOOPBACK, proxy.localAddress().getPort())) { // 10001 has no agent: refused
            c.getOutputStream().write(clientHello("10001.fate.org"));
            c.setSoTimeout(20_000);
            assertEquals(-1, c.getInputStream().read());
        }
        Scrape after = scrapeWhen(http, "the refusal", x -> x.value("fedlink_connections_refused_total", "reason",
                "agent_unavailable") == 1);
        assertEquals(1, after.value("fedlink_tunnels_opened_total", "route", "10000.fate.org"));
        var ready = Scrape.get(http, "/readyz");
        assertEquals(200, ready.statusCode(), "a party without its agent does not make the proxy unready");
        assertTrue(ready.body().contains("agent 10000: 1 connected, "), ready.body());
        assertTrue(ready.body().contains("agent 10001: none connected"), ready.body());
    }

    @Test
    void tunnelsAndBytesMatchTheTrafficAndPromtoolAcceptsTheExposition() throws Exception {
        Endpoint target = replyingTarget();
        Running r = start(new RouteHolder(RouteTable.builder().add("10000.fate.org", target)
                .add("*.fate.org", target).build()));
        Scrape.of(r.http()).assertPromtoolAccepts();

        byte[] exact = clientHello("10000.fate.org");
        byte[] wild = clientHello("a.b.fate.org");
        int exactTunnels = 5;
        int wildTunnels = 3;
        for (int i = 0; i < exactTunnels; i++) {
            assertEquals(PAYLOAD, exchange(r.proxy(), exact, PAYLOAD));
        }
        for (int i = 0; i < wildTunnels; i++) {
            assertEquals(PAYLOAD, exchange(r.proxy(), wild, PAYLOAD));
        }
        int all = exactTunnels + wildTunnels;
        Scrape s = scrapeWhen(r.http(), all + " completed tunnels",
                x -> x.value("fedlink_tunnels_closed_total", "reason", "completed") == all);

        assertEquals(all, s.value("fedlink_connections_accepted_total"));
        assertEquals(exactTunnels, s.value("fedlink_tunnels_opened_total", "route", "10000.fate.org"));
        assertEquals(wildTunnels, s.value("fedlink_tunnels_opened_total", "route", "*.fate.org"));
        assertEquals(0, s.value("fedlink_tunnels_live", "route", "10000.fate.org"));
        assertEquals(exactTunnels * (long) (exact.length + PAYLOAD), s.value("fedlink_tunnel_bytes_total",
                "route", "10000.fate.org", "direction", "from_client"));
        assertEquals(exactTunnels * (long) PAYLOAD, s.value("fedlink_tunnel_bytes_total",
                "route", "10000.fate.org", "direction", "to_client"));
        assertEquals(wildTunnels * (long) (wild.length + PAYLOAD), s.value("fedlink_tunnel_bytes_total",
                "route", "*.fate.org", "direction", "from_client"));
        assertEquals(exactTunnels * (long) exact.length + wildTunnels * (long) wild.length + all * (long) PAYLOAD,
                s.value("fedlink_bytes_total", "direction", "from_client"));
        assertEquals(all * (long) PAYLOAD, s.value("fedlink_bytes_total", "direction", "to_client"));
        assertEquals(exactTunnels, s.value("fedlink_tunnel_duration_seconds_count", "route", "10000.fate.org"));
        assertEquals(exactTunnels, s.value("fedlink_tunnel_duration_seconds_bucket", "route", "10000.fate.org",
                "le", "+Inf"));
        assertEquals(wildTunnels, s.value("fedlink_tunnel_setup_seconds_count", "route", "*.fate.org"));
        assertEquals(wildTunnels, s.value("fedlink_connect_seconds_count", "route", "*.fate.org"));
        assertEquals(exactTunnels, s.value("fedlink_connect_seconds_bucket", "route", "10000.fate.org", "le", "+Inf"));
        assertEquals(exactTunnels, s.value("fedlink_client_hello_bytes_count", "route", "10000.fate.org"));
        assertEquals(exactTunnels * (double) exact.length, s.value("fedlink_client_hello_bytes_sum", "route",
                "10000.fate.org"));
        assertEquals(wildTunnels * (double) wild.length, s.value("fedlink_client_hello_bytes_sum", "route",
                "*.fate.org"));
        long le = java.util.Arrays.stream(RouteSeries.HELLO_BOUNDS).filter(b -> b >= exact.length).findFirst()
                .orElseThrow();
        long below = java.util.Arrays.stream(RouteSeries.HELLO_BOUNDS).filter(b -> b < exact.length).max().orElse(0);
        assertEquals(exactTunnels, s.value("fedlink_client_hello_bytes_bucket", "route", "10000.fate.org", "le",
                le + ".0"), "every hello of " + exact.length + " bytes in the bucket up to " + le);
        if (below > 0) {
            assertEquals(0, s.value("fedlink_client_hello_bytes_bucket", "route", "10000.fate.org", "le",
                    below + ".0"));
        }
        assertEquals(2, s.value("fedlink_route_table_entries"));
        assertEquals(1, s.value("fedlink_route_table_version"));
        assertEquals(1, s.value("fedlink_ready"));
        s.assertPromtoolAccepts();
    }

    @Test
    void refusalsAreCountedByReasonAndRouteLabelsStayBounded() throws Exception {
        Endpoint target = replyingTarget();
        int closedPort;
        try (ServerSocket gone = new ServerSocket(0, 1, LOOPBACK)) {
            closedPort = gone.getLocalPort();
        }
        Running r = start(new RouteHolder(RouteTable.builder().add("10000.fate.org", target)
                .add(PartyRoute.builder("private.fate.org").target(target).allowClients("10.0.0.0/8").build())
                .add("down.fate.org", Endpoint.of("127.0.0.1", closedPort)).build()));

        Random random = new Random(11);
        int unknown = 1_000;
        for (int i = 0; i < unknown; i++) {
            exchange(r.proxy(), clientHello("n" + Long.toHexString(random.nextLong()) + ".example.net"), 0);
        }
        byte[] http = "GET / HTTP/1.1\r\nHost: 10000.fate.org\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        exchange(r.proxy(), http, 0);
        exchange(r.proxy(), http, 0);
        exchange(r.proxy(), clientHello(null), 0);
        exchange(r.proxy(), clientHello("private.fate.org"), 0);
        exchange(r.proxy(), clientHello("down.fate.org"), 0);
        exchange(r.proxy(), clientHello("down.fate.org"), 0);
        int refused = unknown + 6;
        Scrape s = scrapeWhen(r.http(), refused + " refusals", x -> x.samples().stream()
                .filter(p -> p.name().equals("fedlink_connections_refused_total")).mapToDouble(Scrape.Sample::value)
                .sum() == refused && x.value("fedlink_connect_failures_total", "route", "down.fate.org") == 2);

        assertEquals(unknown, s.value("fedlink_connections_refused_total", "reason", "unknown_server_name"));
        assertEquals(2, s.value("fedlink_connections_refused_total", "reason", "not_tls"));
        assertEquals(1, s.value("fedlink_connections_refused_total", "reason", "no_server_name"));
        assertEquals(1, s.value("fedlink_connections_refused_total", "reason", "client_not_allowed"));
        assertEquals(2, s.value("fedlink_connections_refused_total", "reason", "connect_failed"));
        assertEquals(0, s.value("fedlink_tunnels_opened_total", "route", "unknown"));
        assertFalse(s.text().contains("example.net"), "a raw server name became a label");
        assertFalse(s.text().lines().filter(l -> !l.startsWith("fedlink_target_")).anyMatch(l -> l.contains("127.0.0.1")),
                "a client or target address became a label (only fedlink_target_* name configured targets)");
        List<String> configured = List.of("10000.fate.org", "private.fate.org", "down.fate.org", "unknown", "none");
        for (String name : List.of("fedlink_tunnels_opened_total", "fedlink_connect_failures_total",
                "fedlink_tunnel_duration_seconds_bucket")) {
            List<String> routes = s.labelValues(name, "route");
            assertTrue(configured.containsAll(routes), name + " has route labels " + routes);
            assertEquals(configured.size(), routes.size(), name + " has route labels " + routes);
        }
        s.assertPromtoolAccepts();
    }

    /**
     * Target health: a route with two targets, one of them down. The dead one is ejected and counted, both are
     * labelled as configured, a template keeps its spec as label, and promtool accepts the exposition.
     */
    @Test
    void targetStateIsExposedPerConfiguredTarget() throws Exception {
        Endpoint up = replyingTarget();
        Endpoint down;
        try (ServerSocket gone = new ServerSocket(0, 1, LOOPBACK)) {
            down = Endpoint.of("127.0.0.1", gone.getLocalPort());
        }
        RouteHolder routes = new RouteHolder(RouteTable.builder()
                .add(PartyRoute.builder("10000.fate.org").target(down).addTarget(up).build())
                .add(PartyRoute.builder("*.eu.fate.org").target("$1.eu.internal", 6651).build()).build());
        ProxyMetrics metrics = ProxyMetrics.watching(routes);
        TunnelServer proxy = closing(Tunnels.server().bind(new InetSocketAddress(LOOPBACK, 0)).routes(routes)
                .listener(metrics).eventLoops(1).targetFailures(2).targetEjection(Duration.ofMinutes(10)).start());
        metrics.observe(proxy);
        MetricsServer http = closing(MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), metrics));
        Scrape before = Scrape.of(http);
        assertEquals(1, before.value("fedlink_target_up", "route", "10000.fate.org", "target", down.toString()));
        assertEquals(1, before.value("fedlink_target_up", "route", "*.eu.fate.org", "target", "$1.eu.internal:6651"));
        before.assertPromtoolAccepts();

        byte[] hello = clientHello("10000.fate.org");
        for (int i = 0; i < 4; i++) { // round robin: two of them try the dead target first, then fail over
            assertEquals(PAYLOAD, exchange(proxy, hello, PAYLOAD), "connection " + i);
        }
        Scrape s = scrapeWhen(http, "the dead target ejected",
                x -> x.value("fedlink_target_up", "route", "10000.fate.org", "target", down.toString()) == 0);
        assertEquals(2, s.value("fedlink_target_connect_failures_total", "route", "10000.fate.org",
                "target", down.toString()));
        assertEquals(1, s.value("fedlink_target_up", "route", "10000.fate.org", "target", up.toString()));
        assertEquals(0, s.value("fedlink_target_connect_failures_total", "route", "10000.fate.org",
                "target", up.toString()));
        assertEquals(0, s.value("fedlink_target_connections", "route", "10000.fate.org", "target", up.toString()));
        assertEquals(0, s.value("fedlink_connections_refused_total", "reason", "connect_failed"),
                "no client saw the failures");
        assertEquals(java.util.Set.of("10000.fate.org", "*.eu.fate.org"),
                java.util.Set.copyOf(s.labelValues("fedlink_target_up", "route")));
        s.assertPromtoolAccepts();

        routes.swap(RouteTable.of(PartyRoute.of("10000.fate.org", up)));
        Scrape reloaded = Scrape.of(http);
        assertEquals(List.of(up.toString()), reloaded.labelValues("fedlink_target_up", "target"),
                "targets no longer configured are forgotten");
        reloaded.assertPromtoolAccepts();
    }

    @Test
    void readyOnlyWithRoutesLoadedAndNotWhileDraining() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("metrics test CA").create();
        TlsMaterial party = ca.issue(CertificateRequest.party("10000", "fate.org")).tlsMaterial();
        TlsMaterial client = ca.issue(CertificateRequest.client("client-9999")).tlsMaterial();
        SSLServerSocket target = closing((SSLServerSocket) party.serverContext(ClientAuth.REQUIRED)
                .getServerSocketFactory().createServerSocket(0, 5, LOOPBACK));
        CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
            try (SSLSocket s = (SSLSocket) target.accept()) {
                int b = s.getInputStream().read();
                s.getOutputStream().write(b + 1);
                s.getOutputStream().flush();
                return s.getInputStream().read(); // -1 when the client ends
            } catch (IOException e) {
                return -2;
            }
        }, pool);

        RouteHolder routes = new RouteHolder(RouteTable.empty());
        ProxyMetrics metrics = ProxyMetrics.watching(routes);
        MetricsServer http = closing(MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), metrics));
        assertEquals(503, Scrape.get(http, "/readyz").statusCode(), "ready before the proxy started");
        assertEquals(200, Scrape.get(http, "/healthz").statusCode());
        TunnelServer proxy = closing(Tunnels.server().bind(new InetSocketAddress(LOOPBACK, 0)).routes(routes)
                .listener(metrics).eventLoops(1).start());
        metrics.observe(proxy);
        var notYet = Scrape.get(http, "/readyz");
        assertEquals(503, notYet.statusCode());
        assertTrue(notYet.body().contains("no routes loaded"), notYet.body());

        routes.swap(RouteTable.of(PartyRoute.of("10000.fate.org", Endpoint.of("127.0.0.1", target.getLocalPort()))));
        assertEquals(200, Scrape.get(http, "/readyz").statusCode());
        Scrape loaded = Scrape.of(http);
        assertEquals(2, loaded.value("fedlink_route_table_version"));
        assertEquals(1, loaded.value("fedlink_route_table_entries"));
        assertTrue(Math.abs(loaded.value("fedlink_route_table_last_reload_timestamp_seconds")
                - System.currentTimeMillis() / 1000.0) < 3600, "reload time is not now-ish");

        try (Socket plain = new Socket()) {
            plain.connect(proxy.localAddress(), 10_000);
            SSLSocket tls = (SSLSocket) client.clientContext().getSocketFactory()
                    .createSocket(plain, "10000.fate.org", 443, true);
            tls.setSoTimeout(20_000);
            tls.getOutputStream().write(41);
            tls.getOutputStream().flush();
            assertEquals(42, tls.getInputStream().read(), "the TLS tunnel works end to end");
            scrapeWhen(http, "one live tunnel", x -> x.value("fedlink_tunnels_live", "route", "10000.fate.org") == 1);

            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return proxy.close(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    return false;
                }
            }, pool);
            await(() -> !proxy.ready(), "the proxy to start draining");
            var draining = Scrape.get(http, "/readyz");
            assertEquals(503, draining.statusCode(), "ready while draining");
            assertTrue(draining.body().contains("draining"), draining.body());
            assertEquals(200, Scrape.get(http, "/healthz").statusCode());
            assertFalse(drained.isDone(), "the tunnel should still be draining");
            tls.close();
            assertTrue(drained.get(30, TimeUnit.SECONDS), "the tunnel ended by itself within the grace period");
        }
        assertEquals(-1, served.get(30, TimeUnit.SECONDS));
        assertEquals(404, Scrape.get(http, "/other").statusCode());
    }

    /**
     * Issue 22: the registry's state in {@code /readyz} and {@code fedlink_registry_state}. Without a table a failing
     * registry leaves the proxy not ready; with its last good table the proxy is ready (it serves) and says it is
     * degraded and why, on one line whatever the problem's text holds.
     */
    @Test
    void registryStateShowsInReadyzAndItsGauge() throws Exception {
        RouteHolder routes = new RouteHolder(RouteTable.empty());
        AtomicReference<RegistryHealth> health = new AtomicReference<>(
                new RegistryHealth("unreachable", "etcd at https://127.0.0.1:1 is unreachable\r\nsecond line"));
        List<String> states = List.of("ok", "unreachable", "refused", "too_large", "failed");
        ProxyMetrics metrics = ProxyMetrics.watching(routes).registry(states, health::get);
        TunnelServer proxy = closing(Tunnels.server().bind(new InetSocketAddress(LOOPBACK, 0)).routes(routes)
                .listener(metrics).eventLoops(1).start());
        metrics.observe(proxy);
        MetricsServer http = closing(MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), metrics));

        var none = Scrape.get(http, "/readyz");
        assertEquals(503, none.statusCode(), none.body());
        assertEquals("not ready: no routes loaded\nregistry: unreachable\n"
                + "problem: etcd at https://127.0.0.1:1 is unreachable  second line\n", none.body());

        routes.swap(RouteTable.of(PartyRoute.of("10000.fate.org", Endpoint.of("127.0.0.1", 1))));
        var degraded = Scrape.get(http, "/readyz");
        assertEquals(200, degraded.statusCode(), degraded.body());
        assertEquals("ready, degraded: serving the last good table (1 routes)\nregistry: unreachable\n"
                + "problem: etcd at https://127.0.0.1:1 is unreachable  second line\n", degraded.body());
        Scrape s = Scrape.of(http);
        assertEquals(new java.util.TreeSet<>(states), new java.util.TreeSet<>(s.labelValues("fedlink_registry_state",
                "state")), "every state has its series");
        assertEquals(1, s.value("fedlink_registry_state", "state", "unreachable"));
        assertEquals(0, s.value("fedlink_registry_state", "state", "ok"));
        assertEquals(1, s.value("fedlink_ready"), "serving the last good table is ready");
        s.assertPromtoolAccepts();

        health.set(new RegistryHealth("too_large", "x".repeat(5000)));
        var large = Scrape.get(http, "/readyz");
        assertEquals(200, large.statusCode());
        assertTrue(large.body().contains("registry: too_large\nproblem: xxx") && large.body().length() < 1200,
                "the problem is bounded: " + large.body().length());
        assertEquals(1, Scrape.of(http).value("fedlink_registry_state", "state", "too_large"));

        health.set(new RegistryHealth("ok", null));
        var ok = Scrape.get(http, "/readyz");
        assertEquals(200, ok.statusCode());
        assertEquals("ready\nregistry: ok\n", ok.body());
        Scrape after = Scrape.of(http);
        assertEquals(1, after.value("fedlink_registry_state", "state", "ok"));
        assertEquals(0, after.value("fedlink_registry_state", "state", "too_large"));
    }
}
