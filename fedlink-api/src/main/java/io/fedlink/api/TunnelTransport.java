package io.fedlink.api;

import java.io.IOException;

/**
 * Service-provider interface for tunnel transports, found with {@link java.util.ServiceLoader} (register the
 * implementation in {@code META-INF/services/io.fedlink.api.TunnelTransport}). Applications use
 * {@link Tunnels} instead of calling this directly.
 */
public interface TunnelTransport {
    /** A short unique name, such as {@code nio}. */
    String name();

    /**
     * Binds and starts a server.
     *
     * @throws IOException if the address cannot be bound
     */
    TunnelServer start(TunnelServerConfig config) throws IOException;
}
