package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The defaults of {@link TunnelServer} and {@link TunnelStats} that other transports inherit. */
class TunnelServerDefaultsTest {
    /** A tunnel that only records whether it was closed. */
    static final class Recorded implements Tunnel {
        final String name;
        boolean closed;

        Recorded(String name) {
            this.name = name;
        }

        @Override public long id() { return 1; }
        @Override public InetSocketAddress clientAddress() { return new InetSocketAddress(0); }
        @Override public String serverName() { return name; }
        @Override public Endpoint target() { return Endpoint.of("127.0.0.1", 1); }
        @Override public Instant openedAt() { return Instant.EPOCH; }
        @Override public long bytesFromClient() { return 0; }
        @Override public long bytesToClient() { return 0; }
        @Override public boolean isOpen() { return !closed; }
        @Override public CloseReason closeReason() { return closed ? CloseReason.CLOSED_BY_APPLICATION : null; }
        @Override public void close() { closed = true; }
    }

    private static TunnelServer serving(List<Tunnel> tunnels) {
        return new TunnelServer() {
            @Override public InetSocketAddress localAddress() { return new InetSocketAddress(0); }
            @Override public List<Tunnel> tunnels() { return tunnels; }
            @Override public TunnelStats stats() { return new TunnelStats(0, 0, Map.of(), 0, 0, 0, 0, 0, 0); }
            @Override public RouteTable routes() { return RouteTable.empty(); }
            @Override public void routes(RouteTable next) { }
            @Override public boolean close(Duration grace) { return true; }
            @Override public void close() { }
        };
    }

    @Test
    void closeTunnelsClosesWhatThePredicateSelectsAndCountsThem() {
        Recorded a = new Recorded("9999.fate.org");
        Recorded b = new Recorded("10000.fate.org");
        Recorded c = new Recorded("9999.fate.org");
        TunnelServer s = serving(List.of(a, b, c));
        assertEquals(2, s.closeTunnels(t -> "9999.fate.org".equals(t.serverName())));
        assertTrue(a.closed && c.closed);
        assertFalse(b.closed, "another name's tunnel is left alone");
        assertEquals(0, s.closeTunnels(t -> "9999.fate.org".equals(t.serverName())), "closed ones are not counted");
        assertThrows(NullPointerException.class, () -> s.closeTunnels(null));
    }

    @Test
    void statsWithoutCloseReasonsReadZero() {
        TunnelStats old = new TunnelStats(1, 1, Map.of(), 0, 0, 0, 0, 0, 0);
        assertEquals(Map.of(), old.closed());
        assertEquals(0, old.closed(CloseReason.ROTATED));
        TunnelStats now = new TunnelStats(1, 1, Map.of(), 0, 0, 0, 0, 0, 0, Map.of(CloseReason.ROTATED, 3L));
        assertEquals(3, now.closed(CloseReason.ROTATED));
    }
}
