package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.federation.Party;
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

    static FederationSnapshot decode(String partyKey, String value) {
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
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"reach\":\"tunnel\"} | field 'reach' must be \"direct\" or \"agent\"",
        "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\",\"reach\":1}  | field 'reach' must be",
    })
    void badPartyValueIsSkippedNamingItsKeyAndTheRestIsKept(String value, String reason) {
        FederationSnapshot f = decode(KEYS.partyKey("9999"), value);
        assertEquals(List.of("10000"), List.copyOf(f.parties().keySet()));
        String why = f.skipped().get(KEYS.partyKey("9999"));
        assertTrue(why != null && why.contains(reason) && why.contains("/fedlink/fl/parties/9999"), why);
        assertTrue(f.routeTable().resolve("10000.fate.org") != null);
        assertNull(f.routeTable().resolve("9999.fate.org"));
    }

    @Test
    void validPartyGetsDefaultsAndRoutes() {
        FederationSnapshot f = decode(KEYS.partyKey("9999"), "{\"version\":1,\"id\":\"9999\",\"host\":\"B.Fate.Internal\","
                + "\"allow\":[\"127.0.0.0/8\"],\"egress\":[\"127.0.0.1/32\"]}");
        Party p = f.party("9999");
        assertEquals("b.fate.internal", p.host());
        assertEquals(6650, p.port());
        assertEquals(6651, p.sslPort());
        assertEquals("9999.fate.org -> b.fate.internal:6651 allow [127.0.0.0/8]",
                f.routeTable().resolve("9999.fate.org").toString());
        assertEquals(p, FederationJson.party("again", FederationJson.bytes(p), "9999", f.settings()), "round trip");
        assertEquals(f.settings(), FederationJson.settings("again", FederationJson.bytes(f.settings())));
    }

    @Test
    void aPartyReachedThroughItsAgentRoundTrips() {
        FederationSnapshot f = decode(KEYS.partyKey("9999"), "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\","
                + "\"reach\":\"agent\"}");
        Party p = f.party("9999");
        assertTrue(p.viaAgent());
        assertEquals("9999.fate.org -> agent:9999", f.routeTable().resolve("9999.fate.org").toString());
        assertTrue(new String(FederationJson.bytes(p), StandardCharsets.UTF_8).contains("\"reach\":\"agent\""));
        assertEquals(p, FederationJson.party("again", FederationJson.bytes(p), "9999", f.settings()), "round trip");
        Party direct = decode(KEYS.partyKey("9999"), "{\"version\":1,\"id\":\"9999\",\"host\":\"h.org\","
                + "\"reach\":\"direct\"}").party("9999");
        assertTrue(!direct.viaAgent() && !new String(FederationJson.bytes(direct), StandardCharsets.UTF_8)
                .contains("reach"), "a direct party is written as before");
    }

    @Test
    void invalidSettingsSkipEveryParty() {
        Map<String, byte[]> values = Map.of(
                KEYS.settingsKey(), utf8("{\"version\":1,\"domain\":\"fate..org\",\"proxy\":\"p:1\"}"),
                KEYS.partyKey("1"), utf8("{\"version\":1,\"id\":\"1\",\"host\":\"h.org\"}"));
        FederationSnapshot f = new FederationDecoder(KEYS).decode(values, 1);
        assertNull(f.settings());
        assertTrue(f.skipped().get(KEYS.settingsKey()).contains("'fate..org'"), f.skipped().toString());
        assertTrue(f.routeTable().routes().isEmpty());
    }

    @Test
    void keysRefuseBadFederationNames() {
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
