package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The first phase of a connection, without I/O: what a client sends before its tunnel starts (an optional PROXY
 * header from a source trusted to send one, then the TLS ClientHello), parsed from one buffer the driver fills.
 * The buffer is never read past the hello cap, so bytes behind the hello are left for the tunnel; a PROXY header (at
 * most {@link ProxyHeaderParser#MAX_V2_BYTES}) may use the whole buffer. Each {@link #feed(ByteBuffer)} says what the
 * driver does next. Used on the connection's event loop only.
 */
final class Front {
    /** What the driver does after a {@link #feed(ByteBuffer)}. */
    enum Step {
        /** Read more into the buffer. */
        NEED_MORE,
        /** The buffer is full below the cap: move its bytes to a buffer of the cap's size, then read more. */
        GROW,
        /**
         * The PROXY header is complete ({@link #announced()}); its bytes are gone from the buffer. Admit the client,
         * then feed again if the buffer holds bytes.
         */
        PROXY_HEADER,
        /** The ClientHello is complete: {@link #serverName()}, {@link #helloBytes()}. */
        HELLO,
        /** Refused: {@link #reason()}, {@link #detail()}. */
        REFUSED
    }

    private final int maxHelloBytes;
    private ProxyHeaderParser proxyHeader;
    private final ClientHelloParser hello;
    private InetSocketAddress announced;
    private RefusalReason reason;
    private String detail;

    /** A front for hellos of at most {@code maxHelloBytes}, after a PROXY header when {@code proxyHeader}. */
    Front(int maxHelloBytes, boolean proxyHeader) {
        this.maxHelloBytes = maxHelloBytes;
        this.proxyHeader = proxyHeader ? new ProxyHeaderParser() : null;
        this.hello = new ClientHelloParser(maxHelloBytes);
    }

    /** Whether the PROXY header is still awaited (its own deadline applies). */
    boolean awaitingProxyHeader() {
        return proxyHeader != null;
    }

    /** The limit to set on a fresh buffer of {@code capacity} bytes before the first read. */
    int limit(int capacity) {
        return proxyHeader != null ? capacity : Math.min(capacity, maxHelloBytes);
    }

    /** Parses what {@code buffer} holds (in fill mode: its position is the number of bytes read so far). */
    Step feed(ByteBuffer buffer) {
        if (proxyHeader != null) {
            return proxyHeader(buffer);
        }
        ClientHelloParser.Status s = hello.parse(buffer, buffer.position());
        if (s == ClientHelloParser.Status.NEED_MORE) {
            if (buffer.hasRemaining()) {
                return Step.NEED_MORE;
            }
            return buffer.capacity() >= maxHelloBytes
                    ? refuse(RefusalReason.HELLO_TOO_LARGE, "hello longer than the configured cap") : Step.GROW;
        }
        if (s == ClientHelloParser.Status.REFUSED) {
            if (hello.refusalReason() == RefusalReason.NOT_TLS
                    && ProxyHeaderParser.startsWithHeader(buffer, buffer.position())) {
                return refuse(RefusalReason.PROXY_HEADER_UNTRUSTED,
                        "a PROXY header from a source not trusted to send one");
            }
            return refuse(hello.refusalReason(), hello.refusalDetail());
        }
        return Step.HELLO;
    }

    /** Once complete, takes the announced client and moves the bytes behind the header to the buffer's start. */
    private Step proxyHeader(ByteBuffer buffer) {
        ProxyHeaderParser.Status s = proxyHeader.parse(buffer, buffer.position());
        if (s == ProxyHeaderParser.Status.REFUSED) {
            return refuse(proxyHeader.refusalReason(), proxyHeader.refusalDetail());
        }
        if (s == ProxyHeaderParser.Status.NEED_MORE) {
            return Step.NEED_MORE; // the buffer (at least 1 KiB) holds the longest header accepted
        }
        announced = proxyHeader.source();
        buffer.flip().position(proxyHeader.headerBytes());
        buffer.compact();
        buffer.limit(Math.max(buffer.position(), Math.min(buffer.capacity(), maxHelloBytes)));
        proxyHeader = null;
        return Step.PROXY_HEADER;
    }

    private Step refuse(RefusalReason r, String d) {
        reason = r;
        detail = d;
        return Step.REFUSED;
    }

    /** The client a PROXY header announced; {@code null} when it announced none (LOCAL, UNKNOWN) or none came. */
    InetSocketAddress announced() {
        return announced;
    }

    /** The hello's server name ({@code null}: none) once {@link Step#HELLO}. */
    String serverName() {
        return hello.serverName();
    }

    /** The hello's length in bytes once {@link Step#HELLO}. */
    int helloBytes() {
        return hello.helloBytes();
    }

    RefusalReason reason() {
        return reason;
    }

    String detail() {
        return detail;
    }
}
