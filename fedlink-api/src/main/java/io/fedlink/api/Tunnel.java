package io.fedlink.api;

import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * One live (or just ended) blind tunnel: a client connection whose TLS ClientHello named a server that a route sent
 * to a target. The proxy never decrypts: the client and the target do their TLS handshake end to end.
 *
 * <p>Byte counts are read without locking and may lag the wire by the bytes currently in flight. Implementations are
 * thread-safe.
 */
public interface Tunnel {
    /** A number unique within its server, for logs. */
    long id();

    /** The client's address as the proxy saw it. */
    InetSocketAddress clientAddress();

    /** The server name from the ClientHello (canonical form), or {@code null} when it carried none. */
    String serverName();

    /** Where the bytes go. */
    Endpoint target();

    /** When the client connection was accepted. */
    Instant openedAt();

    /**
     * The route entry the ClientHello matched (its {@link PartyRoute#serverName()} is the configured pattern, e.g.
     * {@code *.fate.org}: a bounded label for metrics, unlike the raw {@link #serverName()}), or {@code null} when
     * not known.
     */
    default PartyRoute route() {
        return null;
    }

    /**
     * Nanoseconds from the start of the connect to the target (a name lookup included) until the target connection
     * was established, or {@code -1} while not yet connected or when not measured.
     */
    default long connectNanos() {
        return -1;
    }

    /** Size in bytes of the ClientHello (its TLS records, as parsed), or {@code -1} when not known. */
    default int helloBytes() {
        return -1;
    }

    /** Bytes copied from the client to the target, including the ClientHello. */
    long bytesFromClient();

    /** Bytes copied from the target to the client. */
    long bytesToClient();

    /** Whether the tunnel is still open. */
    boolean isOpen();

    /** Why the tunnel ended, or {@code null} while it is open. */
    CloseReason closeReason();

    /** Closes both connections at once (an abortive close); the reason becomes {@link CloseReason#CLOSED_BY_APPLICATION}. */
    void close();
}
