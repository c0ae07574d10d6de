package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Routes with several targets: the list, the single-target view of it, equality and the refusals. */
class PartyRouteTargetsTest {
    private static final Endpoint A = Endpoint.parse("127.0.0.1:6651");
    private static final Endpoint B = Endpoint.parse("[::1]:6652");

    @Test
    void aListKeepsItsOrderAndTheSingleTargetViewGivesTheFirst() {
        PartyRoute r = PartyRoute.builder("10000.fate.org").target(A).addTarget(B).build();
        assertEquals(List.of(A, B), r.targets());
        assertEquals(A, r.target());
        assertEquals(A, r.targetFor("10000.fate.org"));
        assertEquals(B, r.targetFor(1, "10000.fate.org"));
        assertEquals(List.of("127.0.0.1:6651", "[::1]:6652"), r.targetSpecs());
        assertEquals("127.0.0.1:6651", r.targetSpec());
        assertEquals(2, r.targetCount());
        assertEquals(PartyRoute.Balancing.ROUND_ROBIN, r.balancing());
        assertEquals("10000.fate.org -> [127.0.0.1:6651, [::1]:6652] round_robin", r.toString());
        PartyRoute single = PartyRoute.of("10000.fate.org", A);
        assertEquals(List.of(A), single.targets());
        assertEquals("10000.fate.org -> 127.0.0.1:6651", single.toString());
        assertEquals(single, PartyRoute.builder("10000.fate.org").target(B).target(A).build(), "target() replaces");
    }

    @Test
    void equalityCoversEveryTargetTheirOrderAndThePolicy() {
        PartyRoute ab = PartyRoute.builder("x.org").targets(List.of(A, B)).build();
        assertEquals(ab, PartyRoute.builder("x.org").addTarget(A).addTarget(B).build());
        assertEquals(ab.hashCode(), PartyRoute.builder("x.org").addTarget(A).addTarget(B).build().hashCode());
        assertNotEquals(ab, PartyRoute.builder("x.org").targets(List.of(B, A)).build());
        assertNotEquals(ab, PartyRoute.of("x.org", A));
        assertNotEquals(ab, PartyRoute.builder("x.org").targets(List.of(A, B))
                .balancing(PartyRoute.Balancing.LEAST_CONNECTIONS).build());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> RouteTable.of(ab, PartyRoute.of("X.org", A)));
        assertTrue(dup.getMessage().contains("[127.0.0.1:6651, [::1]:6652] and 127.0.0.1:6651"), dup.getMessage());
    }

    @Test
    void templatesEachFollowTheTemplateRules() {
        PartyRoute r = PartyRoute.builder("*.fate.org").target("$1.a.internal", 6651).addTarget("$1.b.internal", 6652)
                .build();
        assertTrue(r.isTemplate());
        assertEquals(List.of(), r.targets());
        assertNull(r.target());
        assertEquals(Endpoint.parse("p.b.internal:6652"), r.targetFor(1, "p.fate.org"));
        assertEquals(List.of("$1.a.internal:6651", "$1.b.internal:6652"), r.targetSpecs());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PartyRoute.builder("*.fate.org").target("$1.a.internal", 1).addTarget("$1", 2).build());
        assertTrue(e.getMessage().contains("must keep a fixed DNS suffix after $1"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1:1,127.0.0.1:1| route 'x.org' lists target '127.0.0.1:1' twice",
        "127.0.0.1:1,$1.internal:2| route 'x.org': target '$1.internal' uses $1 but the name is not a *.suffix",
        "127.0.0.1:1,bad_host:2| route 'x.org': invalid host 'bad_host'",
        "127.0.0.1:1,127.0.0.1:0| route 'x.org': invalid port 0",
    })
    void refusalsNameTheRouteAndTheTarget(String targets, String message) {
        PartyRoute.Builder b = PartyRoute.builder("x.org");
        for (String t : targets.split(",")) {
            int colon = t.lastIndexOf(':');
            b.addTarget(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1)));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void mixingTemplatesAndFixedTargetsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PartyRoute.builder("*.fate.org").target("$1.internal", 1).addTarget(A).build());
        assertTrue(e.getMessage().contains("route '*.fate.org' mixes $1 templates and fixed targets"),
                e.getMessage());
    }

    @Test
    void theListIsCappedNamingTheRoute() {
        List<Endpoint> many = new ArrayList<>();
        for (int i = 1; i <= PartyRoute.MAX_TARGETS; i++) {
            many.add(Endpoint.of("127.0.0.1", i));
        }
        assertEquals(64, PartyRoute.builder("x.org").targets(many).build().targetCount());
        many.add(Endpoint.of("127.0.0.1", 65));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PartyRoute.builder("x.org").targets(many).build());
        assertEquals("route 'x.org' has 65 targets, more than the 64 a route may list", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PartyRoute.builder("x.org").build());
    }

    @ParameterizedTest
    @CsvSource({"round_robin, ROUND_ROBIN", "least-connections, LEAST_CONNECTIONS", "LEAST_CONNECTIONS, LEAST_CONNECTIONS"})
    void policiesParse(String text, PartyRoute.Balancing expected) {
        assertEquals(expected, PartyRoute.Balancing.parse(text));
    }

    @Test
    void anUnknownPolicyIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PartyRoute.Balancing.parse("random"));
        assertEquals("balancing 'random' must be round_robin or least_connections", e.getMessage());
    }
}
