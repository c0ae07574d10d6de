/**
 * The proxy's contract, with no transport in it: routes ({@link io.fedlink.api.RouteTable},
 * {@link io.fedlink.api.PartyRoute}, {@link io.fedlink.api.Endpoint}), where they come from
 * ({@link io.fedlink.api.RouteSource}, {@link io.fedlink.api.RouteHolder}), how a server is configured and observed
 * ({@link io.fedlink.api.TunnelServerConfig}, {@link io.fedlink.api.TunnelServer}, {@link io.fedlink.api.Tunnel},
 * {@link io.fedlink.api.TunnelStats}, {@link io.fedlink.api.RefusalReason}, {@link io.fedlink.api.CloseReason}),
 * and the transport SPI ({@link io.fedlink.api.TunnelTransport}, found by {@link io.fedlink.api.Tunnels}). Beside
 * it, what every module shares: TLS material and files ({@link io.fedlink.api.TlsMaterial},
 * {@link io.fedlink.api.ReloadableTlsMaterial}, the one PEM codec {@link io.fedlink.api.PemCodec}), safe file writes
 * ({@link io.fedlink.api.SecureFiles}, {@link io.fedlink.api.FileSet}), bounded YAML ({@link io.fedlink.api.SafeYaml})
 * and the one bounded HTTP layer ({@link io.fedlink.api.BoundedHttpServer}).
 */
package io.fedlink.api;
