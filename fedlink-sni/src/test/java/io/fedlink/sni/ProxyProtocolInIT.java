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
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PROXY protocol in (on loopback sockets here, in memory in {@link ProxyProtocolInInMemoryIT}): a trusted source (127.0.0.1) announces the client; the announced address is
 * the one allow lists, the tunnel and the outgoing PROXY header see; untrusted, missing, malformed and late headers
 * are refused and counted, and the proxy keeps serving.
 */
class ProxyProtocolInIT extends ProxyFixture {
    private static final InetAddress OTHER = address(127, 0, 0, 2);

    private static InetAddress address(int a, int b, int c, int d) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Connects from {@code from}, sends {@code bytes} and FIN, returns what came back until EOF. */
    private byte[] exchange(InetAddress from, InetSocketAddress proxy, byte[] bytes) throws IOException {
        try (Socket s = net.connect(proxy, from)) {
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            s.shutdownOutput();
            return s.getInputStream().readAllBytes();
        }
    }

    /** A target that records everything a tunnel brought (the outgoing PROXY header, then the hello). */
    private Loopback.Target recorder(List<byte[]> received) throws IOException {
        return keep(net.target(s -> received.add(s.getInputStream().readAllBytes())));
    }

    @Test
    void aTrustedSourceAnnouncesTheClientToAllowListsTunnelsAndTheTarget() throws Exception {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        Loopback.Target target = recorder(received);
        List<Tunnel> opened = new CopyOnWriteArrayList<>();
        TunnelServer p = proxy(RouteTable.builder().add(PartyRoute.builder("a.example").target(target.endpoint())
                        .allowClients("192.0.2.0/24", "2001:db8::/32").proxyProtocol(ProxyProtocol.V2).build()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32").listener(new TunnelListener() {
                    @Override
                    public void tunnelOpened(Tunnel t) {
                        opened.add(t);
                    }
                }));
        byte[] hello = Hellos.jsse("a.example");
        exchange(Loopback.LOOPBACK, p.localAddress(),
                Hellos.concat(Hellos.ascii("PROXY TCP4 192.0.2.7 127.0.0.1 50123 443\r\n"), hello));
        InetSocketAddress v6Client = new InetSocketAddress("2001:db8::7", 40000);
        exchange(Loopback.LOOPBACK, p.localAddress(), Hellos.concat(ProxyProtocolHeader.encode(ProxyProtocol.V2, v6Client,
                new InetSocketAddress("::1", 443)), hello));
        Loopback.await("two tunnels recorded", 10, () -> received.size() == 2);
        int port = p.localAddress().getPort();
        assertArrayEquals(Hellos.concat(ProxyProtocolHeader.encode(ProxyProtocol.V2,
                new InetSocketAddress("192.0.2.7", 50123), new InetSocketAddress("127.0.0.1", port)), hello),
                received.get(0), "the target sees the announced client, then the hello unchanged");
        assertArrayEquals(Hellos.concat(ProxyProtocolHeader.encode(ProxyProtocol.V2, v6Client,
                new InetSocketAddress("127.0.0.1", port)), hello), received.get(1), "IPv6 client, IPv4 proxy");
        assertEquals(new InetSocketAddress("192.0.2.7", 50123), opened.get(0).clientAddress());
        assertEquals(v6Client, opened.get(1).clientAddress());

        exchange(Loopback.LOOPBACK, p.localAddress(),
                Hellos.concat(Hellos.ascii("PROXY TCP4 198.51.100.1 127.0.0.1 5 443\r\n"), hello));
        Loopback.await("allow list refusal", 10, () -> p.stats().refused(RefusalReason.CLIENT_NOT_ALLOWED) == 1);
        assertEquals(2, p.stats().routed(), "127.0.0.1 itself is not in the allow list: only announced clients");
    }

    @Test
    void untrustedMissingMalformedAndLateHeadersAreRefusedAndCounted() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32").proxyHeaderTimeout(Duration.ofMillis(300)));
        byte[] hello = Hellos.jsse("a.example");
        byte[] header = Hellos.ascii("PROXY TCP4 192.0.2.7 127.0.0.1 50123 443\r\n");

        assertEquals(0, exchange(OTHER, p.localAddress(), Hellos.concat(header, hello)).length);
        assertEquals(hello.length, exchange(OTHER, p.localAddress(), hello).length,
                "an untrusted source without a header is an ordinary client");
        assertEquals(0, exchange(Loopback.LOOPBACK, p.localAddress(), hello).length);
        assertEquals(0, exchange(Loopback.LOOPBACK, p.localAddress(),
                Hellos.concat(Hellos.ascii("PROXY TCP4 192.0.2.7 127.0.0.1 70000 443\r\n"), hello)).length);
        byte[] oversized = new byte[200];
        Arrays.fill(oversized, (byte) '7');
        System.arraycopy(Hellos.ascii("PROXY TCP4 "), 0, oversized, 0, 11);
        assertEquals(0, exchange(Loopback.LOOPBACK, p.localAddress(), oversized).length);
        CompletableFuture<Integer> late = CompletableFuture.supplyAsync(() -> {
            try (Socket s = net.connect(p.localAddress())) {
                s.getOutputStream().write(Arrays.copyOf(header, 10)); // and then nothing
                return s.getInputStream().read();
            } catch (IOException e) {
                return -2;
            }
        });
        assertEquals(-1, late.get(20, TimeUnit.SECONDS), "closed at the header deadline");

        Loopback.await("refusals counted", 10, () -> p.stats().refusedTotal() == 5);
        assertEquals(1, p.stats().refused(RefusalReason.PROXY_HEADER_UNTRUSTED));
        assertEquals(1, p.stats().refused(RefusalReason.PROXY_HEADER_MISSING));
        assertEquals(2, p.stats().refused(RefusalReason.PROXY_HEADER_INVALID));
        assertEquals(1, p.stats().refused(RefusalReason.PROXY_HEADER_TIMEOUT));
        assertEquals(1, p.stats().timeouts(), "a late header is a hello-phase timeout");
        assertEquals(hello.length, exchange(Loopback.LOOPBACK, p.localAddress(), Hellos.concat(header, hello)).length,
                "a good header still works after all that");
        Loopback.await("nothing pending", 10, () -> p.stats().pendingHandshakes() == 0);
    }

    /**
     * IPv6 clients announced by a load balancer count by their /64: a second address of the same /64 is refused at
     * the one-connection cap (and the refusal names it in full), another /64 is not affected; a header whose
     * CRC32c does not match is refused and counted under its own reason.
     */
    @Test
    void announcedIpv6ClientsCountByTheirPrefix() throws Exception {
        Loopback.Target echo = keep(net.echo());
        List<InetSocketAddress> refused = new CopyOnWriteArrayList<>();
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32").maxConnectionsPerClient(1).listener(new TunnelListener() {
                    @Override
                    public void connectionRefused(InetSocketAddress client, String serverName, RefusalReason r) {
                        refused.add(client);
                    }
                }));
        byte[] hello = Hellos.jsse("a.example");
        InetSocketAddress own = new InetSocketAddress("::1", 443);
        try (Socket a = net.connect(p.localAddress())) {
            a.getOutputStream().write(Hellos.concat(ProxyProtocolHeader.encode(ProxyProtocol.V2,
                    new InetSocketAddress("2001:db8:1:2::a", 1000), own), hello));
            assertArrayEquals(hello, a.getInputStream().readNBytes(hello.length), "the first of the /64 is served");
            InetSocketAddress sameSite = new InetSocketAddress("2001:db8:1:2:ffff::b", 1001);
            assertEquals(0, exchange(Loopback.LOOPBACK, p.localAddress(), Hellos.concat(
                    ProxyProtocolHeader.encode(ProxyProtocol.V2, sameSite, own), hello)).length);
            Loopback.await("the refusal reported", 10, () -> refused.size() == 1);
            assertEquals(List.of(sameSite), refused, "the refusal names the announced client in full");
            assertEquals(1, p.stats().refused(RefusalReason.CLIENT_CONNECTION_LIMIT));
            assertEquals(hello.length, exchange(Loopback.LOOPBACK, p.localAddress(), Hellos.concat(
                    ProxyProtocolHeader.encode(ProxyProtocol.V2, new InetSocketAddress("2001:db8:1:3::a", 1002), own),
                    hello)).length, "another /64 is served");
        }
        byte[] v2 = ProxyProtocolHeader.encode(ProxyProtocol.V2, new InetSocketAddress("192.0.2.7", 1), own);
        byte[] withCrc = Arrays.copyOf(v2, v2.length + 7);
        withCrc[15] += 7;
        withCrc[v2.length] = 0x03;
        withCrc[v2.length + 2] = 4;
        withCrc[withCrc.length - 1] = 1; // not the CRC32c of the header
        assertEquals(0, exchange(Loopback.LOOPBACK, p.localAddress(), Hellos.concat(withCrc, hello)).length);
        Loopback.await("the checksum refusal counted", 10,
                () -> p.stats().refused(RefusalReason.PROXY_HEADER_CHECKSUM) == 1);
    }

    @Test
    void aHeaderAndHelloArrivingByteByByteAreReassembled() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.proxyProtocolFrom("127.0.0.0/8"));
        byte[] hello = Hellos.jsse("a.example");
        byte[] all = Hellos.concat(ProxyProtocolHeader.encode(ProxyProtocol.V2, new InetSocketAddress("192.0.2.7", 1),
                new InetSocketAddress("127.0.0.1", 443)), hello);
        try (Socket s = net.connect(p.localAddress())) {
            s.setTcpNoDelay(true);
            for (byte b : all) {
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
            }
            s.shutdownOutput();
            assertArrayEquals(hello, s.getInputStream().readAllBytes(), "the echo got the hello without the header");
        }
    }
}
