package io.fedlink.sni;

import io.fedlink.api.TunnelServerConfig;
import io.fedlink.api.Tunnels;

/**
 * Starting point for the embedded SNI proxy: the one way to start it from code. ({@code Tunnels.server()} in
 * fedlink-api returns the same builder, for code that compiles against fedlink-api alone and finds the transport
 * at run time.)
 *
 * <pre>{@code
 * try (TunnelServer proxy = SniProxy.builder()
 *         .bind(443)
 *         .routes(SniYaml.read(Path.of("sni.yaml")))
 *         .start()) {
 *     ...
 * }
 * }</pre>
 */
public final class SniProxy {
    private SniProxy() {}

    /** A config builder bound to the {@code nio} transport; see {@link TunnelServerConfig} for defaults. */
    public static TunnelServerConfig.Builder builder() {
        return Tunnels.server().transport(NioTunnelTransport.NAME);
    }
}
