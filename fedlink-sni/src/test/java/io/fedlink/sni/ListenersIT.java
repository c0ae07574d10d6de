package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Each event loop accepts on its own listening socket; the shared port still behaves like one listener. */
class ListenersIT {

    @Test
    void everyLoopAcceptsItsOwnConnections() throws Exception {
        Set<String> acceptingLoops = ConcurrentHashMap.newKeySet();
        try (Loopback.Target echo = Loopback.Target.echo();
             TunnelServer p = SniProxy.builder().bindLoopback(0).eventLoops(2)
                     .routes(RouteTable.builder().add("a.example", echo.endpoint()).build())
                     .listener(new TunnelListener() {
                         @Override
                         public void tunnelOpened(Tunnel t) { // called on the loop that accepted the client
                             acceptingLoops.add(Thread.currentThread().getName());
                         }
                     }).start()) {
            for (int i = 0; i < 32; i++) { // 32 distinct client ports: all on one loop has odds of 2^-31
                Loopback.freshTunnel(p.localAddress(), "a.example");
            }
            assertEquals(32, p.stats().accepted());
            assertEquals(2, acceptingLoops.size(), "loops that accepted: " + acceptingLoops);
        }
    }

    @Test
    void aSecondProxyOnTheSamePortIsRefusedNotJoined() throws Exception {
        try (TunnelServer first = SniProxy.builder().bindLoopback(0).eventLoops(2).routes(RouteTable.empty()).start()) {
            int port = first.localAddress().getPort();
            IOException e = assertThrows(IOException.class,
                    () -> SniProxy.builder().bindLoopback(port).eventLoops(2).routes(RouteTable.empty()).start());
            assertTrue(e.getMessage().startsWith("cannot listen on ") && e.getMessage().contains(":" + port),
                    e.getMessage());
            Loopback.Target echo = Loopback.Target.echo();
            try (echo) {
                first.routes(RouteTable.builder().add("a.example", echo.endpoint()).build());
                for (int i = 0; i < 8; i++) { // every connection still reaches the first proxy
                    Loopback.freshTunnel(first.localAddress(), "a.example");
                }
                assertEquals(8, first.stats().accepted());
            }
        }
    }

    @Test
    void aClosedProxyReleasesThePortForANewOne() throws Exception {
        int port;
        try (TunnelServer first = SniProxy.builder().bindLoopback(0).eventLoops(3).routes(RouteTable.empty()).start()) {
            port = first.localAddress().getPort();
        }
        try (Loopback.Target echo = Loopback.Target.echo();
             TunnelServer again = SniProxy.builder().bindLoopback(port).eventLoops(3)
                     .routes(RouteTable.builder().add("a.example", echo.endpoint()).build()).start()) {
            Loopback.freshTunnel(again.localAddress(), "a.example");
        }
    }
}
