package io.fedlink.api;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Entry point for starting tunnel servers without naming an implementation.
 *
 * <pre>{@code
 * try (TunnelServer proxy = Tunnels.server()
 *         .bind(443)
 *         .routes(RouteTable.builder()
 *             .add("10000.fate.org", Endpoint.parse("192.168.0.2:6651"))
 *             .add("9999.fate.org", Endpoint.parse("192.168.0.3:6651"))
 *             .build())
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>The default transport is the one named {@code nio} (from {@code fedlink-sni}) when present, else the only one
 * found. With none on the class path, or a name that matches none, an {@link IllegalStateException} says which
 * transports exist.
 */
public final class Tunnels {
    /** Name of the default transport. */
    public static final String DEFAULT_TRANSPORT = "nio";

    private Tunnels() {}

    /** A config builder whose {@code start()} uses the default transport. */
    public static TunnelServerConfig.Builder server() {
        return TunnelServerConfig.builder();
    }

    /** All transports found by {@link ServiceLoader}. */
    public static List<TunnelTransport> transports() {
        List<TunnelTransport> out = new ArrayList<>();
        ServiceLoader.load(TunnelTransport.class, Tunnels.class.getClassLoader()).forEach(out::add);
        return out;
    }

    /**
     * The transport called {@code name}, or the default when {@code name} is {@code null}.
     *
     * @throws IllegalStateException when it does not exist
     */
    public static TunnelTransport transport(String name) {
        List<TunnelTransport> all = transports();
        if (all.isEmpty()) {
            throw new IllegalStateException("no fedlink TunnelTransport on the class path: add the io.fedlink:"
                    + "fedlink-sni dependency (or register one in META-INF/services/" + TunnelTransport.class.getName()
                    + ")");
        }
        String wanted = name != null ? name : DEFAULT_TRANSPORT;
        for (TunnelTransport t : all) {
            if (t.name().equals(wanted)) {
                return t;
            }
        }
        if (name == null && all.size() == 1) {
            return all.get(0);
        }
        throw new IllegalStateException("no TunnelTransport named " + HostNames.quote(wanted) + "; available: "
                + all.stream().map(TunnelTransport::name).toList());
    }
}
