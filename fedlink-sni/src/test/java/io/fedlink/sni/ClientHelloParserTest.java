package io.fedlink.sni;

import static io.fedlink.sni.ClientHelloParser.Status.NEED_MORE;
import static io.fedlink.sni.ClientHelloParser.Status.NO_SERVER_NAME;
import static io.fedlink.sni.ClientHelloParser.Status.REFUSED;
import static io.fedlink.sni.ClientHelloParser.Status.SERVER_NAME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RefusalReason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClientHelloParserTest {
    private final ClientHelloParser parser = new ClientHelloParser();

    /** Feeds the whole input at once. */
    private ClientHelloParser.Status parse(byte[] bytes) {
        parser.reset();
        return parser.parse(ByteBuffer.wrap(bytes), bytes.length);
    }

    /** Feeds growing prefixes in steps of {@code step} bytes, as reads would deliver them (to a direct buffer). */
    private ClientHelloParser.Status feed(byte[] bytes, int step) {
        parser.reset();
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length);
        buf.put(bytes);
        ClientHelloParser.Status s = NEED_MORE;
        for (int n = Math.min(step, bytes.length); ; n = Math.min(n + step, bytes.length)) {
            s = parser.parse(buf, n);
            if (s != NEED_MORE || n == bytes.length) {
                return s;
            }
        }
    }

    static Stream<Arguments> realHellos() {
        return Stream.of(
                Arguments.of("JSSE " + Runtime.version().feature(), Hellos.jsse("10000.fate.org")),
                Arguments.of("openssl s_client 3.0", Hellos.captured("openssl-s_client.bin")),
                Arguments.of("curl 7.88", Hellos.captured("curl.bin")),
                Arguments.of("Chromium 156, X25519MLKEM768 (1.9 KB)", Hellos.captured("chromium.bin")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realHellos")
    void readsRealHellosHoweverTheyArrive(String client, byte[] hello) {
        assertEquals(SERVER_NAME, parse(hello), client + ": " + parser.refusalDetail());
        assertEquals("10000.fate.org", parser.serverName());
        assertEquals(hello.length, parser.helloBytes());
        for (int step : new int[] {1, 2, 3, 7, 100}) {
            assertEquals(SERVER_NAME, feed(hello, step), client + " fed " + step + " bytes at a time");
            assertEquals("10000.fate.org", parser.serverName());
        }
        for (int fragment : new int[] {1, 2, 3, 5, 64, 300}) {
            byte[] split = Hellos.refragment(hello, fragment);
            assertEquals(SERVER_NAME, feed(split, 1), client + " in records of " + fragment + ": "
                    + parser.refusalDetail());
            assertEquals("10000.fate.org", parser.serverName());
            assertEquals(split.length, parser.helloBytes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realHellos")
    void everyTruncationWaitsForMore(String client, byte[] hello) {
        for (int n = 0; n < hello.length; n++) {
            assertEquals(NEED_MORE, parse(Arrays.copyOf(hello, n)), client + " cut at " + n);
        }
    }

    @Test
    void bytesAfterTheHelloAreNotParsed() {
        byte[] hello = Hellos.jsse("a.example");
        byte[] withData = Arrays.copyOf(hello, hello.length + 3);
        withData[hello.length] = 23; // an application-data record begins (0-RTT)
        assertEquals(SERVER_NAME, parse(withData));
        assertEquals(hello.length, parser.helloBytes());
    }

    @Test
    void answerIsStickyUntilReset() {
        byte[] hello = Hellos.jsse("a.example");
        ByteBuffer buf = ByteBuffer.wrap(hello);
        assertEquals(SERVER_NAME, parser.parse(buf, hello.length));
        assertEquals(SERVER_NAME, parser.parse(ByteBuffer.wrap(new byte[] {'G'}), 1));
        parser.reset();
        assertEquals(REFUSED, parser.parse(ByteBuffer.wrap(new byte[] {'G'}), 1));
    }

    @Test
    void namesAreCanonical() {
        assertEquals(SERVER_NAME, parse(Hellos.records(Hellos.clientHello(Hellos.sniExtension("10000.FATE.Org.")),
                16384)));
        assertEquals("10000.fate.org", parser.serverName());
        assertEquals(15, parser.serverNameLength());
    }

    @Test
    void unknownAndGreaseExtensionsAreSkipped() {
        byte[] hello = Hellos.records(Hellos.clientHello(Hellos.extension(0x0a0a, new byte[0]),
                Hellos.extension(0xfe0d, new byte[200]), Hellos.sniExtension("public.example"),
                Hellos.extension(0xdada, new byte[] {0})), 16384);
        assertEquals(SERVER_NAME, parse(hello), parser.refusalDetail());
        assertEquals("public.example", parser.serverName(), "with ECH the outer name routes");
    }

    @Test
    void helloWithoutServerName() {
        assertEquals(NO_SERVER_NAME, parse(Hellos.records(Hellos.clientHello(Hellos.extension(10, new byte[4])),
                16384)));
        byte[] noExtensions = Hellos.clientHello();
        noExtensions = Arrays.copyOf(noExtensions, noExtensions.length - 2); // drop the extensions length too
        noExtensions[3] -= 2;
        assertEquals(NO_SERVER_NAME, parse(Hellos.records(noExtensions, 16384)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.2", "::1", "2001:db8::7"})
    void ipLiteralsAreReadForTheRouteTableToDecide(String ip) {
        assertEquals(SERVER_NAME, parse(Hellos.records(Hellos.clientHello(Hellos.sniExtension(ip)), 16384)));
        assertEquals(ip, parser.serverName());
    }

    static Stream<Arguments> refusals() {
        byte[] ok = Hellos.sniExtension("a.example");
        return Stream.of(
                Arguments.of("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), RefusalReason.NOT_TLS,
                        "not a TLS handshake record"),
                Arguments.of(new byte[] {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01}, RefusalReason.NOT_TLS,
                        "SSLv2-compatible ClientHello"),
                Arguments.of(new byte[] {21, 3, 3, 0, 2, 2, 40}, RefusalReason.NOT_TLS, "not a TLS handshake record"),
                Arguments.of(new byte[] {22, 2, 0, 0, 4, 1, 0, 0, 0}, RefusalReason.MALFORMED_HELLO,
                        "record version is not 3.x"),
                Arguments.of(new byte[] {22, 3, 1, 0, 0}, RefusalReason.MALFORMED_HELLO,
                        "zero-length handshake record"),
                Arguments.of(new byte[] {22, 3, 1, 0x40, 1}, RefusalReason.MALFORMED_HELLO,
                        "record longer than 2^14 bytes"),
                Arguments.of(new byte[] {22, 3, 1, 0, 4, 2, 0, 0, 40}, RefusalReason.MALFORMED_HELLO,
                        "first handshake message is not a ClientHello"),
                Arguments.of(new byte[] {22, 3, 1, 0, 4, 1, 0, 0, 10}, RefusalReason.MALFORMED_HELLO,
                        "ClientHello shorter than its fixed fields"),
                Arguments.of(new byte[] {22, 3, 1, 0x3f, (byte) 0xff, 1, 0, (byte) 0xff, (byte) 0xff},
                        RefusalReason.HELLO_TOO_LARGE, "hello longer than the configured cap"),
                Arguments.of(new byte[] {22, 3, 1, 0, 4, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff},
                        RefusalReason.HELLO_TOO_LARGE, "hello longer than the configured cap"),
                Arguments.of(mixed(), RefusalReason.MALFORMED_HELLO, "non-handshake record inside the ClientHello"),
                Arguments.of(trailing(), RefusalReason.MALFORMED_HELLO, "trailing bytes after the ClientHello"),
                Arguments.of(hello(ok, ok), RefusalReason.INVALID_SERVER_NAME, "two server_name extensions"),
                Arguments.of(hello(Hellos.sniExtension("a.example", "b.example")), RefusalReason.INVALID_SERVER_NAME,
                        "two host_name entries"),
                Arguments.of(hello(Hellos.extension(0, new byte[] {0, 5, 1, 0, 2, 'a', 'b'})),
                        RefusalReason.INVALID_SERVER_NAME, "server_name entry of a type other than host_name"),
                Arguments.of(hello(Hellos.sniExtension("")), RefusalReason.INVALID_SERVER_NAME, "empty host_name"),
                Arguments.of(hello(Hellos.extension(0, new byte[] {0, 0})), RefusalReason.INVALID_SERVER_NAME,
                        "empty server_name list"),
                Arguments.of(hello(Hellos.sniExtension(".")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: empty"),
                Arguments.of(hello(Hellos.sniExtension("a..example")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: empty label at offset 2"),
                Arguments.of(hello(Hellos.sniExtension("under_score.example")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: character '_' not allowed at offset 5"),
                Arguments.of(hello(Hellos.sniExtension("caf\u00e9.example")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: character U+00E9 not allowed at offset 3"),
                Arguments.of(hello(Hellos.sniExtension("a\u0000.example")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: character U+0000 not allowed at offset 1"),
                Arguments.of(hello(Hellos.sniExtension("-a.example")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: label starts or ends with '-' at offset 0"),
                Arguments.of(hello(Hellos.sniExtension("a".repeat(64) + ".example")),
                        RefusalReason.INVALID_SERVER_NAME, "host_name: label longer than 63 characters at offset 0"),
                Arguments.of(hello(Hellos.sniExtension(("a".repeat(63) + ".").repeat(4))),
                        RefusalReason.INVALID_SERVER_NAME, "host_name: longer than 253 characters"),
                Arguments.of(hello(Hellos.sniExtension("a".repeat(300))), RefusalReason.INVALID_SERVER_NAME,
                        "host_name: longer than 253 characters"),
                Arguments.of(hello(Hellos.sniExtension("1:2:3")), RefusalReason.INVALID_SERVER_NAME,
                        "host_name contains ':' but is not an IPv6 literal"));
    }

    private static byte[] hello(byte[]... extensions) {
        return Hellos.records(Hellos.clientHello(extensions), 16384);
    }

    private static byte[] mixed() {
        byte[] h = Hellos.records(Hellos.clientHello(Hellos.sniExtension("a.example")), 20);
        h[25] = 20; // second record claims to be change_cipher_spec
        return h;
    }

    private static byte[] trailing() {
        byte[] msg = Hellos.clientHello(Hellos.sniExtension("a.example"));
        byte[] more = Arrays.copyOf(msg, msg.length + 1);
        return Hellos.records(more, 16384);
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusesPrecisely(byte[] bytes, RefusalReason reason, String detail) {
        for (int step : new int[] {bytes.length, 1}) {
            assertEquals(REFUSED, feed(bytes, step), "fed " + step + " at a time: " + parser.status());
            assertEquals(reason, parser.refusalReason());
            assertEquals(detail, parser.refusalDetail());
            assertEquals(null, parser.serverName());
        }
    }

    /** Offsets of every length field of a synthetic hello with one SNI extension, and whether it is the framing. */
    @Test
    void everyLengthFieldOffByOneIsNeverRoutedAsIs() {
        byte[] good = hello(Hellos.extension(0x0017, new byte[0]), Hellos.sniExtension("10000.fate.org"));
        assertEquals(SERVER_NAME, parse(good));
        // record len @3 (2 bytes), handshake len @6 (3), session id len @43 (1), suites len @76 (2),
        // compression len @82 (1), extensions len @84 (2), ext0 len @88 (2), sni ext len @92 (2),
        // sni list len @94 (2), host_name len @97 (2)
        int[][] fields = {{3, 2}, {6, 3}, {43, 1}, {76, 2}, {82, 1}, {84, 2}, {88, 2}, {92, 2}, {94, 2}, {97, 2}};
        for (int[] f : fields) {
            for (int delta : new int[] {-1, +1}) {
                byte[] bad = good.clone();
                long v = 0;
                for (int i = 0; i < f[1]; i++) {
                    v = (v << 8) | (bad[f[0] + i] & 0xff);
                }
                v += delta;
                for (int i = f[1] - 1; i >= 0; i--) {
                    bad[f[0] + i] = (byte) v;
                    v >>= 8;
                }
                ClientHelloParser.Status s = feed(bad, 1);
                String where = "field @" + f[0] + " " + (delta > 0 ? "+1" : "-1");
                assertNotEquals(SERVER_NAME, s, where);
                if (f[0] > 8) {
                    assertEquals(REFUSED, s, where); // inner lengths are checked against their containers
                } else {
                    assertTrue(s == REFUSED || s == NEED_MORE, where); // framing: waits for bytes or refuses
                }
            }
        }
    }

    @Test
    void capsAreConfigurable() {
        byte[] big = hello(Hellos.extension(21, new byte[3000]), Hellos.sniExtension("a.example"));
        assertEquals(SERVER_NAME, parse(big));
        ClientHelloParser small = new ClientHelloParser(2048);
        assertEquals(REFUSED, small.parse(ByteBuffer.wrap(big), 9), "refused on the declared length alone");
        assertEquals(RefusalReason.HELLO_TOO_LARGE, small.refusalReason());
        byte[] huge = hello(Hellos.extension(21, new byte[60_000]), Hellos.sniExtension("a.example"));
        assertEquals(REFUSED, parse(huge), "default cap is 16 KiB");
        ClientHelloParser max = new ClientHelloParser(ClientHelloParser.MAX_HELLO_BYTES);
        byte[] framed = Hellos.refragment(huge, 16384);
        assertEquals(SERVER_NAME, max.parse(ByteBuffer.wrap(framed), framed.length), max.refusalDetail());
        assertThrows(IllegalArgumentException.class, () -> new ClientHelloParser(65537));
        assertThrows(IllegalArgumentException.class, () -> new ClientHelloParser(100));
    }

    @Test
    void randomGarbageIsAlwaysAnsweredWithoutException() {
        java.util.Random random = new java.util.Random(42);
        byte[] good = Hellos.jsse("fuzz.example");
        for (int i = 0; i < 20_000; i++) {
            byte[] b = good.clone();
            int flips = 1 + random.nextInt(4);
            for (int k = 0; k < flips; k++) {
                b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            }
            ClientHelloParser.Status s = feed(b, 1 + random.nextInt(64));
            if (s == SERVER_NAME) {
                assertTrue(io.fedlink.api.HostNames.isDnsName(parser.serverName())
                        || io.fedlink.api.HostNames.isIpLiteral(parser.serverName()), parser.serverName());
            }
        }
    }
}
