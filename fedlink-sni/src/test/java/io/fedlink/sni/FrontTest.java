package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RefusalReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The first phase without sockets: a buffer filled byte by byte or at once, as a driver's reads would; PROXY header
 * then hello, growth below the cap, and every refusal with its reason.
 */
class FrontTest {
    private static final byte[] HELLO = Hellos.jsse("10000.fate.org");
    private static final byte[] PROXY_V1 = Hellos.ascii("PROXY TCP4 10.1.2.3 127.0.0.1 40000 443\r\n");

    /** Feeds {@code bytes} in reads of at most {@code piece} (and what the buffer takes); returns the last step. */
    private static Front.Step feed(Front f, ByteBuffer b, byte[] bytes, int piece) {
        Front.Step step = Front.Step.NEED_MORE;
        for (int i = 0, n; i < bytes.length; i += n) {
            n = Math.min(Math.min(piece, bytes.length - i), b.remaining());
            b.put(bytes, i, n);
            step = f.feed(b);
            if (step == Front.Step.PROXY_HEADER) { // a driver admits the client here
                step = b.position() > 0 ? f.feed(b) : Front.Step.NEED_MORE;
            }
            if (step != Front.Step.NEED_MORE) {
                return step;
            }
        }
        return step;
    }

    private static ByteBuffer buffer(Front f, int capacity) {
        ByteBuffer b = ByteBuffer.allocate(capacity);
        b.limit(f.limit(capacity));
        return b;
    }

    @Test
    void aHelloWholeOrByteByByte() {
        for (int piece : new int[] {HELLO.length, 1, 7}) {
            Front f = new Front(16384, false);
            assertEquals(Front.Step.HELLO, feed(f, buffer(f, 16384), HELLO, piece), "pieces of " + piece);
            assertEquals("10000.fate.org", f.serverName());
            assertEquals(HELLO.length, f.helloBytes());
            assertNull(f.announced());
        }
    }

    @Test
    void aProxyHeaderThenTheHelloInOneReadLeavesTheHelloAtTheBufferStart() {
        Front f = new Front(16384, true);
        assertTrue(f.awaitingProxyHeader());
        ByteBuffer b = buffer(f, 16384);
        b.put(PROXY_V1).put(HELLO);
        assertEquals(Front.Step.PROXY_HEADER, f.feed(b));
        assertFalse(f.awaitingProxyHeader());
        assertEquals(new InetSocketAddress("10.1.2.3", 40000), f.announced());
        assertEquals(HELLO.length, b.position(), "the header's bytes are gone");
        assertEquals(HELLO[0], b.get(0));
        assertEquals(Front.Step.HELLO, f.feed(b));
        assertEquals("10000.fate.org", f.serverName());
    }

    @Test
    void aProxyHeaderByteByByte() {
        Front f = new Front(16384, true);
        assertEquals(Front.Step.HELLO, feed(f, buffer(f, 16384), Hellos.concat(PROXY_V1, HELLO), 1));
        assertEquals(new InetSocketAddress("10.1.2.3", 40000), f.announced());
    }

    @Test
    void aHelloLargerThanTheBufferAsksToGrowThenIsCappedAtTheLimit() {
        byte[] big = Hellos.records(Hellos.clientHello(Hellos.sniExtension("a.fate.org"),
                Hellos.extension(0xffce, new byte[3000])), 16384);
        Front f = new Front(8192, false);
        ByteBuffer small = buffer(f, 1024);
        assertEquals(Front.Step.GROW, feed(f, small, big, 1024), () -> f.reason() + ": " + f.detail());
        ByteBuffer bigger = ByteBuffer.allocate(8192);
        small.flip();
        bigger.put(small);
        assertEquals(Front.Step.HELLO, feed(f, bigger, java.util.Arrays.copyOfRange(big, 1024, big.length), 512));
        assertEquals("a.fate.org", f.serverName());

        Front capped = new Front(2048, false);
        ByteBuffer full = buffer(capped, 2048);
        assertEquals(Front.Step.REFUSED, feed(capped, full, big, 4096));
        assertEquals(RefusalReason.HELLO_TOO_LARGE, capped.reason());
        assertEquals(2048, buffer(capped, 16384).limit(), "never read past the cap");
    }

    @Test
    void refusalsCarryTheParsersReasons() {
        Front untrusted = new Front(16384, false);
        assertEquals(Front.Step.REFUSED, feed(untrusted, buffer(untrusted, 16384), PROXY_V1, PROXY_V1.length));
        assertEquals(RefusalReason.PROXY_HEADER_UNTRUSTED, untrusted.reason());

        Front missing = new Front(16384, true);
        assertEquals(Front.Step.REFUSED, feed(missing, buffer(missing, 16384), HELLO, HELLO.length));
        assertEquals(RefusalReason.PROXY_HEADER_MISSING, missing.reason());

        Front http = new Front(16384, false);
        assertEquals(Front.Step.REFUSED, feed(http, buffer(http, 16384), Hellos.ascii("GET / HTTP/1.1\r\n"), 16));
        assertEquals(RefusalReason.NOT_TLS, http.reason());
    }
}
