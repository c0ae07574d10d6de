package io.fedlink.sni;

import static io.fedlink.sni.Loopback.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fedlink.api.CloseReason;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21: a party taken out of the routes is cut off at once. When the route table is swapped (by a route source
 * or {@link TunnelServer#routes}), every live tunnel that the new table would no longer send to its target (the name
 * is gone, points elsewhere, or its allow list no longer admits the client) is closed with reason
 * {@link CloseReason#ROUTE_REMOVED}; the others carry on. Loopback sockets through the proxy to echo targets (in memory
 * in {@link RouteRemovalInMemoryIT}).
 */
class RouteRemovalIT extends ProxyFixture {
    @TempDir
    Path dir;

    Loopback.Target echo() throws IOException {
        return keep(net.echo());
    }

    TunnelServer proxy(RouteHolder routes, boolean closeUnrouted) throws IOException {
        return start(SniProxy.builder().bindLoopback(0).eventLoops(2).routes(routes)
                .closeUnroutedTunnels(closeUnrouted));
    }

    /** A tunnel through {@code proxy} for {@code name}, proven live by its echoed hello. */
    Socket tunnel(TunnelServer proxy, String name) throws IOException {
        Socket s = keep(net.connect(proxy.localAddress()));
        byte[] hello = Hellos.jsse(name);
        s.getOutputStream().write(hello);
        assertArrayEquals(hello, s.getInputStream().readNBytes(hello.length), "echoed through the tunnel");
        return s;
    }

    /** Whether the tunnel still carries bytes both ways. */
    static boolean carries(Socket s) {
        try {
            s.getOutputStream().write(7);
            return s.getInputStream().read() == 7;
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until the proxy ended the client's connection (EOF or reset). */
    static void awaitEnded(String what, Socket s) throws Exception {
        s.setSoTimeout(20_000);
        try {
            assertEquals(-1, s.getInputStream().read(), what + ": no byte may arrive");
        } catch (SocketTimeoutException e) {
            fail(what + ": still open after 20 s");
        } catch (IOException reset) {
            // a reset is an end too
        }
    }

    /** A new hello for {@code name} gets a TLS alert and the end of the connection, never the target. */
    void assertRefused(TunnelServer p, String name) throws IOException {
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(Hellos.jsse(name));
            byte[] answer = s.getInputStream().readAllBytes();
            assertTrue(answer.length == 7 && answer[0] == 0x15, "a TLS alert record, not an echo: " + answer.length);
        }
    }

    static long closed(TunnelServer p, CloseReason reason) {
        return p.stats().closed(reason);
    }

    @Test
    void tunnelsWhoseRouteWasRemovedRepointedOrNarrowedAreClosedOthersCarryOn() throws Exception {
        Loopback.Target a = echo();
        Loopback.Target b = echo();
        Loopback.Target c = echo();
        PartyRoute r10000 = PartyRoute.of("10000.fate.org", a.endpoint());
        PartyRoute r9999 = PartyRoute.of("9999.fate.org", b.endpoint());
        PartyRoute r8888 = PartyRoute.of("8888.fate.org", c.endpoint());
        RouteHolder routes = new RouteHolder(RouteTable.of(r10000, r9999, r8888));
        TunnelServer p = proxy(routes, true);
        Socket t10000 = tunnel(p, "10000.fate.org");
        Socket t9999 = tunnel(p, "9999.fate.org");
        Socket t8888 = tunnel(p, "8888.fate.org");

        routes.swap(RouteTable.of(r10000, r8888)); // 9999 removed
        awaitEnded("9999's tunnel after its route was removed", t9999);
        await("counted", 10, () -> closed(p, CloseReason.ROUTE_REMOVED) == 1);
        assertTrue(carries(t10000) && carries(t8888), "the other tunnels carry on");
        assertRefused(p, "9999.fate.org");

        // 10000 points elsewhere now; 8888 admits only another client address.
        routes.swap(RouteTable.of(PartyRoute.of("10000.fate.org", b.endpoint()),
                PartyRoute.builder("8888.fate.org").target(c.endpoint()).allowClients("10.0.0.0/8").build()));
        awaitEnded("10000's tunnel to its old target", t10000);
        awaitEnded("8888's tunnel from a client no longer allowed", t8888);
        await("counted", 10, () -> closed(p, CloseReason.ROUTE_REMOVED) == 3);
        assertTrue(carries(tunnel(p, "10000.fate.org")), "a new tunnel follows the new route");
        await("no tunnel left but the new one", 10, () -> p.tunnels().size() == 1);
    }

    @Test
    void aWildcardThatStillServesTheNameKeepsTheTunnel() throws Exception {
        Loopback.Target a = echo();
        RouteHolder routes = new RouteHolder(RouteTable.of(PartyRoute.of("10000.fate.org", a.endpoint()),
                PartyRoute.of("*.fate.org", a.endpoint())));
        TunnelServer p = proxy(routes, true);
        Socket t = tunnel(p, "10000.fate.org");
        routes.swap(RouteTable.of(PartyRoute.of("*.fate.org", a.endpoint())));
        p.routes(p.routes()); // a second swap, through the server: the pass after it runs after the first one's
        assertTrue(carries(t), "the wildcard still sends the name to the same target");
        assertEquals(0, closed(p, CloseReason.ROUTE_REMOVED));
    }

    @Test
    void optingOutKeepsLiveTunnelsAndStillRefusesNewOnes() throws Exception {
        Loopback.Target a = echo();
        RouteHolder routes = new RouteHolder(RouteTable.of(PartyRoute.of("9999.fate.org", a.endpoint())));
        TunnelServer p = proxy(routes, false);
        Socket t = tunnel(p, "9999.fate.org");
        routes.swap(RouteTable.empty());
        p.routes(RouteTable.empty());
        assertTrue(carries(t), "kept: closeUnroutedTunnels(false)");
        assertRefused(p, "9999.fate.org");
    }

    @Test
    void anEntryDeletedFromTheRouteFileClosesItsTunnels() throws Exception {
        Loopback.Target a = echo();
        Loopback.Target b = echo();
        Path f = Files.writeString(dir.resolve("sni.yaml"), "sni:\n"
                + "  - fqdn: 10000.fate.org\n    tunnel_route: 127.0.0.1:" + a.port() + "\n"
                + "  - fqdn: 9999.fate.org\n    tunnel_route: 127.0.0.1:" + b.port() + "\n");
        RouteFileSource src = new RouteFileSource(f, Duration.ofHours(1));
        keep(src);
        TunnelServer p = proxy(src.start(), true);
        Socket t10000 = tunnel(p, "10000.fate.org");
        Socket t9999 = tunnel(p, "9999.fate.org");
        Files.writeString(f, "sni:\n  - fqdn: 10000.fate.org\n    tunnel_route: 127.0.0.1:" + a.port() + "\n");
        src.poll();
        src.poll();
        awaitEnded("9999's tunnel after its entry left the file", t9999);
        assertTrue(carries(t10000));
    }
}
