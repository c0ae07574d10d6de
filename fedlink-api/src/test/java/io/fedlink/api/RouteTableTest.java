package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteTableTest {
    private static final Endpoint P10000 = Endpoint.parse("192.168.0.2:6651");
    private static final Endpoint P9999 = Endpoint.parse("192.168.0.3:6651");
    private static final Endpoint FATE = Endpoint.parse("127.0.0.10:6651");
    private static final Endpoint EU = Endpoint.parse("127.0.0.11:6651");
    private static final Endpoint OTHER = Endpoint.parse("127.0.0.12:6651");
    private static final Endpoint BARE = Endpoint.parse("127.0.0.13:6651");

    private final RouteTable table = RouteTable.builder()
            .add("10000.fate.org", P10000)
            .add("9999.FATE.org.", P9999)
            .add("*.fate.org", FATE)
            .add("*.eu.fate.org", EU)
            .build();

    private static Endpoint target(RouteTable t, String name) {
        PartyRoute r = t.resolve(name);
        return r == null ? null : r.targetFor(name == null ? null : RouteTable.canonicalOrNull(name));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "none", value = {
        "10000.fate.org, 192.168.0.2:6651",
        "10000.FATE.ORG, 192.168.0.2:6651",
        "10000.fate.org., 192.168.0.2:6651",
        "9999.fate.org, 192.168.0.3:6651",
        "8888.fate.org, 127.0.0.10:6651",       // wildcard covers one label
        "a.b.fate.org, 127.0.0.10:6651",        // ... and several
        "x.eu.fate.org, 127.0.0.11:6651",       // the longest suffix wins
        "y.x.EU.fate.org., 127.0.0.11:6651",
        "eu.fate.org, 127.0.0.10:6651",         // *.eu.fate.org does not cover eu.fate.org itself
        "fate.org, none",                       // nor does *.fate.org cover fate.org
        "fate.org.evil.com, none",
        "evilfate.org, none",                   // suffix match is on label boundaries
        "unknown.example, none",
        "bad_name.fate.org, none",              // not a DNS name: never routed
        "'', none",
    })
    void resolves(String name, String expected) {
        assertEquals(expected == null ? null : Endpoint.parse(expected), target(table, name), name);
    }

    @Test
    void noServerNameAndUnknownNameDefaultsAreSeparate() {
        RouteTable onlyUnknown = table.toBuilder().whenUnknownName(OTHER).build();
        assertEquals(OTHER, target(onlyUnknown, "unknown.example"));
        assertNull(onlyUnknown.resolve(null), "a catch-all is not the route for hellos without a name");

        RouteTable onlyMissing = table.toBuilder().whenNoServerName(BARE).build();
        assertEquals(BARE, target(onlyMissing, null));
        assertNull(onlyMissing.resolve("unknown.example"));

        RouteTable both = RouteTable.builder().defaultRoute(OTHER).build();
        assertEquals(OTHER, target(both, null));
        assertEquals(OTHER, target(both, "anything.example"));
        assertEquals(OTHER, target(both, "x.fate.org"));
    }

    @Test
    void catchAllRouteFromPatternStar() {
        RouteTable t = RouteTable.of(PartyRoute.of("10000.fate.org", P10000), PartyRoute.of("*", OTHER));
        assertEquals(OTHER, target(t, "nobody.example"));
        assertEquals(P10000, target(t, "10000.fate.org"));
        assertSame(t.routes().get(1), t.unknownNameRoute());
    }

    @Test
    void ipLiteralNamesAreRoutedOnlyByAnExactEntry() {
        RouteTable t = RouteTable.builder().add("127.0.0.2", P10000).add("::1", P9999).defaultRoute(OTHER).build();
        assertEquals(P10000, target(t, "127.0.0.2"));
        assertEquals(P9999, target(t, "0:0:0:0:0:0:0:1"));
        assertNull(t.resolve("127.0.0.3"), "an IP literal never falls through to the default route");
        assertNull(t.resolve("::2"));
    }

    @Test
    void wildcardTargetTemplateCapturesTheCoveredLabels() {
        RouteTable t = RouteTable.of(PartyRoute.builder("*.fate.org").target("$1.internal", 6651).build());
        assertEquals(Endpoint.parse("10000.internal:6651"), target(t, "10000.Fate.org"));
        assertEquals(Endpoint.parse("a.b.internal:6651"), target(t, "a.b.fate.org"));
        assertEquals("*.fate.org -> $1.internal:6651", t.routes().get(0).toString());
        assertNull(t.routes().get(0).target());
    }

    /** A template must not turn a client-chosen name into an IP literal, a bare number, localhost or one label. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "$1.1| 127.0.0.fate.org| an IP literal",
        "$1.1| 2130706.fate.org| all-numeric",
        "$1.localhost| a.fate.org| localhost",
        "$1.x.localhost| a.fate.org| localhost",
    })
    void templateTargetsNeverBecomeAddressesOrLocalhost(String template, String name, String problem) {
        PartyRoute r = PartyRoute.builder("*.fate.org").target(template, 6651).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.targetFor(name));
        assertTrue(e.getMessage().contains(problem) && e.getMessage().contains(name), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10000.fate.org| $1.internal| uses $1 but the name is not a *.suffix wildcard",
        "*.fate.org| x_$1.internal| invalid target",
        "*.fate.org| $1| must keep a fixed DNS suffix after $1",
        "*.fate.org| x$1| must keep a fixed DNS suffix after $1",
        "*.fate.org| $1.$1.internal| must keep a fixed DNS suffix after $1",
        "*.fate.org| $1.| must keep a fixed DNS suffix after $1",
    })
    void refusesBadTemplates(String name, String host, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PartyRoute.builder(name).target(host, 6651).build());
        assertTrue(e.getMessage().contains(problem) && e.getMessage().contains(name), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "fate..org| invalid server name 'fate..org': empty label",
        "a*.fate.org| '*' is allowed only as the whole first label",
        "*.*.fate.org| invalid wildcard server name '*.*.fate.org'",
        "x.*.fate.org| '*' is allowed only as the whole first label",
        "*.| invalid wildcard server name '*.'",
        "*fate.org| '*' is allowed only as the whole first label",
        "bad_name.org| character '_' not allowed",
        "\"\"| invalid server name '': empty",
    })
    void refusesInvalidNames(String name, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PartyRoute.of(name, P10000));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void refusesDuplicatesNamingThem() {
        RouteTable.Builder b = RouteTable.builder().add("10000.fate.org", P10000).add("*.fate.org", FATE)
                .whenUnknownName(OTHER).whenNoServerName(OTHER);
        assertEquals("duplicate route for server name '10000.fate.org': 192.168.0.2:6651 and 192.168.0.3:6651",
                assertThrows(IllegalArgumentException.class, () -> b.add("10000.FATE.org.", P9999)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.add("*.Fate.Org", P9999))
                .getMessage().contains("'*.fate.org'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.whenUnknownName(P9999))
                .getMessage().contains("'*'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.whenNoServerName(P9999))
                .getMessage().contains("duplicate no-server-name route"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> b.whenNoServerName(PartyRoute.of("x.org", P9999))).getMessage().contains("'x.org'"));
    }

    @Test
    void clientAllowList() throws Exception {
        PartyRoute open = PartyRoute.of("a.org", P10000);
        PartyRoute restricted = PartyRoute.builder("b.org").target(P9999).allowClients("10.0.0.0/8", "::1").build();
        assertTrue(open.allows(InetAddress.getByName("203.0.113.9")));
        assertTrue(restricted.allows(InetAddress.getByName("10.2.3.4")));
        assertTrue(restricted.allows(InetAddress.getByName("::1")));
        assertEquals(false, restricted.allows(InetAddress.getByName("127.0.0.1")));
        assertEquals(ProxyProtocol.NONE, restricted.proxyProtocol());
        assertEquals(ProxyProtocol.V2, PartyRoute.builder("c.org").target(P9999).proxyProtocol(ProxyProtocol.V2)
                .build().proxyProtocol());
    }

    @Test
    void tablesAreImmutableSnapshots() {
        assertThrows(UnsupportedOperationException.class, () -> table.routes().add(PartyRoute.of("x.org", P10000)));
        RouteTable derived = table.toBuilder().add("x.org", OTHER).build();
        assertNull(table.resolve("x.org"));
        assertEquals(OTHER, target(derived, "x.org"));
        assertEquals(4, table.size());
        assertEquals(0, RouteTable.empty().size());
    }

    @Test
    void holderSwapsAtomicallyAndNotifiesEveryListener() {
        RouteHolder holder = new RouteHolder(RouteTable.empty());
        List<String> seen = new ArrayList<>();
        holder.addListener((prev, next) -> seen.add(prev.size() + "->" + next.size()));
        holder.addListener((prev, next) -> {
            throw new IllegalStateException("listener failed");
        });
        holder.addListener((prev, next) -> seen.add("third"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> holder.swap(table));
        assertEquals("listener failed", e.getMessage());
        assertSame(table, holder.current(), "the swap happened even though a listener failed");
        assertEquals(List.of("0->4", "third"), seen);
    }
}
