package io.fedlink.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteTable;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The model: the naming rule, validation naming the bad value, and the mappings as golden outputs. */
class FederationTest {
    static final FederationSettings SETTINGS = FederationSettings.of("FATE.org", "proxy.fate.org:443", 0, 0);

    /** Two parties: one on the default ports, one on its own, with an allow list. */
    static Federation twoParties() {
        return Federation.of(SETTINGS, List.of(
                Party.of("10000", "192.168.0.2", 0, 0, List.of(), SETTINGS),
                Party.of("edge-1", "B.Fate.Internal", 16650, 16651, List.of("10.0.0.0/8"), SETTINGS)));
    }

    @Test
    void namingRuleIsIdDotDomain() {
        assertEquals("fate.org", SETTINGS.domain(), "the domain is canonical");
        assertEquals("10000.fate.org", SETTINGS.serverName("10000"));
        assertEquals("edge-1.fate.org", FederationSettings.serverName("edge-1", "fate.org"));
        assertEquals("invalid party id 'a.b': " + io.fedlink.api.PartyIds.RULE,
                assertThrows(IllegalArgumentException.class, () -> SETTINGS.serverName("a.b")).getMessage());
        assertEquals("10000.fate.org", twoParties().fateTable().serverName("10000"), "FATE's table, the same rule");
    }

    @Test
    void routeTableGolden() {
        List<String> routes = twoParties().routeTable().routes().stream().map(PartyRoute::toString).toList();
        assertEquals(List.of("10000.fate.org -> 192.168.0.2:6651",
                "edge-1.fate.org -> b.fate.internal:16651 allow [10.0.0.0/8]"), routes);
    }

    @Test
    void aPartyReachedThroughItsAgentIsRoutedToItsAgentAndKeepsItsFateEntry() {
        Party direct = Party.of("10001", "10.1.0.2", 0, 0, List.of("10.0.0.0/8"), SETTINGS);
        Party agent = direct.reachedThroughAgent();
        assertTrue(agent.viaAgent());
        assertTrue(!direct.viaAgent() && !agent.equals(direct), "reach is part of the party");
        Federation f = Federation.of(SETTINGS, List.of(Party.of("10000", "192.168.0.2", 0, 0, List.of(), SETTINGS),
                agent));
        assertEquals(List.of("10000.fate.org -> 192.168.0.2:6651",
                        "10001.fate.org -> agent:10001 allow [10.0.0.0/8]"),
                f.routeTable().routes().stream().map(PartyRoute::toString).toList());
        assertTrue(f.fateTable().toYaml().contains("10001:\n  host: 10.1.0.2\n"), "FATE's own table is unchanged");
        assertEquals("10001 10.1.0.2:6650/6651 allow [10.0.0.0/8] reach agent", agent.toString());
    }

    @Test
    void fateTableGolden() {
        String yaml = twoParties().fateTable().toYaml();
        assertEquals("""
                default:
                  domain: fate.org
                  proxy: proxy.fate.org:443
                  brokerPort: 6650
                  brokerSslPort: 6651
                10000:
                  host: 192.168.0.2
                  port: 6650
                  sslPort: 6651
                edge-1:
                  host: b.fate.internal
                  port: 16650
                  sslPort: 16651
                """, yaml);
        // FATE looks a party up as route_table.get(int(party_id)): a numeric id must load as an integer key
        Map<?, ?> loaded = new org.yaml.snakeyaml.Yaml().load(yaml);
        assertTrue(loaded.containsKey(10000) && loaded.containsKey("edge-1"), yaml);
        PulsarRouteTable back = PulsarRouteTable.parse(yaml);
        assertEquals(List.of("10000", "edge-1"), List.copyOf(back.parties().keySet()));
        assertEquals(new PulsarRouteTable.Party("edge-1", "b.fate.internal", 16650, 16651, null),
                back.party("edge-1"));
        assertEquals(twoParties().routeTable().resolve("10000.fate.org").target(),
                back.proxyRoutes().resolve("10000.fate.org").target());
    }

    @Test
    void clusterMetadataGolden() {
        // what party 10000's broker registers for 9999: the FATE guide's JSON, byte for byte
        assertEquals("""
                {
                  "serviceUrl" : "",
                  "serviceUrlTls" : "",
                  "brokerServiceUrl" : "pulsar://edge-1.fate.org:6650",
                  "brokerServiceUrlTls" : "pulsar+ssl://edge-1.fate.org:6651",
                  "proxyServiceUrl" : "pulsar+ssl://proxy.fate.org:443",
                  "proxyProtocol" : "SNI",
                  "peerClusterNames" : [ ]
                }""", twoParties().clusterMetadata("edge-1").toJson());
        assertEquals("edge-1", twoParties().clusterMetadata("edge-1").clusterName());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "default  | h.org     | 0     | 0     | 10.0.0.0/8 | invalid party id 'default': 'default' names FATE's default entry",
        "a.b      | h.org     | 0     | 0     | 10.0.0.0/8 | party 'a.b': a party id is letters, digits and '-' (1..63)",
        "9999     | ' '       | 0     | 0     | 10.0.0.0/8 | party '9999': no broker host",
        "9999     | bad_host  | 0     | 0     | 10.0.0.0/8 | party 9999: invalid host 'bad_host'",
        "9999     | h.org     | 70000 | 0     | 10.0.0.0/8 | party 9999: port '70000' is not a port (1..65535)",
        "9999     | h.org     | 0     | -1    | 10.0.0.0/8 | party 9999: sslPort '-1' is not a port (1..65535)",
        "9999     | h.org     | 0     | 0     | 10.0.0.1/8 | party '9999': allow list: invalid CIDR",
    })
    void partyRefusalsNameTheValue(String id, String host, int port, int sslPort, String allow, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Party.of(id, host, port, sslPort, List.of(allow), SETTINGS));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void settingsAndFederationRefusalsNameTheValue() {
        assertMessage(() -> FederationSettings.of("fate_org", "p:443", 0, 0), "invalid domain 'fate_org'");
        assertMessage(() -> FederationSettings.of("fate.org", "proxy.fate.org", 0, 0), "'proxy.fate.org'");
        assertMessage(() -> FederationSettings.of("fate.org", " ", 0, 0), "needs the proxy address");
        assertMessage(() -> FederationSettings.of("fate.org", "p:443", 65536, 0),
                "default: brokerPort '65536' is not a port (1..65535)");
        Party a = Party.of("Edge", "h.org", 0, 0, List.of(), SETTINGS);
        Party b = Party.of("edge", "i.org", 0, 0, List.of(), SETTINGS);
        assertMessage(() -> Federation.of(SETTINGS, List.of(a, b)), "party 'edge' is listed twice");
        // a party valid under one domain, whose server name is too long under another
        String label = "x".repeat(63);
        FederationSettings longDomain = FederationSettings.of(label + "." + label + "." + label + ".org",
                "p:443", 0, 0);
        Party p = Party.of("a" + "1".repeat(62), "h.org", 0, 0, List.of(), SETTINGS);
        assertThrows(IllegalArgumentException.class, () -> Federation.of(longDomain, List.of(p)));
    }

    /**
     * The egress rule: off until every party has egress networks; then each route admits only those sources, within
     * its own allow list (an empty meeting admits nobody).
     */
    @Test
    void egressRestrictsEveryRouteOnceEveryPartyHasIt() throws Exception {
        Party a = Party.of("10000", "10.0.0.2", 0, 0, List.of(), List.of("192.0.2.0/24"), SETTINGS);
        Party b = Party.of("9999", "10.0.0.3", 0, 0, List.of("198.51.100.0/24"), List.of("198.51.100.7"), SETTINGS);
        Party c = Party.of("8888", "10.0.0.4", 0, 0, List.of("203.0.113.0/24"), List.of("192.0.2.9"), SETTINGS);
        InetAddress fromA = InetAddress.getByName("192.0.2.5");
        InetAddress fromB = InetAddress.getByName("198.51.100.7");
        InetAddress stranger = InetAddress.getByName("198.51.100.8");

        RouteTable all = Federation.of(SETTINGS, List.of(a, b, c)).routeTable();
        assertTrue(all.resolve("10000.fate.org").allows(fromA) && all.resolve("10000.fate.org").allows(fromB));
        assertTrue(!all.resolve("10000.fate.org").allows(stranger), "not a party's source");
        assertTrue(all.resolve("9999.fate.org").allows(fromB) && !all.resolve("9999.fate.org").allows(fromA),
                "within its own allow list");
        assertTrue(!all.resolve("8888.fate.org").allows(fromA) && !all.resolve("8888.fate.org").allows(fromB)
                && !all.resolve("8888.fate.org").allows(InetAddress.getByName("203.0.113.1")),
                "its allow list and the parties' sources do not meet: nobody");

        Party d = Party.of("7777", "10.0.0.5", 0, 0, List.of(), SETTINGS);
        RouteTable off = Federation.of(SETTINGS, List.of(a, b, d)).routeTable();
        assertTrue(off.resolve("10000.fate.org").allows(stranger), "a party without egress: the rule is off");
        assertTrue(!off.resolve("9999.fate.org").allows(fromA), "allow lists still hold");
    }

    static void assertMessage(Supplier<?> s, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, s::get);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
