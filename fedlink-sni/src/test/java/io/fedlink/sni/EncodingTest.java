package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RefusalReason;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Bytes the proxy writes itself, checked without sockets: PROXY protocol headers and TLS alert records. */
class EncodingTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.2", 40000);
    private static final InetSocketAddress PROXY = new InetSocketAddress("127.0.0.1", 443);

    @Test
    void proxyProtocolV1() {
        assertEquals("PROXY TCP4 127.0.0.2 127.0.0.1 40000 443\r\n", new String(
                ProxyProtocolHeader.encode(ProxyProtocol.V1, CLIENT, PROXY), StandardCharsets.US_ASCII));
        assertEquals("PROXY TCP6 ::1 ::1 40000 443\r\n", new String(ProxyProtocolHeader.encode(ProxyProtocol.V1,
                new InetSocketAddress("::1", 40000), new InetSocketAddress("::1", 443)), StandardCharsets.US_ASCII)
                .replace("0:0:0:0:0:0:0:1", "::1"));
        assertEquals("PROXY TCP6 0:0:0:0:0:0:0:1 0:0:0:0:0:ffff:7f00:1 40000 443\r\n", new String(
                ProxyProtocolHeader.encode(ProxyProtocol.V1, new InetSocketAddress("::1", 40000), PROXY),
                StandardCharsets.US_ASCII), "mixed families (a client from an incoming PROXY header): IPv4-mapped");
        assertEquals(0, ProxyProtocolHeader.encode(ProxyProtocol.NONE, CLIENT, PROXY).length);
    }

    @Test
    void proxyProtocolV2() {
        assertEquals("0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "7f000002" + "7f000001" + "9c40" + "01bb",
                HexFormat.of().formatHex(ProxyProtocolHeader.encode(ProxyProtocol.V2, CLIENT, PROXY)));
        assertEquals("0d0a0d0a000d0a515549540a" + "21" + "21" + "0024" + "00000000000000000000000000000001"
                + "00000000000000000000ffff7f000001" + "0001" + "01bb", HexFormat.of().formatHex(
                ProxyProtocolHeader.encode(ProxyProtocol.V2, new InetSocketAddress("::1", 1), PROXY)),
                "mixed families (a client from an incoming PROXY header): IPv4-mapped IPv6");
    }

    @Test
    void tlsAlertRecords() {
        assertArrayEquals(new byte[] {21, 3, 3, 0, 2, 2, 112}, TlsAlerts.record(TlsAlerts.forRefusal(
                RefusalReason.UNKNOWN_SERVER_NAME)));
        assertEquals(TlsAlerts.DECODE_ERROR, TlsAlerts.forRefusal(RefusalReason.NOT_TLS));
        assertEquals(TlsAlerts.ACCESS_DENIED, TlsAlerts.forRefusal(RefusalReason.CLIENT_NOT_ALLOWED));
        assertEquals(TlsAlerts.INTERNAL_ERROR, TlsAlerts.forRefusal(RefusalReason.INTERNAL_ERROR));
        assertEquals(-1, TlsAlerts.forRefusal(RefusalReason.TUNNEL_LIMIT), "limits close without an alert");
    }
}
