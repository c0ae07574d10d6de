package io.fedlink.api;

import java.net.InetSocketAddress;

/**
 * Told about tunnel lifecycle events. Methods run on the proxy's own threads (its event loops, which also accept
 * connections and refuse those over a limit at accept time): they must return quickly and must not block; an
 * exception they throw is logged and otherwise ignored.
 */
public interface TunnelListener {
    /** A listener that ignores every event. */
    TunnelListener NONE = new TunnelListener() {};

    /** The target accepted the connection and bytes start to flow. */
    default void tunnelOpened(Tunnel tunnel) {}

    /** The tunnel ended; {@link Tunnel#closeReason()} says why. */
    default void tunnelClosed(Tunnel tunnel) {}

    /**
     * A connection was refused before it became a tunnel.
     *
     * @param client     the client address
     * @param serverName the server name, when one was read (canonical form), else {@code null}
     * @param reason     why
     */
    default void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {}
}
