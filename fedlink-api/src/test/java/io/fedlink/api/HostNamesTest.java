package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HostNamesTest {
    @ParameterizedTest
    @ValueSource(strings = {"10000.fate.org", "a", "xn--bcher-kva.example", "A-B.c-d.E", "fate.org.", "1.2.3.4.5"})
    void acceptsDnsNames(String name) {
        assertTrue(HostNames.isDnsName(name), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "a..b", ".a", "-a.b", "a-.b", "a_b.org", "a b", "bücher.de", "a.b..", "*.fate.org",
            "a\u0000b"})
    void refusesOthers(String name) {
        assertFalse(HostNames.isDnsName(name), name);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostNames.canonicalDnsName(name));
        assertTrue(e.getMessage().contains("invalid DNS name"), e.getMessage());
    }

    @Test
    void labelAndNameLengthLimits() {
        String label63 = "a".repeat(63);
        assertTrue(HostNames.isDnsName(label63 + ".org"));
        assertEquals("label longer than 63 characters at offset 0", HostNames.dnsNameProblem("a".repeat(64) + ".org"));
        String name253 = (label63 + ".").repeat(3) + "a".repeat(61);
        assertEquals(253, name253.length());
        assertTrue(HostNames.isDnsName(name253));
        assertTrue(HostNames.isDnsName(name253 + "."), "trailing dot does not count");
        assertEquals("longer than 253 characters", HostNames.dnsNameProblem(name253 + "a"));
    }

    @Test
    void canonicalFormIsLowerCaseWithoutTrailingDot() {
        assertEquals("10000.fate.org", HostNames.canonicalDnsName("10000.FATE.Org."));
    }

    @Test
    void errorMessagesQuoteAndEscapeTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HostNames.canonicalDnsName("bad\nname"));
        assertEquals("invalid DNS name 'bad\\u000aname': character U+000A not allowed at offset 3", e.getMessage());
        assertTrue(HostNames.quote("x".repeat(500)).endsWith("...(500 chars)'"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "[::1]", "2001:db8::42", "::",
            "::ffff:10.1.2.3", "fe80:0:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4", "0000:0000:0000:0000:0000:0000:0000:0001"})
    void ipLiterals(String text) throws Exception {
        byte[] parsed = HostNames.parseIpLiteral(text);
        String bare = text.startsWith("[") ? text.substring(1, text.length() - 1) : text;
        byte[] expected = InetAddress.getByName(bare).getAddress(); // a literal: no lookup happens
        if (expected.length == 4 && parsed.length == 16) { // Java folds ::ffff:a.b.c.d to IPv4
            parsed = java.util.Arrays.copyOfRange(parsed, 12, 16);
        }
        assertArrayEquals(expected, parsed, text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1:2:3:4:5:6:7:8:9", "1::2::3",
            "fe80::1%eth0", ":::", "[127.0.0.1]", "12345::", "g::1", "localhost", "1::2:3:4:5:6:7:8", "1:2:", ":1:2:3:4:5:6:7",
            "::1.2.3.4.5", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4", "::1:", ".:1", "a.b:1", "1:2:3:4:5:6:7"})
    void notIpLiterals(String text) {
        assertNull(HostNames.parseIpLiteral(text), text);
    }
}
