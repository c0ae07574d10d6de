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
