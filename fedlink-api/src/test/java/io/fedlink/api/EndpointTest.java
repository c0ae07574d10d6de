package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EndpointTest {
    @ParameterizedTest
    @CsvSource({
        "192.168.0.2:6651, 192.168.0.2, 6651, 192.168.0.2:6651",
        "10000.FATE.org.:6651, 10000.fate.org, 6651, 10000.fate.org:6651",
        "[::1]:443, ::1, 443, [::1]:443",
        "[2001:DB8::1]:1, 2001:db8::1, 1, [2001:db8::1]:1",
        "proxy.fate.org:65535, proxy.fate.org, 65535, proxy.fate.org:65535",
    })
    void parses(String text, String host, int port, String shown) {
        Endpoint e = Endpoint.parse(text);
        assertEquals(host, e.host());
        assertEquals(port, e.port());
        assertEquals(shown, e.toString());
        assertEquals(e, Endpoint.parse(e.toString()));
    }

    @Test
    void defaultPortOnlyWhenAllowed() {
        assertEquals(Endpoint.of("proxy.fate.org", 443), Endpoint.parse("proxy.fate.org", 443));
        assertEquals(Endpoint.of("::1", 443), Endpoint.parse("[::1]", 443));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("proxy.fate.org"));
        assertEquals("invalid endpoint 'proxy.fate.org': no port", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "host:0| invalid port 0",
        "host:65536| invalid port 65536",
        "host:-1| invalid port -1",
        "host:https| port 'https' is not a number",
        "::1:443| write IPv6 addresses as [address]:port",
        "[::1:443| missing ']'",
        "[::1]443| expected ':port' after ']'",
        "[nothost]:443| not an IPv6 address",
        "bad_host:443| character '_' not allowed",
        "':443'| empty",
    })
    void refusesNamingTheValue(String text, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(text));
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertTrue(e.getMessage().contains(HostNames.quote(text)), e.getMessage());
    }

    @Test
    void socketAddressNeverLooksUpNames() {
        InetSocketAddress named = Endpoint.of("10000.fate.org", 6651).toSocketAddress();
        assertTrue(named.isUnresolved());
        InetSocketAddress ip = Endpoint.of("127.0.0.2", 6651).toSocketAddress();
        assertFalse(ip.isUnresolved());
        assertEquals("127.0.0.2", ip.getAddress().getHostAddress());
        assertTrue(Endpoint.of("::1", 1).isIpLiteral());
        assertFalse(Endpoint.of("a.b", 1).isIpLiteral());
    }
}
