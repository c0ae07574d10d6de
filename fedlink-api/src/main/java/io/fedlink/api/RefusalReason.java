package io.fedlink.api;

/** Why a connection never became a {@link Tunnel}. Each is counted separately in {@link TunnelStats}. */
public enum RefusalReason {
    /** The first bytes were not a TLS handshake record (plain HTTP, SSLv2-compatible hello, garbage). */
    NOT_TLS,
    /** A length field, type or structure of the ClientHello was invalid. */
    MALFORMED_HELLO,
    /** The ClientHello was larger than the configured cap. */
    HELLO_TOO_LARGE,
    /** The server name was not a valid DNS name or allowed IP literal, or there were two of them. */
    INVALID_SERVER_NAME,
    /** No server name, and no route for hellos without one. */
    NO_SERVER_NAME,
    /** No route serves the server name. */
    UNKNOWN_SERVER_NAME,
    /** The route's client allow list does not admit the client address. */
    CLIENT_NOT_ALLOWED,
    /** The ClientHello did not arrive before the hello deadline (slowloris). */
    HELLO_TIMEOUT,
    /** The client closed before its ClientHello was complete. */
    CLIENT_CLOSED_EARLY,
    /** The target refused or failed the connection. */
    CONNECT_FAILED,
    /** The target did not accept the connection before the connect deadline. */
    CONNECT_TIMEOUT,
    /** The live-tunnel limit was reached. */
    TUNNEL_LIMIT,
    /** The limit on connections still in the hello phase was reached. */
    HANDSHAKE_LIMIT,
    /** The limit on connections in the hello phase from one client address was reached. */
    CLIENT_HANDSHAKE_LIMIT,
    /** The resolver's queue was full, so the target name could not be looked up. */
    RESOLVER_BUSY,
    /** The process was out of file descriptors: the connection was accepted only to be closed. */
    DESCRIPTOR_LIMIT,
    /** An unexpected local failure while serving the connection; the log says which. */
    INTERNAL_ERROR,
    /** The client address had as many connections open as {@code maxConnectionsPerClient} allows. */
    CLIENT_CONNECTION_LIMIT,
    /** The client address opened new connections faster than {@code connectionRatePerClient} allows. */
    CLIENT_RATE_LIMIT,
    /** A source trusted to send a PROXY protocol header sent something else first. */
    PROXY_HEADER_MISSING,
    /**
     * A PROXY protocol header broke a rule of the specification (v1 syntax, literals, leading zeros; v2 version,
     * command, family, address or TLV lengths), was truncated by the peer, or was longer than its limit.
     */
    PROXY_HEADER_INVALID,
    /** A PROXY protocol v2 header carried a CRC32c TLV that does not match the header: corrupted or forged. */
    PROXY_HEADER_CHECKSUM,
    /** A PROXY protocol header came from a source not trusted to send one. */
    PROXY_HEADER_UNTRUSTED,
    /** A trusted source's PROXY protocol header did not arrive before its deadline. */
    PROXY_HEADER_TIMEOUT,
    /**
     * The route sends the name to a party's agent, and no agent of that party was connected, or none offered a
     * connection before the connect deadline.
     */
    AGENT_UNAVAILABLE,
    /** The server is shutting down. */
    SHUTTING_DOWN
}
