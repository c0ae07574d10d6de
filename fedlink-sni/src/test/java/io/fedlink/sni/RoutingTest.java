package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The routing phase without sockets: a hello's route or refusal, and whether a later table still serves a tunnel. */
class RoutingTest {
    private static final InetAddress CLIENT = addr("10.0.0.7");
    private static final InetAddress STRANGER = addr("192.0.2.1");
    private static final Endpoint BROKER = Endpoint.of("127.0.0.2", 6651);
    private static final PartyRoute PARTY = PartyRoute.builder("10000.fate.org").target(BROKER)
            .allowClients("10.0.0.0/8").build();
    private static final PartyRoute TEMPLATE = PartyRoute.builder("*.fate.org").target("$1.1", 6651).build();
    private static final PartyRoute AGENT = PartyRoute.builder("9999.fate.org").agent("9999").build();
    private static final RouteTable TABLE = RouteTable.of(PARTY, TEMPLATE, AGENT);

    private static InetAddress addr(String ip) {
        try {
            return InetAddress.getByName(ip); // a literal: no lookup
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aKnownNameFromAnAllowedClientGetsItsRoute() {
        Routing.Decision d = Routing.decide(TABLE, "10000.fate.org", CLIENT);
        assertFalse(d.refused());
        assertSame(PARTY, d.route());
    }

    @Test
    void refusalsNameTheirReason() {
        assertEquals(RefusalReason.UNKNOWN_SERVER_NAME, Routing.decide(TABLE, "x.example", CLIENT).refusal());
        assertEquals(RefusalReason.NO_SERVER_NAME, Routing.decide(TABLE, null, CLIENT).refusal());
        Routing.Decision outside = Routing.decide(TABLE, "10000.fate.org", STRANGER);
        assertEquals(RefusalReason.CLIENT_NOT_ALLOWED, outside.refusal());
        assertSame(PARTY, outside.route(), "the route is known, the client is not let in");
        Routing.Decision unfillable = Routing.decide(TABLE, "127.0.0.fate.org", CLIENT); // would make an IP literal
        assertEquals(RefusalReason.UNKNOWN_SERVER_NAME, unfillable.refusal());
        assertFalse(Routing.decide(TABLE, "abc.fate.org", CLIENT).refused(), "a name the template can fill");
    }

    @Test
    void anAgentRouteHasNoTargetToFill() {
        Routing.Decision d = Routing.decide(TABLE, "9999.fate.org", CLIENT);
        assertFalse(d.refused());
        assertTrue(d.route().viaAgent());
        assertNull(d.detail());
    }

    @Test
    void aLaterTableServesATunnelOnlyWhereItStillGoes() {
        assertTrue(Routing.serves(TABLE, "10000.fate.org", CLIENT, PARTY, BROKER));
        RouteTable moved = RouteTable.of(PartyRoute.of("10000.fate.org", Endpoint.of("127.0.0.3", 6651)));
        assertFalse(Routing.serves(moved, "10000.fate.org", CLIENT, PARTY, BROKER), "the target changed");
        RouteTable added = RouteTable.of(PartyRoute.builder("10000.fate.org").target(Endpoint.of("127.0.0.3", 6651))
                .addTarget(BROKER).build());
        assertTrue(Routing.serves(added, "10000.fate.org", STRANGER, PARTY, BROKER), "still listed, no allow list");
        RouteTable narrowed = RouteTable.of(PartyRoute.builder("10000.fate.org").target(BROKER)
                .allowClients("192.168.0.0/16").build());
        assertFalse(Routing.serves(narrowed, "10000.fate.org", CLIENT, PARTY, BROKER), "the client was left out");
        assertFalse(Routing.serves(RouteTable.empty(), "10000.fate.org", CLIENT, PARTY, BROKER), "removed");
    }

    @Test
    void anAgentTunnelIsServedOnlyByTheSamePartysAgent() {
        Endpoint agentAddress = Endpoint.of("127.0.0.5", 40000);
        assertTrue(Routing.serves(TABLE, "9999.fate.org", CLIENT, AGENT, agentAddress));
        RouteTable other = RouteTable.of(PartyRoute.builder("9999.fate.org").agent("10000").build());
        assertFalse(Routing.serves(other, "9999.fate.org", CLIENT, AGENT, agentAddress), "another party's agent");
        RouteTable direct = RouteTable.of(PartyRoute.of("9999.fate.org", agentAddress));
        assertFalse(Routing.serves(direct, "9999.fate.org", CLIENT, AGENT, agentAddress), "agent -> direct");
        assertFalse(Routing.serves(TABLE, "9999.fate.org", CLIENT, PartyRoute.of("9999.fate.org", agentAddress),
                agentAddress), "direct -> agent");
    }
}
