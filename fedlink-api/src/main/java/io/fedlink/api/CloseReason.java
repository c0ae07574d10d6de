package io.fedlink.api;

/** Why a {@link Tunnel} ended. */
public enum CloseReason {
    /** Both sides finished sending (FIN each way) and every byte was delivered. */
    COMPLETED,
    /** The client reset the connection or failed; the reset was passed on to the target. */
    CLIENT_ABORTED,
    /** The target reset the connection or failed; the reset was passed on to the client. */
    TARGET_ABORTED,
    /** No byte moved either way for longer than the idle timeout. */
    IDLE_TIMEOUT,
    /** The server shut down and the tunnel had not drained before the grace period ended. */
    SERVER_SHUTDOWN,
    /** The application called {@link Tunnel#close()}. */
    CLOSED_BY_APPLICATION,
    /**
     * Closed on request ({@link TunnelServer#closeTunnels}) so that the client reconnects and makes a new TLS
     * handshake with the target: for example after the target's certificate was rotated, since a TLS endpoint that
     * re-reads its certificate files only presents the new certificate on new connections.
     */
    ROTATED,
    /**
     * The routes were swapped and no longer send this tunnel's server name (from this client) to its target: the
     * route was removed (a party taken out of the registry or the route file), re-pointed, or its allow list no
     * longer admits the client. Closed abortively (see {@code TunnelServerConfig.Builder#closeUnroutedTunnels}).
     */
    ROUTE_REMOVED,
    /** An unexpected local failure; the log says which. */
    INTERNAL_ERROR
}
