package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fedlink.api.PartyRoute;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real HAProxy (Debian's {@code haproxy}) in front of the proxy as an L4 load balancer with {@code send-proxy-v2}:
 * the target behind fedlink learns the original client (127.0.0.2) through fedlink's outgoing PROXY header, and the
 * per-client limits count each client behind the load balancer on its own.
 */
class HaproxyIT extends ProxyFixture {
    @TempDir
    Path dir;

    /** The haproxy binary on the PATH or in /usr/sbin (Debian's place), or {@code null}. */
    private static Path haproxy() {
        for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "haproxy"))) {
                return Path.of(d, "haproxy");
            }
        }
        return null;
    }

    /**
     * Starts HAProxy as an L4 load balancer on a free loopback port in front of {@code backend}, sending a PROXY
     * header ({@code serverOptions}, e.g. {@code send-proxy-v2}); returns the port clients connect to.
     */
    private int haproxyInFront(int backend, String serverOptions) throws Exception {
        Path binary = haproxy();
        Assumptions.assumeTrue(binary != null, "haproxy is not installed (test.sh installs Debian's haproxy)");
        int front = Loopback.freePort();
        int ready = Loopback.freePort(); // bound with the front, never forwarded: probing it reaches no proxy
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                "global",
                "  maxconn 64",
                "defaults",
                "  mode tcp",
                "  timeout connect 5s",
                "  timeout client 30s",
                "  timeout server 30s",
                "frontend fe",
                "  bind 127.0.0.1:" + front,
                "  default_backend be",
                "backend be",
                "  server fedlink 127.0.0.1:" + backend + " " + serverOptions,
                "frontend ready",
                "  bind 127.0.0.1:" + ready,
                "  tcp-request connection reject",
                ""));
        Process haproxy = new ProcessBuilder(binary.toString(), "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        keep(() -> {
            haproxy.destroy();
            haproxy.waitFor();
        });
        Loopback.await("haproxy to listen", 20, () -> {
            try (Socket s = new Socket(Loopback.LOOPBACK, ready)) {
                return true;
            } catch (IOException e) {
                return haproxy.isAlive() ? false : failed(dir);
            }
        });
        return front;
    }

    /** A client socket from {@code 127.0.0.<last>} connected to HAProxy's front port. */
    private Socket clientFrom(int last, int front) throws IOException {
        Socket s = keep(new Socket());
        s.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last}), 0));
        s.connect(new InetSocketAddress(Loopback.LOOPBACK, front), 10_000);
        s.setSoTimeout(20_000);
        return s;
    }

    /** Reads until the peer closes (a TLS alert may come first; a reset counts as closed). */
    private static void closedByThePeer(Socket s) {
        try {
            s.getInputStream().readAllBytes();
        } catch (IOException e) {
            // reset: closed all the same
        }
    }

    @Test
    void theTargetSeesTheClientBehindHaproxy() throws Exception {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        Loopback.Target target = keep(new Loopback.Target(s -> received.add(s.getInputStream().readAllBytes())));
        TunnelServer p = proxy(RouteTable.builder().add(PartyRoute.builder("a.example").target(target.endpoint())
                .allowClients("127.0.0.2/32").proxyProtocol(ProxyProtocol.V1).build()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32"));
        int front = haproxyInFront(p.localAddress().getPort(), "send-proxy-v2 proxy-v2-options crc32c");
        byte[] hello = Hellos.jsse("a.example");
        int clientPort;
        try (Socket s = clientFrom(2, front)) {
            clientPort = s.getLocalPort();
            s.getOutputStream().write(hello);
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        }
        Loopback.await("the target to get the tunnel", 20, () -> received.size() >= 1);
        String expected = "PROXY TCP4 127.0.0.2 127.0.0.1 " + clientPort + " " + p.localAddress().getPort() + "\r\n";
        byte[] got = received.get(0);
        assertEquals(expected, new String(got, 0, Math.min(got.length, expected.length()), StandardCharsets.US_ASCII));
        assertEquals(Arrays.toString(hello), Arrays.toString(Arrays.copyOfRange(got, expected.length(), got.length)),
                "the hello follows unchanged (HAProxy's CRC32c TLV verified on the way)");
        assertEquals(0, p.stats().refusedTotal(), p.stats().refused().toString());
    }

    /**
     * Two clients behind one HAProxy: 127.0.0.2 holds as many connections in the hello phase as
     * {@code maxHandshakesPerClient} allows and its next one is refused; 127.0.0.3, behind the same load balancer
     * address, still gets its tunnel: the cap counts the client the PROXY header announces, not the load balancer.
     */
    @Test
    void oneClientAtItsHandshakeCapDoesNotStopAnotherBehindTheSameHaproxy() throws Exception {
        Loopback.Target target = keep(Loopback.Target.echo());
        List<Tunnel> opened = new CopyOnWriteArrayList<>();
        TunnelServer p = proxy(RouteTable.builder().add(PartyRoute.builder("a.example").target(target.endpoint())
                        .build()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32").maxHandshakesPerClient(2).helloTimeout(Duration.ofMinutes(2))
                        .listener(new TunnelListener() {
                    @Override
                    public void tunnelOpened(Tunnel t) {
                        opened.add(t);
                    }
                }));
        int front = haproxyInFront(p.localAddress().getPort(), "send-proxy-v2");
        clientFrom(2, front);
        clientFrom(2, front); // two silent connections: 127.0.0.2 at its cap
        Loopback.await("two hellos pending", 20, () -> p.stats().pendingHandshakes() == 2);
        Socket third = clientFrom(2, front);
        closedByThePeer(third);
        assertEquals(1, p.stats().refused(RefusalReason.CLIENT_HANDSHAKE_LIMIT));
        byte[] hello = Hellos.jsse("a.example");
        try (Socket other = clientFrom(3, front)) {
            other.getOutputStream().write(hello);
            assertArrayEquals(hello, other.getInputStream().readNBytes(hello.length), "echoed through the tunnel");
        }
        assertEquals(2, p.stats().pendingHandshakes(), "127.0.0.2's two are still waiting");
        assertEquals(1, opened.size());
        assertEquals(InetAddress.getByAddress(new byte[] {127, 0, 0, 3}), opened.get(0).clientAddress().getAddress());
        assertEquals(1, p.stats().refused(RefusalReason.CLIENT_HANDSHAKE_LIMIT), p.stats().refused().toString());
    }

    /** The same with the open-connection cap ({@code maxConnectionsPerClient}), tunnels held open. */
    @Test
    void oneClientAtItsConnectionCapDoesNotStopAnotherBehindTheSameHaproxy() throws Exception {
        Loopback.Target target = keep(Loopback.Target.echo());
        TunnelServer p = proxy(RouteTable.builder().add(PartyRoute.builder("a.example").target(target.endpoint())
                        .build()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32").maxConnectionsPerClient(2));
        int front = haproxyInFront(p.localAddress().getPort(), "send-proxy-v2");
        byte[] hello = Hellos.jsse("a.example");
        for (int i = 0; i < 2; i++) {
            Socket s = clientFrom(2, front);
            s.getOutputStream().write(hello);
            assertArrayEquals(hello, s.getInputStream().readNBytes(hello.length));
        }
        Socket third = clientFrom(2, front);
        third.getOutputStream().write(hello);
        closedByThePeer(third);
        assertEquals(1, p.stats().refused(RefusalReason.CLIENT_CONNECTION_LIMIT));
        try (Socket other = clientFrom(3, front)) {
            other.getOutputStream().write(hello);
            assertArrayEquals(hello, other.getInputStream().readNBytes(hello.length), "echoed through the tunnel");
        }
        assertEquals(1, p.stats().refused(RefusalReason.CLIENT_CONNECTION_LIMIT), p.stats().refused().toString());
    }

    private static boolean failed(Path dir) {
        try {
            throw new AssertionError("haproxy exited: " + Files.readString(dir.resolve("haproxy.log")));
        } catch (IOException e) {
            throw new AssertionError("haproxy exited", e);
        }
    }
}
