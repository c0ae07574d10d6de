package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RefusalReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The incoming PROXY header parser on bytes: v1/v2, IPv4/IPv6, LOCAL, TLVs, truncated, malformed, oversized. */
class ProxyHeaderParserTest {
    private static final InetSocketAddress PROXY = new InetSocketAddress("127.0.0.1", 443);

    private static ProxyHeaderParser parseAll(byte[] bytes) {
        ProxyHeaderParser p = new ProxyHeaderParser();
        p.parse(ByteBuffer.wrap(bytes), bytes.length);
        return p;
    }

    /** Feeds one byte more each call, as a slow peer would; returns the parser after the last. */
    private static ProxyHeaderParser byteByByte(byte[] bytes) {
        ProxyHeaderParser p = new ProxyHeaderParser();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        for (int n = 1; n <= bytes.length; n++) {
            ProxyHeaderParser.Status s = p.parse(b, n);
            if (n < bytes.length) {
                assertEquals(ProxyHeaderParser.Status.NEED_MORE, s, "after " + n + " of " + bytes.length + " bytes");
            }
        }
        return p;
    }

    private static void assertSource(ProxyHeaderParser p, String host, int port, int headerBytes) {
        assertEquals(ProxyHeaderParser.Status.DONE, p.parse(ByteBuffer.allocate(0), 0));
        assertEquals(new InetSocketAddress(host, port), p.source());
        assertEquals(headerBytes, p.headerBytes());
    }

    private static void assertRefused(RefusalReason reason, ProxyHeaderParser p) {
        assertEquals(ProxyHeaderParser.Status.REFUSED, p.parse(ByteBuffer.allocate(0), 0));
        assertEquals(reason, p.refusalReason(), p.refusalDetail());
    }

    @Test
    void v1AndV2OverIpv4AndIpv6GiveTheClientAddress() {
        InetSocketAddress v4 = new InetSocketAddress("192.0.2.7", 50123);
        InetSocketAddress v6 = new InetSocketAddress("2001:db8::7", 443);
        for (ProxyProtocol version : new ProxyProtocol[] {ProxyProtocol.V1, ProxyProtocol.V2}) {
            for (InetSocketAddress client : new InetSocketAddress[] {v4, v6}) {
                byte[] header = ProxyProtocolHeader.encode(version, client,
                        client == v4 ? PROXY : new InetSocketAddress("::1", 443));
                byte[] withHello = Hellos.concat(header, Hellos.jsse("a.example"));
                ProxyHeaderParser p = parseAll(withHello);
                assertSource(p, client.getHostString(), client.getPort(), header.length);
                assertSource(byteByByte(header), client.getHostString(), client.getPort(), header.length);
            }
        }
    }

    @Test
    void v1LiteralFormsFromTheSpecification() {
        byte[] line = Hellos.ascii("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
        assertSource(parseAll(line), "255.255.255.255", 65535, line.length);
        line = Hellos.ascii("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n");
        assertSource(parseAll(line), "192.0.2.1", 1, line.length);
    }

    @Test
    void localAndUnknownKeepTheSocketPeer() {
        ProxyHeaderParser p = parseAll(Hellos.ascii("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"));
        assertEquals(ProxyHeaderParser.Status.DONE, p.parse(ByteBuffer.allocate(0), 0));
        assertNull(p.source());
        byte[] local = v2(0x20, 0x00, new byte[0]);
        p = parseAll(local);
        assertEquals(ProxyHeaderParser.Status.DONE, p.parse(ByteBuffer.allocate(0), 0));
        assertNull(p.source());
        assertEquals(16, p.headerBytes());
    }

    @Test
    void v2TlvsAreSkipped() {
        byte[] addresses = {(byte) 198, 51, 100, 9, 127, 0, 0, 1, (byte) 0xC3, 0x50, 1, (byte) 0xBB};
        byte[] tlv = {0x04, 0x00, 0x03, 'a', 'b', 'c', 0x01, 0x00, 0x02, 'h', '2'}; // NOOP and ALPN
        byte[] header = v2(0x21, 0x11, Hellos.concat(addresses, tlv));
        assertSource(parseAll(Hellos.concat(header, Hellos.jsse("a.example"))), "198.51.100.9", 50000, header.length);
    }

    @Test
    void truncatedHeadersWaitForMore() {
        byte[] v1 = Hellos.ascii("PROXY TCP4 192.0.2.7 127.0.0.1 5 443\r\n");
        ProxyHeaderParser p = new ProxyHeaderParser();
        assertEquals(ProxyHeaderParser.Status.NEED_MORE, p.parse(ByteBuffer.wrap(v1), v1.length - 1));
        byte[] v2 = ProxyProtocolHeader.encode(ProxyProtocol.V2, new InetSocketAddress("192.0.2.7", 5), PROXY);
        p = new ProxyHeaderParser();
        assertEquals(ProxyHeaderParser.Status.NEED_MORE, p.parse(ByteBuffer.wrap(v2), v2.length - 1));
        assertEquals(ProxyHeaderParser.Status.NEED_MORE, p.parse(ByteBuffer.wrap(v2), 3));
    }

    @Test
    void oversizedHeadersAreRefused() {
        byte[] longLine = new byte[ProxyHeaderParser.MAX_V1_BYTES];
        Arrays.fill(longLine, (byte) '1');
        System.arraycopy(Hellos.ascii("PROXY TCP4 "), 0, longLine, 0, 11);
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(longLine));
        byte[] big = v2(0x21, 0x11, new byte[ProxyHeaderParser.MAX_V2_BYTES - 16 + 1]);
        ProxyHeaderParser p = new ProxyHeaderParser();
        assertEquals(ProxyHeaderParser.Status.REFUSED, p.parse(ByteBuffer.wrap(big), 16), "refused from the length");
        assertEquals(RefusalReason.PROXY_HEADER_INVALID, p.refusalReason());
    }

    @Test
    void malformedHeadersAreRefused() {
        for (String bad : new String[] {
            "PROXY TCP4 192.0.2.7 127.0.0.1 5 443\n",         // LF without CR
            "PROXY TCP4 192.0.2.7 127.0.0.1 5\r\n",           // three fields
            "PROXY TCP4 192.0.2.7 127.0.0.1 5 443 7\r\n",     // five fields
            "PROXY TCP4 192.0.2.256 127.0.0.1 5 443\r\n",     // octet out of range
            "PROXY TCP4 192.0.2 127.0.0.1 5 443\r\n",         // three octets
            "PROXY TCP4 ::1 127.0.0.1 5 443\r\n",             // IPv6 under TCP4
            "PROXY TCP6 192.0.2.7 ::1 5 443\r\n",             // IPv4 under TCP6
            "PROXY TCP6 localhost ::1 5 443\r\n",             // a name: never looked up
            "PROXY TCP4 192.0.2.7 127.0.0.1 65536 443\r\n",   // port out of range
            "PROXY TCP4 192.0.2.7 127.0.0.1 -5 443\r\n",      // sign
            "PROXY TCP4  192.0.2.7 127.0.0.1 5 443\r\n",      // double space
            "PROXY UDP4 192.0.2.7 127.0.0.1 5 443\r\n",       // not TCP
        }) {
            assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(Hellos.ascii(bad)));
        }
        byte[] addresses = new byte[12];
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x11, 0x11, addresses)));  // version 1
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x22, 0x11, addresses)));  // command 2
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x12, addresses)));  // UDP
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x31, addresses)));  // UNIX stream
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x21, addresses)));  // short for IPv6
    }

    @Test
    void anythingElseFirstIsAMissingHeader() {
        assertRefused(RefusalReason.PROXY_HEADER_MISSING, parseAll(Hellos.jsse("a.example")));
        assertRefused(RefusalReason.PROXY_HEADER_MISSING, parseAll(Hellos.ascii("GET / HTTP/1.1\r\n")));
        assertRefused(RefusalReason.PROXY_HEADER_MISSING, parseAll(Hellos.ascii("PROXZ")));
    }

    @Test
    void aHeaderIsRecognisedForUntrustedSourcesOnlyWhenItsSignatureIsComplete() {
        byte[] v1 = Hellos.ascii("PROXY TCP4 192.0.2.7 127.0.0.1 5 443\r\n");
        assertTrue(ProxyHeaderParser.startsWithHeader(ByteBuffer.wrap(v1), v1.length));
        assertFalse(ProxyHeaderParser.startsWithHeader(ByteBuffer.wrap(v1), 5));
        byte[] v2 = v2(0x20, 0x00, new byte[0]);
        assertTrue(ProxyHeaderParser.startsWithHeader(ByteBuffer.wrap(v2), v2.length));
        byte[] hello = Hellos.jsse("a.example");
        assertFalse(ProxyHeaderParser.startsWithHeader(ByteBuffer.wrap(hello), hello.length));
    }

    /** A v2 header: signature, version/command, family/protocol, length, then {@code rest}. */
    private static byte[] v2(int versionCommand, int family, byte[] rest) {
        ByteBuffer b = ByteBuffer.allocate(16 + rest.length);
        b.put(ProxyProtocolHeader.V2_SIGNATURE).put((byte) versionCommand).put((byte) family)
                .putShort((short) rest.length).put(rest);
        return b.array();
    }
}
