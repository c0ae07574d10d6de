package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.NameResolver;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The proxy's TCP behaviour with plain peers: refusals, half-close, resets, limits, timeouts, swaps, drains, load. On
 * loopback sockets (the nio transport) here, in a {@link MemoryNetwork} in {@link SniProxyBehaviourInMemoryIT}.
 */
class SniProxyBehaviourIT extends ProxyFixture {


    private TunnelServer proxy(RouteTable routes) throws IOException {
        return proxy(routes, b -> { });
    }

    private static byte[] hello(String name) {
        return Hellos.jsse(name);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Reads exactly n bytes. */
    private static byte[] read(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        new DataInputStream(in).readFully(b);
        return b;
    }

    @Test
    void echoesAndForwardsTheHelloUnchanged() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build());
        byte[] h = hello("a.example");
        byte[] payload = "after the hello".getBytes(StandardCharsets.US_ASCII);
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(concat(h, payload));
            assertArrayEquals(concat(h, payload), read(s.getInputStream(), h.length + payload.length));
            s.shutdownOutput();
            assertEquals(-1, s.getInputStream().read(), "the echo's FIN came back");
        }
        Loopback.await("tunnel to close", 10, () -> p.stats().liveTunnels() == 0);
        assertEquals(1, p.stats().routed());
    }

    @Test
    void halfCloseFromTheClientKeepsTheOtherDirectionOpen() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        Loopback.Target t = keep(net.target(s -> {
            byte[] all = s.getInputStream().readAllBytes(); // until the client's FIN arrives
            received.complete(all);
            s.getOutputStream().write("reply after your FIN".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
        }));
        List<Tunnel> closed = new CopyOnWriteArrayList<>();
        TunnelServer p = proxy(RouteTable.builder().add("a.example", t.endpoint()).build(),
                b -> b.listener(new TunnelListener() {
                    @Override
                    public void tunnelClosed(Tunnel tunnel) {
                        closed.add(tunnel);
                    }
                }));
        byte[] h = hello("a.example");
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(concat(h, "question".getBytes(StandardCharsets.US_ASCII)));
            s.shutdownOutput();
            assertEquals("reply after your FIN", new String(s.getInputStream().readAllBytes(),
                    StandardCharsets.US_ASCII));
        }
        assertEquals(h.length + 8, received.get(10, TimeUnit.SECONDS).length);
        Loopback.await("close event", 10, () -> closed.size() == 1);
        Tunnel tunnel = closed.get(0);
        assertEquals(CloseReason.COMPLETED, tunnel.closeReason());
        assertEquals(h.length + 8, tunnel.bytesFromClient());
        assertEquals(20, tunnel.bytesToClient());
        assertEquals("a.example", tunnel.serverName());
        assertFalse(tunnel.isOpen());
    }

    @Test
    void aTunnelReportsItsRouteEntryHelloSizeAndConnectTime() throws Exception {
        Loopback.Target echo = keep(net.echo());
        List<Tunnel> opened = new CopyOnWriteArrayList<>();
        TunnelServer p = proxy(RouteTable.builder().add("*.fate.example", echo.endpoint()).build(),
                b -> b.listener(new TunnelListener() {
                    @Override
                    public void tunnelOpened(Tunnel tunnel) {
                        opened.add(tunnel);
                    }
                }));
        byte[] h = hello("10000.fate.example");
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(concat(h, "more".getBytes(StandardCharsets.US_ASCII)));
            read(s.getInputStream(), h.length + 4);
        }
        Loopback.await("open event", 10, () -> opened.size() == 1);
        Tunnel t = opened.get(0);
        assertEquals("*.fate.example", t.route().serverName(), "the configured entry, not the raw name");
        assertEquals("10000.fate.example", t.serverName());
        assertEquals(h.length, t.helloBytes(), "the hello alone, not the bytes behind it");
        assertTrue(t.connectNanos() >= 0, "connect time measured: " + t.connectNanos());
    }

    @Test
    void drainingIsReportedWhileAGracefulCloseWaitsForTunnels() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build());
        assertFalse(p.draining());
        byte[] h = hello("a.example");
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(h);
            read(s.getInputStream(), h.length);
            CompletableFuture<Boolean> closing = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.close(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Loopback.await("draining", 10, p::draining);
            assertFalse(p.ready(), "not ready while draining");
            s.shutdownOutput();
            assertTrue(closing.get(20, TimeUnit.SECONDS), "the tunnel drained by itself");
        }
        assertFalse(p.draining(), "closed, no longer draining");
    }

    @Test
    void halfCloseFromTheTargetKeepsTheClientSending() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        Loopback.Target t = keep(net.target(s -> {
            s.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput(); // target done talking, still listening
            received.complete(s.getInputStream().readAllBytes());
        }));
        TunnelServer p = proxy(RouteTable.builder().add("a.example", t.endpoint()).build());
        byte[] h = hello("a.example");
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(h);
            assertEquals("banner", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            s.getOutputStream().write("still sending".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            byte[] got = received.get(10, TimeUnit.SECONDS);
            assertEquals("still sending", new String(got, h.length, got.length - h.length, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void targetResetIsPassedOnAsReset() throws Exception {
        Loopback.Target t = keep(net.target(s -> {
            s.getInputStream().read();
            s.setSoLinger(true, 0);
            s.close();
        }));
        TunnelServer p = proxy(RouteTable.builder().add("a.example", t.endpoint()).build());
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("a.example"));
            assertThrows(SocketException.class, () -> s.getInputStream().read(), "connection reset");
        }
        Loopback.await("tunnel to close", 10, () -> p.stats().liveTunnels() == 0);
    }

    @Test
    void clientResetIsPassedOnAsReset() throws Exception {
        CompletableFuture<Throwable> targetSaw = new CompletableFuture<>();
        Loopback.Target t = keep(net.target(s -> {
            try {
                InputStream in = s.getInputStream();
                byte[] b = new byte[65536];
                while (in.read(b) >= 0) {
                    // drain until the reset arrives
                }
                targetSaw.complete(null); // a FIN, not a reset
            } catch (IOException e) {
                targetSaw.complete(e);
            }
        }));
        TunnelServer p = proxy(RouteTable.builder().add("a.example", t.endpoint()).build());
        Socket s = net.connect(p.localAddress());
        s.getOutputStream().write(hello("a.example"));
        Loopback.await("tunnel open", 10, () -> p.stats().liveTunnels() == 1);
        s.setSoLinger(true, 0);
        s.close(); // RST
        assertTrue(targetSaw.get(10, TimeUnit.SECONDS) instanceof SocketException, "the target saw a reset");
        Loopback.await("tunnel closed", 10, () -> p.stats().liveTunnels() == 0);
    }

    @Test
    void refusalsAnswerWithAlertsAndNeverConnect() throws Exception {
        Loopback.Target t = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", t.endpoint())
                .add(PartyRoute.builder("private.example").target(t.endpoint()).allowClients("10.0.0.0/8").build())
                .build());
        Object[][] cases = {
                {hello("unknown.example"), RefusalReason.UNKNOWN_SERVER_NAME, 112},
                {Hellos.records(Hellos.clientHello(), 16384), RefusalReason.NO_SERVER_NAME, 112},
                {"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                        RefusalReason.NOT_TLS, 50},
                {Hellos.records(Hellos.clientHello(Hellos.sniExtension("a.example", "b.example")), 16384),
                        RefusalReason.INVALID_SERVER_NAME, 50},
                {hello("private.example"), RefusalReason.CLIENT_NOT_ALLOWED, 49},
                {hello("127.0.0.1"), RefusalReason.UNKNOWN_SERVER_NAME, 112},
        };
        for (Object[] c : cases) {
            long before = p.stats().refused((RefusalReason) c[1]);
            try (Socket s = net.connect(p.localAddress())) {
                s.getOutputStream().write((byte[]) c[0]);
                assertArrayEquals(new byte[] {21, 3, 3, 0, 2, 2, (byte) (int) c[2]}, s.getInputStream().readAllBytes(),
                        c[1].toString());
            }
            assertEquals(before + 1, p.stats().refused((RefusalReason) c[1]), c[1].toString());
        }
        assertEquals(0, t.accepted.size(), "a refusal never connects to a target");
        assertEquals(0, p.stats().routed());
    }

    @Test
    void silentRefusalsJustClose() throws Exception {
        TunnelServer p = proxy(RouteTable.empty(), b -> b.refusalAlerts(false));
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("unknown.example"));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void connectRefusedClosesTheClientAndIsCounted() throws Exception {
        TunnelServer p = proxy(RouteTable.builder().add("a.example", Endpoint.of("127.0.0.1", net.closedPort()))
                .build());
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("a.example"));
            assertEquals(-1, s.getInputStream().read());
        }
        Loopback.await("the refusal to be counted", 10, () -> p.stats().connectFailures() == 1);
        assertEquals(1, p.stats().refused(RefusalReason.CONNECT_FAILED));
        assertEquals(0, p.stats().pendingHandshakes());
    }

    @Test
    void connectTimeout() throws Exception {
        TunnelServer p = proxy(RouteTable.builder().add("a.example", net.unanswered()).build(),
                b -> b.connectTimeout(Duration.ofMillis(300)));
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("a.example"));
            assertEquals(-1, s.getInputStream().read());
        }
        Loopback.await("the timeout to be counted", 10, () -> p.stats().timeouts() == 1);
        assertEquals(1, p.stats().refused(RefusalReason.CONNECT_TIMEOUT));
    }

    @Test
    void slowlorisHitsTheHelloDeadline() throws Exception {
        TunnelServer p = proxy(RouteTable.empty(), b -> b.helloTimeout(Duration.ofMillis(300)));
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(Arrays.copyOf(hello("a.example"), 10)); // and then nothing
            assertEquals(-1, s.getInputStream().read());
        }
        assertEquals(1, p.stats().refused(RefusalReason.HELLO_TIMEOUT));
        assertEquals(0, p.stats().pendingHandshakes());
    }

    @Test
    void idleTunnelsAreClosed() throws Exception {
        Loopback.Target echo = keep(net.echo());
        List<Tunnel> closed = new CopyOnWriteArrayList<>();
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.idleTimeout(Duration.ofMillis(300)).listener(new TunnelListener() {
                    @Override
                    public void tunnelClosed(Tunnel t) {
                        closed.add(t);
                    }
                }));
        try (Socket s = net.connect(p.localAddress())) {
            byte[] h = hello("a.example");
            s.getOutputStream().write(h);
            read(s.getInputStream(), h.length);
            assertThrows(IOException.class, () -> {
                if (s.getInputStream().read() >= 0) {
                    throw new AssertionError("no data expected");
                }
                throw new IOException("closed");
            });
        }
        Loopback.await("close event", 10, () -> closed.size() == 1);
        assertEquals(CloseReason.IDLE_TIMEOUT, closed.get(0).closeReason());
    }

    @Test
    void limitsRefuseNewConnectionsAtOnceAndSpareLiveTunnels() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.maxTunnels(1).maxPendingHandshakes(2));
        byte[] h = hello("a.example");
        try (Socket live = net.connect(p.localAddress())) {
            live.getOutputStream().write(h);
            read(live.getInputStream(), h.length);
            try (Socket over = net.connect(p.localAddress())) {
                assertEquals(-1, over.getInputStream().read(), "over the tunnel limit");
            }
            assertEquals(1, p.stats().refused(RefusalReason.TUNNEL_LIMIT));
            live.getOutputStream().write(7);
            assertEquals(7, live.getInputStream().read(), "the live tunnel is unaffected");
        }
        Loopback.await("tunnel to close", 10, () -> p.stats().liveTunnels() == 0);
        try (Socket a = net.connect(p.localAddress()); Socket b = net.connect(p.localAddress())) {
            Loopback.await("two pending hellos", 10, () -> p.stats().pendingHandshakes() == 2);
            try (Socket c = net.connect(p.localAddress())) {
                assertEquals(-1, c.getInputStream().read(), "over the hello-phase limit");
            }
            assertEquals(1, p.stats().refused(RefusalReason.HANDSHAKE_LIMIT));
        }
    }

    /** With {@code closeUnroutedTunnels(false)}; the default closes it (RouteRemovalIT). */
    @Test
    void routeSwapLeavesLiveTunnelsAloneWhenAskedTo() throws Exception {
        Loopback.Target first = keep(net.target(s -> answerLines(s, "first")));
        Loopback.Target second = keep(net.target(s -> answerLines(s, "second")));
        TunnelServer p = proxy(RouteTable.builder().add("a.example", first.endpoint()).build(),
                b -> b.closeUnroutedTunnels(false));
        byte[] h = hello("a.example");
        try (Socket live = net.connect(p.localAddress())) {
            live.getOutputStream().write(h);
            assertEquals('f', live.getInputStream().read());
            p.routes(RouteTable.builder().add("a.example", second.endpoint()).build());
            try (Socket fresh = net.connect(p.localAddress())) {
                fresh.getOutputStream().write(h);
                assertEquals('s', fresh.getInputStream().read(), "new connections follow the new table");
            }
            live.getOutputStream().write(1);
            assertEquals('f', live.getInputStream().read(), "the live tunnel still reaches the old target");
        }
    }

    /** Writes the tag's first letter once per byte received (the hello's bytes included, one per read). */
    private static void answerLines(Socket s, String tag) throws IOException {
        InputStream in = s.getInputStream();
        byte[] b = new byte[65536];
        while (in.read(b) > 0) {
            s.getOutputStream().write(tag.charAt(0));
        }
    }

    @Test
    void proxyProtocolHeadersAnnounceTheClient() throws Exception {
        CompletableFuture<byte[]> v1 = new CompletableFuture<>();
        CompletableFuture<byte[]> v2 = new CompletableFuture<>();
        Loopback.Target t1 = keep(net.target(s -> v1.complete(s.getInputStream().readAllBytes())));
        Loopback.Target t2 = keep(net.target(s -> v2.complete(s.getInputStream().readAllBytes())));
        TunnelServer p = proxy(RouteTable.builder()
                .add(PartyRoute.builder("v1.example").target(t1.endpoint()).proxyProtocol(ProxyProtocol.V1).build())
                .add(PartyRoute.builder("v2.example").target(t2.endpoint()).proxyProtocol(ProxyProtocol.V2).build())
                .build());
        int clientPort;
        try (Socket s = net.connect(p.localAddress())) {
            clientPort = s.getLocalPort();
            s.getOutputStream().write(hello("v1.example"));
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        }
        String expected = "PROXY TCP4 127.0.0.1 127.0.0.1 " + clientPort + " " + p.localAddress().getPort() + "\r\n";
        byte[] got = v1.get(10, TimeUnit.SECONDS);
        assertEquals(expected, new String(got, 0, expected.length(), StandardCharsets.US_ASCII));
        assertEquals(22, got[expected.length()], "the hello follows the header");
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("v2.example"));
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        }
        byte[] b = v2.get(10, TimeUnit.SECONDS);
        assertArrayEquals(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21,
                0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 1}, Arrays.copyOf(b, 24));
        assertEquals(22, b[28], "the hello follows the 28-byte header");
    }

    @Test
    void ipv6ClientsAndTargets() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        Loopback.Target echo;
        try {
            echo = keep(net.target(v6, 0, s -> s.getOutputStream().write(s.getInputStream().read())));
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here: " + e);
            return;
        }
        TunnelServer p = start(SniProxy.builder().bind(new InetSocketAddress(v6, 0))
                .routes(RouteTable.builder().add("v6.example", Endpoint.of("::1", echo.port())).build()));
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("v6.example"));
            assertEquals(22, s.getInputStream().read());
        }
    }

    @Test
    void thousandConcurrentEchoTunnels() throws Exception {
        Loopback.Target echo = keep(net.echo());
        int n = 1000; // all from 127.0.0.1: lift the per-address hello-phase cap (default 100) for this burst
        TunnelServer p = proxy(RouteTable.builder().add("*.example", echo.endpoint()).build(),
                b -> b.maxHandshakesPerClient(n));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Socket s = net.connect(p.localAddress());
                sockets.add(s);
                s.getOutputStream().write(concat(hello("c" + i + ".example"), ("#" + i).getBytes(StandardCharsets.US_ASCII)));
            }
            Loopback.await("1000 live tunnels", 60, () -> p.stats().liveTunnels() == n);
            for (int i = 0; i < n; i++) {
                byte[] h = hello("c" + i + ".example");
                byte[] tag = ("#" + i).getBytes(StandardCharsets.US_ASCII);
                InputStream in = sockets.get(i).getInputStream();
                byte[] got = read(in, h.length + tag.length);
                assertArrayEquals(tag, Arrays.copyOfRange(got, h.length, got.length), "tunnel " + i);
            }
            assertEquals(n, p.tunnels().size());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        Loopback.await("all tunnels closed", 60, () -> p.stats().liveTunnels() == 0);
        assertEquals(n, p.stats().routed());
    }

    @Test
    void gracefulCloseDrainsThenRefuses() throws Exception {
        CountDownLatch finish = new CountDownLatch(1);
        Loopback.Target t = keep(net.target(s -> {
            s.getInputStream().read(new byte[65536]);
            try {
                finish.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
        }));
        TunnelServer p = start(SniProxy.builder().bindLoopback(0).routes(RouteTable.builder().add("a.example",
                t.endpoint()).build()));
        Socket s = keep(net.connect(p.localAddress()));
        s.getOutputStream().write(hello("a.example"));
        Loopback.await("tunnel open", 10, () -> p.stats().liveTunnels() == 1);
        CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
            try {
                return p.close(Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Loopback.await("the listener to close", 10, () -> !net.listening(p.localAddress()));
        assertFalse(drained.isDone(), "still draining the live tunnel");
        finish.countDown();
        assertEquals("bye", new String(read(s.getInputStream(), 3), StandardCharsets.US_ASCII));
        assertEquals(-1, s.getInputStream().read(), "the target's FIN");
        s.shutdownOutput(); // the client finishes too: the tunnel completes
        assertTrue(drained.get(20, TimeUnit.SECONDS), "drained within the grace period");
    }

    @Test
    void closeAfterGraceAbortsWhatIsLeft() throws Exception {
        Loopback.Target echo = keep(net.echo());
        List<Tunnel> closed = new CopyOnWriteArrayList<>();
        TunnelServer p = start(SniProxy.builder().bindLoopback(0).routes(RouteTable.builder().add("a.example",
                echo.endpoint()).build()).listener(new TunnelListener() {
                    @Override
                    public void tunnelClosed(Tunnel t) {
                        closed.add(t);
                    }
                }));
        Socket s = keep(net.connect(p.localAddress()));
        byte[] h = hello("a.example");
        s.getOutputStream().write(h);
        read(s.getInputStream(), h.length);
        assertFalse(p.close(Duration.ofMillis(100)));
        assertEquals(CloseReason.SERVER_SHUTDOWN, closed.get(0).closeReason());
        assertThrows(IOException.class, () -> {
            if (s.getInputStream().read() < 0) {
                throw new IOException("EOF");
            }
        });
    }

    @Test
    void applicationCanCloseATunnel() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build());
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(hello("a.example"));
            Loopback.await("tunnel open", 10, () -> p.tunnels().size() == 1);
            Tunnel t = p.tunnels().get(0);
            assertEquals(Endpoint.of("127.0.0.1", echo.port()), t.target());
            t.close();
            Loopback.await("tunnel closed", 10, () -> !t.isOpen());
            assertEquals(CloseReason.CLOSED_BY_APPLICATION, t.closeReason());
        }
    }

    @Test
    void slowReaderBoundsProxyMemoryWhileOneGibibyteCrosses() throws Exception {
        long total = 1L << 30;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        CompletableFuture<byte[]> receivedDigest = new CompletableFuture<>();
        CompletableFuture<Long> receivedBytes = new CompletableFuture<>();
        byte[] h = hello("bulk.example");
        Loopback.Target sink = keep(net.target(s -> {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                InputStream in = s.getInputStream();
                read(in, h.length);
                byte[] small = new byte[4096]; // a slow reader: small reads, a digest per chunk
                long n = 0;
                for (int r; (r = in.read(small)) > 0; ) {
                    md.update(small, 0, r);
                    n += r;
                }
                receivedBytes.complete(n);
                receivedDigest.complete(md.digest());
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }));
        LoopServer p = (LoopServer) proxy(RouteTable.builder().add("bulk.example", sink.endpoint())
                .build());
        int maxBuffers = 0;
        try (Socket s = net.connect(p.localAddress())) {
            OutputStream out = s.getOutputStream();
            out.write(h);
            byte[] chunk = new byte[1 << 16];
            new java.util.Random(7).nextBytes(chunk);
            for (long written = 0; written < total; written += chunk.length) {
                chunk[0] = (byte) (written >>> 16);
                out.write(chunk);
                sent.update(chunk);
                maxBuffers = Math.max(maxBuffers, p.buffersInUse());
            }
            s.shutdownOutput();
            assertEquals(total, receivedBytes.get(120, TimeUnit.SECONDS));
            assertArrayEquals(sent.digest(), receivedDigest.get(10, TimeUnit.SECONDS), "every byte, in order");
        }
        assertTrue(maxBuffers <= 2, "one tunnel never holds more than one buffer per direction: " + maxBuffers);
        Loopback.await("buffers back in the pool", 10, () -> p.buffersInUse() == 0);
    }

    @Test
    void idleTunnelsHoldNoBuffer() throws Exception {
        Loopback.Target echo = keep(net.echo());
        LoopServer p = (LoopServer) proxy(RouteTable.builder().add("a.example", echo.endpoint()).build());
        List<Socket> sockets = new ArrayList<>();
        try {
            byte[] h = hello("a.example");
            for (int i = 0; i < 50; i++) {
                Socket s = net.connect(p.localAddress());
                sockets.add(s);
                s.getOutputStream().write(h);
                read(s.getInputStream(), h.length);
            }
            Loopback.await("50 tunnels", 10, () -> p.stats().liveTunnels() == 50);
            // The last echo may reach the client a moment before its buffer goes back to the pool.
            Loopback.await("50 idle tunnels to hold no copy buffer", 10, () -> p.buffersInUse() == 0);
            assertEquals(50, p.stats().liveTunnels());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void helloLargerThanOneBufferUpToTheCap() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.bufferSize(1024).maxHelloBytes(8192));
        byte[] big = Hellos.records(Hellos.clientHello(Hellos.extension(21, new byte[5000]),
                Hellos.sniExtension("a.example")), 16384);
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(big);
            assertArrayEquals(big, read(s.getInputStream(), big.length));
        }
        byte[] tooBig = Hellos.records(Hellos.clientHello(Hellos.extension(21, new byte[9000]),
                Hellos.sniExtension("a.example")), 16384);
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(tooBig);
            assertArrayEquals(new byte[] {21, 3, 3, 0, 2, 2, 50}, s.getInputStream().readAllBytes());
        }
        assertEquals(1, p.stats().refused(RefusalReason.HELLO_TOO_LARGE));
    }

    /** A copy buffer larger than the hello cap must not count the bytes after the hello against the cap. */
    @Test
    void dataRightBehindTheHelloIsNoOversizedHello() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.bufferSize(64 * 1024));
        byte[] all = concat(hello("a.example"), new byte[200 * 1024]);
        for (int i = 0; i < 5; i++) {
            try (Socket s = net.connect(p.localAddress())) {
                s.getOutputStream().write(all); // one write: the proxy's first read sees far more than the 16 KiB cap
                s.shutdownOutput();
                assertEquals(all.length, s.getInputStream().readAllBytes().length);
            }
        }
        assertEquals(0, p.stats().refused(RefusalReason.HELLO_TOO_LARGE));
    }

    @Test
    void dnsNameTargetsAndTemplates() throws Exception {
        Loopback.Target echo = keep(net.echo());
        NameResolver names = host -> {
            if (host.equals("a.internal")) {
                return InetAddress.getLoopbackAddress();
            }
            throw new java.net.UnknownHostException(host);
        };
        TunnelServer p = proxy(RouteTable.builder()
                .add(PartyRoute.builder("*.fate.org").target("$1.internal", echo.port()).build()).build(),
                b -> b.resolver(names));
        // "a.internal" resolves through the resolver pool, off the event loop.
        try (Socket s = net.connect(p.localAddress())) {
            byte[] h = hello("a.fate.org");
            s.getOutputStream().write(h);
            assertArrayEquals(h, read(s.getInputStream(), h.length));
        }
    }

    /** Issue 8 finding 9: a wildcard template must never let the client choose the address dialled. */
    @Test
    void templatesAreNoOpenRelay() throws Exception {
        Loopback.Target echo = keep(net.echo());
        assertThrows(IllegalArgumentException.class,
                () -> PartyRoute.builder("*.fate.org").target("$1", echo.port()).build());
        NameResolver none = host -> {
            throw new java.net.UnknownHostException(host);
        };
        TunnelServer p = proxy(RouteTable.builder()
                .add(PartyRoute.builder("*.fate.org").target("$1.1", echo.port()).build()).build(),
                b -> b.resolver(none));
        for (String name : List.of("127.0.0.fate.org", "2130706.fate.org", "1.2.3.fate.org")) {
            try (Socket s = net.connect(p.localAddress())) {
                s.getOutputStream().write(hello(name));
                assertArrayEquals(new byte[] {21, 3, 3, 0, 2, 2, 112}, s.getInputStream().readAllBytes(), name);
            }
        }
        Loopback.await("three refusals", 10, () -> p.stats().refusedTotal() == 3);
        assertEquals(0, echo.accepted.size(), "nothing was dialled");
        p.routes(p.routes().toBuilder().add("fresh.example", echo.endpoint()).build());
        net.freshTunnel(p.localAddress(), "fresh.example");
    }
}
