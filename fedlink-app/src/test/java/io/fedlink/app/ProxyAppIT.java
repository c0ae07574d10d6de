package io.fedlink.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.TunnelServer;
import io.fedlink.sni.RouteFileSource;
import io.fedlink.sni.SniProxy;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full proxy started from code through {@link ProxyApp}, no CLI: routes from a file that reloads, metrics and
 * health, the admin endpoint on a Unix socket and on TCP with a token, and a drain on close.
 */
class ProxyAppIT {
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    /** A target answering every connection with {@code tag}, then closing. */
    static ServerSocket tagTarget(String tag) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write(tag.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        }, "tag-" + tag);
        t.setDaemon(true);
        t.start();
        return server;
    }

    static byte[] hello(String name) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine e = ctx.createSSLEngine(name, 443);
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setServerNames(java.util.List.of(new SNIHostName(name)));
        e.setSSLParameters(p);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(java.nio.ByteBuffer.allocate(0), out);
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    static String ask(TunnelServer proxy, String name) throws Exception {
        try (Socket s = new Socket(LOOPBACK, proxy.localAddress().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(hello(name));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    static void await(String what, BooleanSupplier ok) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!ok.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    static String get(InetSocketAddress at, String path) throws IOException {
        return BoundedHttpServer.exchange(at, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                Duration.ofSeconds(10), 1 << 20).raw();
    }

    @Test
    void theFullProxyStartsFromCodeWithMetricsAdminAndReload() throws Exception {
        try (ServerSocket a = tagTarget("A"); ServerSocket b = tagTarget("B")) {
            Path routes = dir.resolve("sni.yaml");
            Files.writeString(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + a.getLocalPort()
                    + "\n");
            Path admin = Files.createDirectory(dir.resolve("run"), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------"))).resolve("admin.sock");
            byte[] token = "a-long-random-token".getBytes(StandardCharsets.UTF_8);
            ProxyApp app = ProxyApp.builder(SniProxy.builder().bindLoopback(0).eventLoops(1))
                    .routes(new RouteFileSource(routes, Duration.ofMinutes(10))) // polls rarely: reload() is tested
                    .metrics(new InetSocketAddress(LOOPBACK, 0))
                    .adminSocket(admin)
                    .adminTcp(new InetSocketAddress(LOOPBACK, 0), token)
                    .drain(Duration.ofSeconds(1))
                    .start();
            InetSocketAddress metricsAt = app.metricsAddress();
            try (app) {
                assertEquals(4, app.announcements().size(), app.announcements().toString());
                assertTrue(app.announcements().get(3).startsWith("fedlink proxy listening on "),
                        app.announcements().toString());
                assertEquals("A", ask(app.proxy(), "10000.fate.org"));

                String metrics = get(app.metricsAddress(), "/metrics");
                assertTrue(metrics.contains("fedlink_tunnels_opened_total{route=\"10000.fate.org\"} 1.0"), metrics);
                assertTrue(get(app.metricsAddress(), "/readyz").contains("ready"));

                // the admin endpoint on the socket: close the tunnels of a name (none open now)
                var answer = BoundedHttpServer.exchange(UnixDomainSocketAddress.of(admin), "POST "
                        + AdminServer.CLOSE_PATH + "?server-name=10000.fate.org HTTP/1.1\r\nHost: localhost\r\n\r\n",
                        Duration.ofSeconds(10), 1 << 16);
                assertEquals(200, answer.status(), answer.raw());
                assertTrue(answer.body().contains("\"closed\":0"), answer.body());

                Path tmp = dir.resolve("sni.yaml.tmp");
                Files.writeString(tmp, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + b.getLocalPort()
                        + "\n");
                Files.move(tmp, routes, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                app.reload(); // what SIGHUP does
                await("the reloaded route", () -> {
                    try {
                        return "B".equals(ask(app.proxy(), "10000.fate.org"));
                    } catch (Exception e) {
                        return false;
                    }
                });
                assertTrue(get(app.metricsAddress(), "/metrics").contains("fedlink_route_table_version 2.0"));
            }
            assertFalse(app.ready(), "closed");
            assertFalse(Files.exists(admin), "the admin socket file is removed on close");
            assertThrows(IOException.class, () -> get(metricsAt, "/healthz"), "metrics closed too");
        }
    }

    @Test
    void aStartThatFailsClosesWhatItOpened() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, LOOPBACK); ServerSocket a = tagTarget("A")) {
            Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n  tunnel_route:"
                    + " 127.0.0.1:" + a.getLocalPort() + "\n");
            int metricsPort;
            try (ServerSocket free = new ServerSocket(0, 1, LOOPBACK)) {
                metricsPort = free.getLocalPort();
            }
            var b = ProxyApp.builder(SniProxy.builder().bind(new InetSocketAddress(LOOPBACK, busy.getLocalPort())))
                    .routes(new RouteFileSource(routes, Duration.ofSeconds(1)))
                    .metrics(new InetSocketAddress(LOOPBACK, metricsPort));
            java.util.concurrent.atomic.AtomicBoolean ownedClosed = new java.util.concurrent.atomic.AtomicBoolean();
            b.closeWithApp(() -> ownedClosed.set(true)); // e.g. the agent port's TLS file watcher
            assertThrows(IOException.class, b::start, "the proxy's port is taken");
            assertTrue(ownedClosed.get(), "what the app was to own is closed too");
            try (ServerSocket again = new ServerSocket(metricsPort, 1, LOOPBACK)) {
                assertEquals(metricsPort, again.getLocalPort(), "the metrics port was released");
            }
        }
    }
}
