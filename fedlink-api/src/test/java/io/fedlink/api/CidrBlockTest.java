package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrBlockTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @ParameterizedTest
    @CsvSource({
        "10.0.0.0/8, 10.255.1.2, true",
        "10.0.0.0/8, 11.0.0.0, false",
        "192.168.0.0/23, 192.168.1.255, true",
        "192.168.0.0/23, 192.168.2.0, false",
        "127.0.0.2, 127.0.0.2, true",
        "127.0.0.2, 127.0.0.3, false",
        "0.0.0.0/0, 8.8.8.8, true",
        "0.0.0.0/0, ::1, false",
        "10.0.0.0/8, ::ffff:10.1.1.1, true",
        "2001:db8::/32, 2001:db8:ffff::1, true",
        "2001:db8::/32, 2001:db9::1, false",
        "::1, ::1, true",
        "::/0, 127.0.0.1, false",
    })
    void contains(String block, String address, boolean expected) throws Exception {
        assertEquals(expected, CidrBlock.parse(block).contains(ip(address)), block + " contains " + address);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10.1.2.3/8| host bits set beyond /8",
        "10.0.0.0/33| prefix must be 0..32",
        "::/129| prefix must be 0..128",
        "10.0.0.0/x| prefix must be 0..32",
        "example.org/8| not an IP address",
        "''| not an IP address",
    })
    void refuses(String text, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CidrBlock.parse(text));
        assertTrue(e.getMessage().contains(problem) && e.getMessage().contains(HostNames.quote(text)), e.getMessage());
    }

    @Test
    void equalityAndText() {
        assertEquals(CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse(" 10.0.0.0/8 "));
        assertEquals("10.0.0.0/8", CidrBlock.parse("10.0.0.0/8").toString());
        assertEquals(128, CidrBlock.parse("::1").prefixLength());
        assertFalse(CidrBlock.parse("10.0.0.0/8").equals(CidrBlock.parse("10.0.0.0/9")));
        assertTrue(CidrBlock.parse("::1").toString().endsWith("/128"));
    }
}
