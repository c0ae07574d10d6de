package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/**
 * Limits per client address: 127.0.0.1 over its limit, 127.0.0.2 and live tunnels unaffected. On loopback sockets
 * here, in memory in {@link ClientLimitsInMemoryIT}.
 */
class ClientLimitsIT extends ProxyFixture {
    private static final byte[] HELLO = Hellos.jsse("a.example");

    /** Opens a tunnel from {@code from} through the echo and checks the hello comes back; kept open. */
    private Socket tunnel(InetAddress from, InetSocketAddress proxy) throws IOException {
        Socket s = keep(net.connect(proxy, from));
        s.getOutputStream().write(HELLO);
        byte[] back = new byte[HELLO.length];
        new DataInputStream(s.getInputStream()).readFully(back);
        assertArrayEquals(HELLO, back);
        return s;
    }

    /** Connects from {@code from} and expects the proxy to close at once without answering. */
    private void refused(InetAddress from, InetSocketAddress proxy) throws IOException {
        try (Socket s = net.connect(proxy, from)) {
            assertEquals(-1, s.getInputStream().read(), "closed without a byte");
        }
    }

    private static InetAddress other() throws IOException {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
    }

    @Test
    void concurrentConnectionsPerClient() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.maxConnectionsPerClient(2));
        Socket first = tunnel(Loopback.LOOPBACK, p.localAddress());
        Socket second = tunnel(Loopback.LOOPBACK, p.localAddress());
        refused(Loopback.LOOPBACK, p.localAddress());
        assertEquals(1, p.stats().refused(RefusalReason.CLIENT_CONNECTION_LIMIT));
        tunnel(other(), p.localAddress());
        for (Socket s : new Socket[] {first, second}) {
            s.getOutputStream().write(7);
            assertEquals(7, s.getInputStream().read(), "live tunnels of the limited client still work");
        }
        first.close();
        Loopback.await("one closed", 10, () -> p.stats().liveTunnels() == 2);
        tunnel(Loopback.LOOPBACK, p.localAddress());
    }

    /**
     * A client at its limit that closes a tunnel may reconnect as soon as the tunnel stops counting as live: its slot
     * is released no later than that (a reconnect was refused at random on a loaded machine while the slot lagged).
     */
    @Test
    void slotIsFreeOnceTheTunnelStopsCountingAsLive() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.maxConnectionsPerClient(1).maxTunnels(1));
        for (int i = 0; i < 1_000; i++) {
            try (Socket s = tunnel(Loopback.LOOPBACK, p.localAddress())) {
                s.setSoLinger(true, 0);
            }
            long end = System.nanoTime() + 10_000_000_000L;
            while (p.stats().liveTunnels() != 0) { // no sleep: reconnect the moment the tunnel stops counting
                assertTrue(System.nanoTime() - end < 0, "tunnel " + i + " still live after 10 s");
                Thread.onSpinWait();
            }
            assertEquals(0, p.stats().refusedTotal(), "refused at reconnect " + i + ": " + p.stats().refused());
        }
    }

    @Test
    void newConnectionsPerSecondPerClient() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.connectionRatePerClient(0.01)); // a burst of one, then one per 100 s
        tunnel(Loopback.LOOPBACK, p.localAddress()).close();
        refused(Loopback.LOOPBACK, p.localAddress());
        refused(Loopback.LOOPBACK, p.localAddress());
        assertEquals(2, p.stats().refused(RefusalReason.CLIENT_RATE_LIMIT));
        tunnel(other(), p.localAddress());
    }
}
