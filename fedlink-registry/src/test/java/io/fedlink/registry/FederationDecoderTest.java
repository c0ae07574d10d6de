package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Decoding stored values: what is refused, with which message, and that the rest is kept. */
class FederationDecoderTest {
    static final RegistryKeys KEYS = RegistryKeys.of("fl");
    static final String SETTINGS = "{\"version\":1,\"domain\":\"fate.org\",\"proxy\":\"proxy.fate.org:443\"}";

    static Federation decode(String partyKey, String value) {
        Map<String, byte[]> values = new TreeMap<>();
        values.put(KEYS.settingsKey(), SETTINGS.getBytes(StandardCharsets.UTF_8));
        values.put(KEYS.partyKey("10000"), "{\"version\":1,\"id\":\"10000\",\"host\":\"127.0.0.1\"}"
                .getBytes(StandardCharsets.UTF_8));
        values.put(partyKey, value.getBytes(StandardCharsets.UTF_8));
        return new FederationDecoder(KEYS).decode(values, 7);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{not json                                                          | not valid JSON",
        "[1,2]                                                              | expected a JSON object",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"colour\":\"red\"} | unknown field 'colour'",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"a\",\"host\":\"b\"}      | not valid JSON",
        "{\"version\":2,\"id\":\"9999\",\"host\":\"h.org\"}                 | written by a newer fedlink",
        "{\"id\":\"9999\",\"host\":\"h.org\"}                               | \"version\" must be 1",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"bad_host\"}              | 'bad_host'",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"port\":\"80\"} | field 'port' must be a port",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"sslPort\":0}   | field 'sslPort' must be a port",
        "{\"version\":1,\"id\":\"9999\",\"host\":7}                         | field 'host' must be a string",
        "{\"version\":1,\"host\":\"h.org\"}                                 | missing field 'id'",
        "{\"version\":1,\"id\":\"8888\",\"host\":\"h.org\"}                 | does not match its key",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"allow\":\"x\"} | must be a list of CIDR blocks",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"allow\":[\"1.2.3.4/40\"]} | 1.2.3.4/40",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"egress\":\"x\"} | field 'egress' must be a list",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"egress\":[\"10.0.0.1/8\"]} | egress: invalid CIDR",
    })
    void badPartyValueIsSkippedNamingItsKeyAndTheRestIsKept(String value, String reason) {
        Federation f = decode(KEYS.partyKey("9999"), value);
        assertEquals(List.of("10000"), List.copyOf(f.parties().keySet()));
        String why = f.skipped().get(KEYS.partyKey("9999"));
        assertTrue(why != null && why.contains(reason) && why.contains("/fedlink/fl/parties/9999"), why);
        assertTrue(f.routeTable().resolve("10000.fate.org") != null);
        assertNull(f.routeTable().resolve("9999.fate.org"));
    }

    /**
     * The egress rule: off until every party has egress networks; then each route admits only those sources, within
     * its own allow list (an empty meeting admits nobody), and the stored value round-trips.
     */
    @Test
    void egressRestrictsEveryRouteOnceEveryPartyHasIt() throws Exception {
        FederationSettings settings = FederationSettings.of("fate.org", "proxy.fate.org:443", 0, 0);
        PartyEntry a = PartyEntry.of("10000", "10.0.0.2", 0, 0, List.of(), List.of("192.0.2.0/24"), settings);
        PartyEntry b = PartyEntry.of("9999", "10.0.0.3", 0, 0, List.of("198.51.100.0/24"),
                List.of("198.51.100.7"), settings);
        PartyEntry c = PartyEntry.of("8888", "10.0.0.4", 0, 0, List.of("203.0.113.0/24"), List.of("192.0.2.9"),
                settings);
        assertEquals(b, PartyEntry.fromJson("b", b.toJson(), settings));
        java.net.InetAddress fromA = java.net.InetAddress.getByName("192.0.2.5");
        java.net.InetAddress fromB = java.net.InetAddress.getByName("198.51.100.7");
        java.net.InetAddress stranger = java.net.InetAddress.getByName("198.51.100.8");

        io.fedlink.api.RouteTable all = Federation.routes(settings, List.of(a, b, c));
        assertTrue(all.resolve("10000.fate.org").allows(fromA) && all.resolve("10000.fate.org").allows(fromB));
        assertTrue(!all.resolve("10000.fate.org").allows(stranger), "not a party's source");
        assertTrue(all.resolve("9999.fate.org").allows(fromB) && !all.resolve("9999.fate.org").allows(fromA),
                "within its own allow list");
        assertTrue(!all.resolve("8888.fate.org").allows(fromA) && !all.resolve("8888.fate.org").allows(fromB)
                && !all.resolve("8888.fate.org").allows(java.net.InetAddress.getByName("203.0.113.1")),
                "its allow list and the parties' sources do not meet: nobody");

        PartyEntry d = PartyEntry.of("7777", "10.0.0.5", 0, 0, List.of(), settings);
        io.fedlink.api.RouteTable off = Federation.routes(settings, List.of(a, b, d));
        assertTrue(off.resolve("10000.fate.org").allows(stranger), "a party without egress: the rule is off");
        assertTrue(!off.resolve("9999.fate.org").allows(fromA), "allow lists still hold");
    }

    @Test
    void fateTableKeysNumericPartiesAsIntegersAsFatesLoaderLooksThemUp() {
        FederationSettings settings = FederationSettings.of("fate.org", "proxy.fate.org:443", 0, 0);
        String yaml = FateTable.yaml(settings, List.of(PartyEntry.of("10000", "a.fate.internal", 6650, 6651,
                List.of(), settings), PartyEntry.of("edge-1", "b.fate.internal", 6650, 6651, List.of(), settings)));
        java.util.Map<?, ?> loaded = new org.yaml.snakeyaml.Yaml().load(yaml); // route_table.get(int(party_id))
        assertTrue(loaded.containsKey(10000) && loaded.containsKey("edge-1"), yaml);
        assertEquals(List.of("10000", "edge-1"), List.copyOf(FateTable.table(settings, List.of(
                PartyEntry.of("10000", "a.fate.internal", 6650, 6651, List.of(), settings),
                PartyEntry.of("edge-1", "b.fate.internal", 6650, 6651, List.of(), settings))).parties().keySet()));
    }

    @Test
    void validPartyGetsDefaultsAndRoutes() {
        Federation f = decode(KEYS.partyKey("9999"), "{\"version\":1,\"id\":\"9999\",\"host\":\"B.Fate.Internal\","
                + "\"allow\":[\"127.0.0.0/8\"]}");
        PartyEntry p = f.party("9999");
        assertEquals("b.fate.internal", p.host());
        assertEquals(6650, p.port());
        assertEquals(6651, p.sslPort());
        assertEquals("9999.fate.org -> b.fate.internal:6651 allow [127.0.0.0/8]",
                f.routeTable().resolve("9999.fate.org").toString());
        assertEquals(p, PartyEntry.fromJson("again", p.toJson(), f.settings()), "round trip");
    }

    @Test
    void invalidSettingsSkipEveryParty() {
        Map<String, byte[]> values = Map.of(
                KEYS.settingsKey(), utf8("{\"version\":1,\"domain\":\"fate..org\",\"proxy\":\"p:1\"}"),
                KEYS.partyKey("1"), utf8("{\"version\":1,\"id\":\"1\",\"host\":\"h.org\"}"));
        Federation f = new FederationDecoder(KEYS).decode(values, 1);
        assertNull(f.settings());
        assertTrue(f.skipped().get(KEYS.settingsKey()).contains("'fate..org'"), f.skipped().toString());
        assertTrue(f.routeTable().routes().isEmpty());
    }

    @Test
    void settingsRefuseBadValuesNamingThem() {
        assertMessage(() -> FederationSettings.of("fate_org", "p:443", 0, 0), "'fate_org'");
        assertMessage(() -> FederationSettings.of("fate.org", "proxy.fate.org", 0, 0), "'proxy.fate.org'");
        assertMessage(() -> FederationSettings.of("fate.org", "p:443", 65536, 0), "65536");
        assertMessage(() -> PartyEntry.of("default", "h.org", 0, 0, List.of(),
                FederationSettings.of("fate.org", "p:443", 0, 0)), "'default'");
        assertMessage(() -> RegistryKeys.of("a/b"), "'a/b'");
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void assertMessage(Runnable r, String part) {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
