package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RefusalReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The incoming PROXY header parser on bytes, rule by rule of haproxy's proxy-protocol.txt: v1/v2, IPv4/IPv6/UNIX,
 * LOCAL/UNSPEC, TLV bounds, CRC32c, truncated, malformed, oversized, and no name lookup ever.
 */
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

    /** The spec's v1 rules, one line each: literals only, no leading zeros, exactly four fields, TCP4/TCP6 only. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "PROXY TCP4 192.0.2.7 127.0.0.1 5 443\n",              // LF without CR
        "PROXY TCP4 192.0.2.7 127.0.0.1 5 443\r",              // CR without LF (never ends: refused at 107 bytes)
        "PROXY TCP4 192.0.2.7 127.0.0.1 5\r\n",                // three fields
        "PROXY TCP4 192.0.2.7 127.0.0.1 5 443 7\r\n",          // five fields
        "PROXY TCP4 192.0.2.7 127.0.0.1 5 443 \r\n",           // trailing space
        "PROXY TCP4 192.0.2.256 127.0.0.1 5 443\r\n",          // octet out of range
        "PROXY TCP4 192.0.2 127.0.0.1 5 443\r\n",              // three octets
        "PROXY TCP4 192.0.2.07 127.0.0.1 5 443\r\n",           // leading zero: octal to some stacks
        "PROXY TCP4 010.0.2.7 127.0.0.1 5 443\r\n",            // leading zero
        "PROXY TCP4 192.0.2.7 127.0.0.01 5 443\r\n",           // leading zero in the destination
        "PROXY TCP4 192.0.2.7 127.0.0.1 05 443\r\n",           // leading zero in the source port
        "PROXY TCP4 192.0.2.7 127.0.0.1 5 0443\r\n",           // leading zero in the destination port
        "PROXY TCP4 192.0.2.7 127.0.0.1 00 443\r\n",           // two zeros
        "PROXY TCP4 192.0.2.7 127.0.0.1 65536 443\r\n",        // port out of range
        "PROXY TCP4 192.0.2.7 127.0.0.1 -5 443\r\n",           // sign
        "PROXY TCP4 192.0.2.7 127.0.0.1 +5 443\r\n",           // sign
        "PROXY TCP4  192.0.2.7 127.0.0.1 5 443\r\n",           // double space
        "PROXY TCP4 ::1 127.0.0.1 5 443\r\n",                  // IPv6 under TCP4
        "PROXY TCP6 192.0.2.7 ::1 5 443\r\n",                  // IPv4 under TCP6
        "PROXY TCP6 ::1 127.0.0.1 5 443\r\n",                  // destination of the other family
        "PROXY TCP6 localhost ::1 5 443\r\n",                  // a name
        "PROXY TCP6 .:1 ::1 5 443\r\n",                        // a name to InetAddress (a lookup before)
        "PROXY TCP6 a.b:1 ::1 5 443\r\n",                      // a name made of hex digits
        "PROXY TCP6 [::1] ::1 5 443\r\n",                      // brackets are URL syntax, not the spec's
        "PROXY TCP6 fe80::1%1 ::1 5 443\r\n",                  // zone id
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 5 443\r\n",          // 144 bits
        "PROXY TCP6 1:2:3:4:5:6:7 ::1 5 443\r\n",              // 112 bits
        "PROXY TCP6 1::2::3 ::1 5 443\r\n",                    // two double colons
        "PROXY TCP6 12345::1 ::1 5 443\r\n",                   // five hex digits
        "PROXY TCP6 ::ffff:192.0.2.07 ::1 5 443\r\n",          // leading zero in an embedded IPv4 address
        "PROXY TCP4 192.0.2.7 127.0.0.1 5 443\r\nPROXY TCP4",  // fine, then a second header: fine (the hello's)
        "PROXY UDP4 192.0.2.7 127.0.0.1 5 443\r\n",            // not TCP
        "PROXY tcp4 192.0.2.7 127.0.0.1 5 443\r\n",            // case matters
        "PROXY UNKNOWNX\r\n",                                  // not UNKNOWN
    })
    void v1RulesOfTheSpecification(String line) {
        ProxyHeaderParser p = parseAll(Hellos.ascii(line));
        if (line.endsWith("PROXY TCP4")) { // the bytes after the header are not the parser's business
            assertSource(p, "192.0.2.7", 5, line.indexOf('\n') + 1);
            return;
        }
        if (line.endsWith("\r")) {
            assertEquals(ProxyHeaderParser.Status.NEED_MORE, p.parse(ByteBuffer.allocate(0), 0));
            byte[] padded = Arrays.copyOf(Hellos.ascii(line), ProxyHeaderParser.MAX_V1_BYTES);
            p = parseAll(padded);
        }
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, p);
    }

    @Test
    void v1EdgesTheSpecificationAllows() {
        assertSource(parseAll(Hellos.ascii("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n")), "0.0.0.0", 0, 32);
        byte[] full = Hellos.ascii("PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0001 FFFF::1 65535 1\r\n");
        assertSource(parseAll(full), "::1", 65535, full.length);
        byte[] compressed = Hellos.ascii("PROXY TCP6 2001:db8:: ::ffff:192.0.2.1 10 20\r\n");
        assertSource(parseAll(compressed), "2001:db8::", 10, compressed.length);
        for (String unknown : new String[] {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN 01.2.3.4 .:1 05 x y z\r\n"}) {
            ProxyHeaderParser p = parseAll(Hellos.ascii(unknown));
            assertEquals(ProxyHeaderParser.Status.DONE, p.parse(ByteBuffer.allocate(0), 0), unknown);
            assertNull(p.source(), "UNKNOWN keeps the socket peer");
            assertEquals(unknown.length(), p.headerBytes());
        }
    }

    /**
     * What a v1 TCP6 field that is not a literal does, in a JVM whose host names come from a file naming
     * {@code .:1}: parsed as a literal it is refused; looked up it would be accepted as 127.0.0.9.
     */
    @Test
    void v1NamesAreNeverLookedUp(@TempDir Path dir) throws Exception {
        Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.9 .:1\n127.0.0.9 a.b:1\n");
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djdk.net.hosts.file=" + hosts, "-cp", System.getProperty("java.class.path"),
                LookupProbe.class.getName(), "PROXY TCP6 .:1 ::1 5 443\r\n", "PROXY TCP6 a.b:1 ::1 5 443\r\n")
                .redirectErrorStream(true).start();
        String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(probe.waitFor(60, TimeUnit.SECONDS));
        assertEquals("REFUSED null\nREFUSED null\n", out);
    }

    /** Prints what the parser makes of each argument: status and source (run with a hosts file that names them). */
    static final class LookupProbe {
        public static void main(String[] args) {
            for (String line : args) {
                ProxyHeaderParser p = parseAll(Hellos.ascii(line));
                System.out.print(p.parse(ByteBuffer.allocate(0), 0) + " " + p.source() + "\n");
            }
        }
    }

    @Test
    void v2RulesOfTheSpecification() {
        byte[] addresses = new byte[12];
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x11, 0x11, addresses)));  // version 1
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x31, 0x11, addresses)));  // version 3
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x22, 0x11, addresses)));  // command 2
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x41, addresses)));  // family 4
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x13, addresses)));  // protocol 3
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x21, addresses)));  // short for IPv6
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x11, new byte[11]))); // short for IPv4
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x31, new byte[215]))); // short for UNIX
    }

    @Test
    void v2TlvsMustFitTheHeader() {
        byte[] addresses = {(byte) 198, 51, 100, 9, 127, 0, 0, 1, (byte) 0xC3, 0x50, 1, (byte) 0xBB};
        byte[][] bad = {
            {0x04, 0x00, 0x05, 'a', 'b'},                  // NOOP claiming 5 bytes, 2 left
            {0x04, 0x00, 0x00, 0x01, 0x00, 0x03, 'h'},     // a good one, then one overrunning
            {0x04},                                        // a TLV header cut after its type
            {0x04, 0x00},                                  // a TLV header cut in its length
            {0x04, 0x00, 0x00, 0x04, 0x00},                // a good one, then a cut header
        };
        for (byte[] tlvs : bad) {
            ProxyHeaderParser p = parseAll(v2(0x21, 0x11, Hellos.concat(addresses, tlvs)));
            assertRefused(RefusalReason.PROXY_HEADER_INVALID, p);
        }
        byte[] exact = {0x04, 0x00, 0x00, 0x20, 0x00, 0x02, 'x', 'y'}; // empty NOOP, then SSL of 2 bytes: fits
        byte[] header = v2(0x21, 0x11, Hellos.concat(addresses, exact));
        assertSource(parseAll(header), "198.51.100.9", 50000, header.length);
    }

    @Test
    void v2Crc32cIsVerifiedWhenPresent() {
        byte[] addresses = {(byte) 198, 51, 100, 9, 127, 0, 0, 1, (byte) 0xC3, 0x50, 1, (byte) 0xBB};
        byte[] alpn = {0x01, 0x00, 0x02, 'h', '2'};
        byte[] good = withCrc32c(v2(0x21, 0x11, Hellos.concat(addresses, Hellos.concat(alpn, new byte[] {0x03, 0, 4, 0, 0, 0, 0}))));
        assertSource(parseAll(Hellos.concat(good, Hellos.jsse("a.example"))), "198.51.100.9", 50000, good.length);
        assertSource(byteByByte(good), "198.51.100.9", 50000, good.length);
        for (int i = 0; i < good.length; i++) {
            if (i == 12 || i == 13 || i == 14 || i == 15) {
                continue; // version, family, length: refused by their own rules
            }
            byte[] flipped = good.clone();
            flipped[i] ^= 0x01;
            ProxyHeaderParser p = parseAll(flipped);
            if (i < 12) {
                assertRefused(RefusalReason.PROXY_HEADER_MISSING, p); // no longer a signature
            } else if (i == 16 + 12 + 1 || i == 16 + 12 + 2 || i == 16 + 12 + 6 || i == 16 + 12 + 7) {
                assertRefused(RefusalReason.PROXY_HEADER_INVALID, p); // a TLV length: the TLVs no longer fit
            } else if (i == 16 + 12 + 5) {
                assertSource(p, "198.51.100.9", 50000, good.length); // type 0x02: no CRC TLV any more
            } else {
                assertRefused(RefusalReason.PROXY_HEADER_CHECKSUM, p); // an address, port, value or the CRC itself
            }
        }
        byte[] shortCrc = withCrc32c(v2(0x21, 0x11, Hellos.concat(addresses, new byte[] {0x03, 0, 3, 0, 0, 0})));
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(shortCrc));
        byte[] twice = v2(0x21, 0x11, Hellos.concat(addresses, new byte[] {0x03, 0, 4, 0, 0, 0, 0, 0x03, 0, 4, 0, 0, 0,
            0}));
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(twice));
        byte[] unspec = withCrc32c(v2(0x21, 0x00, new byte[] {0x03, 0, 4, 0, 0, 0, 0}));
        assertEquals(ProxyHeaderParser.Status.DONE, parseAll(unspec).parse(ByteBuffer.allocate(0), 0), "UNSPEC too");
        unspec[unspec.length - 1] ^= 1;
        assertRefused(RefusalReason.PROXY_HEADER_CHECKSUM, parseAll(unspec));
    }

    /** Fills the CRC32c TLV (the last 4 bytes) the way a sender does: computed with the field zeroed. */
    private static byte[] withCrc32c(byte[] header) {
        CRC32C crc = new CRC32C();
        crc.update(header, 0, header.length);
        ByteBuffer.wrap(header).putInt(header.length - 4, (int) crc.getValue());
        return header;
    }

    @Test
    void v2UnixUnspecAndLocalKeepTheSocketPeer() {
        byte[] unix = new byte[216];
        unix[0] = '/';
        for (int family : new int[] {0x31, 0x32, 0x12, 0x22, 0x10, 0x01}) { // UNIX, UDP, UNSPEC protocol: the peer
            byte[] header = v2(0x21, family, Hellos.concat(unix, new byte[] {0x04, 0, 1, 'x'}));
            ProxyHeaderParser p = parseAll(header);
            assertEquals(ProxyHeaderParser.Status.DONE, p.parse(ByteBuffer.allocate(0), 0),
                    String.format("family 0x%02x: %s", family, p.refusalDetail()));
            assertNull(p.source());
            assertEquals(header.length, p.headerBytes());
        }
        ProxyHeaderParser unspec = parseAll(v2(0x21, 0x00, new byte[] {0x04, 0, 1, 'x'})); // UNSPEC: TLVs at once
        assertEquals(ProxyHeaderParser.Status.DONE, unspec.parse(ByteBuffer.allocate(0), 0), unspec.refusalDetail());
        assertNull(unspec.source());
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(v2(0x21, 0x00, new byte[] {0x04, 0, 2, 'x'})));
        byte[] unixTlvOverrun = v2(0x21, 0x31, Hellos.concat(unix, new byte[] {0x04, 0, 9, 'x'}));
        assertRefused(RefusalReason.PROXY_HEADER_INVALID, parseAll(unixTlvOverrun));
        byte[] addresses = {(byte) 198, 51, 100, 9, 127, 0, 0, 1, (byte) 0xC3, 0x50, 1, (byte) 0xBB};
        for (int family : new int[] {0x11, 0x21, 0x00, 0x45, 0xFF}) { // LOCAL: family and addresses ignored
            ProxyHeaderParser p = parseAll(v2(0x20, family, addresses));
            assertEquals(ProxyHeaderParser.Status.DONE, p.parse(ByteBuffer.allocate(0), 0),
                    String.format("LOCAL family 0x%02x: %s", family, p.refusalDetail()));
            assertNull(p.source());
            assertEquals(28, p.headerBytes());
        }
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
