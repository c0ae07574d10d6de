package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The one rule for party ids: case-insensitive, canonical in lower case, reserved names refused. */
class PartyIdsTest {
    @ParameterizedTest
    @CsvSource({"10000,10000", "9999,9999", "ABC,abc", "Party-7,party-7", "a,a"})
    void canonicalIsLowerCase(String id, String canonical) {
        assertEquals(canonical, PartyIds.canonical(id));
        assertTrue(PartyIds.isValid(id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"root", "ROOT", "Operator", "proxy", "etcdctl", "flink-rest-client", "default", "ca",
        "admin", "superuser", "localhost", "server", "client", "peer", "cli", "pulsar-proxy"})
    void reservedNamesAreRefusedInAnyCase(String id) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PartyIds.canonical(id));
        assertTrue(e.getMessage().contains("'" + id + "'") && e.getMessage().contains("reserved"), e.getMessage());
        assertTrue(PartyIds.isReserved(id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " 10000", "10000.fate.org", "-1", "1-", "a_b", "a b", "é",
        "0123456789012345678901234567890123456789012345678901234567890123"})
    void outsideTheRuleIsRefused(String id) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PartyIds.canonical(id));
        assertTrue(e.getMessage().contains(PartyIds.RULE), e.getMessage());
        assertFalse(PartyIds.isValid(id));
    }

    @org.junit.jupiter.api.Test
    void nullIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> PartyIds.canonical(null));
    }
}
