package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TunnelsTest {
    @Test
    void findsTheTransportRegisteredWithServiceLoader() throws Exception {
        assertEquals("fake", Tunnels.transport(null).name(), "the only transport is the default");
        assertEquals("fake", Tunnels.transport("fake").name());
        TunnelServer s = Tunnels.server().bindLoopback(0).routes(RouteTable.empty()).start();
        assertSame(FakeTransport.last, s);
    }

    @Test
    void unknownTransportNameListsTheAvailableOnes() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tunnels.transport("epoll"));
        assertEquals("no TunnelTransport named 'epoll'; available: [fake]", e.getMessage());
    }

    @Test
    void configDefaultsAndRefusals() {
        TunnelServerConfig c = Tunnels.server().routes(RouteTable.empty()).build();
        assertEquals(443, c.bindAddress().getPort());
        assertEquals(Duration.ofSeconds(10), c.helloTimeout());
        assertEquals(Duration.ofSeconds(5), c.connectTimeout());
        assertEquals(Duration.ZERO, c.idleTimeout());
        assertEquals(16 * 1024, c.maxHelloBytes());
        assertTrue(c.refusalAlerts());
        assertEquals("maxHelloBytes must be 512..65536, was 65537", assertThrows(IllegalArgumentException.class,
                () -> Tunnels.server().routes(RouteTable.empty()).maxHelloBytes(65537).build()).getMessage());
        assertEquals("helloTimeout must be positive, was PT0S", assertThrows(IllegalArgumentException.class,
                () -> Tunnels.server().routes(RouteTable.empty()).helloTimeout(Duration.ZERO).build()).getMessage());
        assertTrue(assertThrows(NullPointerException.class, () -> Tunnels.server().build()).getMessage()
                .contains("routes"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Tunnels.server().bind(Endpoint.parse("proxy.fate.org:443"))).getMessage()
                .contains("must be an IP literal"));
    }

    /** Durations that would overflow the nanosecond deadline arithmetic are refused at the builder, naming the option. */
    @Test
    void durationsAreBounded() {
        TunnelServerConfig.Builder b = Tunnels.server().routes(RouteTable.empty());
        assertEquals("idleTimeout must be at most 30 days (PT720H), was PT3000000H",
                assertThrows(IllegalArgumentException.class, () -> b.idleTimeout(Duration.ofHours(3_000_000)).build())
                        .getMessage());
        b.idleTimeout(Duration.ZERO);
        assertEquals("helloTimeout must be at most 1 hour (PT1H), was PT2H", assertThrows(
                IllegalArgumentException.class, () -> b.helloTimeout(Duration.ofHours(2)).build()).getMessage());
        b.helloTimeout(Duration.ofSeconds(1));
        assertEquals("connectTimeout must be at most 1 hour (PT1H), was PT1000000H", assertThrows(
                IllegalArgumentException.class, () -> b.connectTimeout(Duration.ofHours(1_000_000)).build())
                .getMessage());
        b.connectTimeout(Duration.ofHours(1));
        assertEquals(Duration.ofHours(1), b.idleTimeout(Duration.ofDays(30)).build().connectTimeout());
    }
}
