package io.fedlink.api;

/**
 * Whether a route prefixes the bytes it sends to its target with a HAProxy PROXY protocol header carrying the
 * original client address (Traffic Server's {@code proxy_protocol_out}).
 */
public enum ProxyProtocol {
    /** Send the client's bytes unchanged (the default). */
    NONE,
    /** Text header, PROXY protocol version 1. */
    V1,
    /** Binary header, PROXY protocol version 2. */
    V2
}
