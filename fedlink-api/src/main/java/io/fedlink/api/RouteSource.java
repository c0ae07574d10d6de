package io.fedlink.api;

import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a proxy's routes come from: a stream of immutable {@link RouteTable} snapshots feeding a
 * {@link RouteHolder}. A source produces its first snapshot when asked ({@link #initial()}, which fails if there is
 * none) and then, once {@link #feed fed} a holder, swaps later snapshots into it until closed. A source that cannot
 * produce a later snapshot keeps the holder's table and says why ({@link #problem()}); it never empties the holder.
 * A proxy takes any source the same way: a fixed table ({@link #of}), a route file, the registry in etcd, or one an
 * embedder writes.
 *
 * <pre>{@code
 * try (RouteSource routes = new RouteFileSource(Path.of("sni.yaml"), Duration.ofSeconds(2))) {
 *     TunnelServer proxy = SniProxy.builder().routes(routes.start()).start();
 *     ...
 * }
 * }</pre>
 */
public interface RouteSource extends AutoCloseable {
    /**
     * The first snapshot.
     *
     * @throws IOException              if the source cannot be read
     * @throws IllegalArgumentException if what it holds is not a valid route table
     */
    RouteTable initial() throws IOException;

    /** Starts swapping later snapshots into {@code holder}; a fixed source never does. */
    void feed(RouteHolder holder);

    /** Stops feeding. */
    @Override
    void close();

    /**
     * Why the source cannot refresh the routes right now (the table in force stays), or empty when it can. A fixed
     * source never has a problem.
     */
    default Optional<String> problem() {
        return Optional.empty();
    }

    /**
     * Reads the source again now instead of waiting for its next change (what {@code fedlink proxy} does on SIGHUP);
     * the outcome is logged, and a failure keeps the table in force. A fixed source does nothing.
     */
    default void reload() {
        // nothing to read again
    }

    /** A holder with the first snapshot, fed from now on. */
    default RouteHolder start() throws IOException {
        RouteHolder holder = new RouteHolder(initial());
        feed(holder);
        return holder;
    }

    /** A source that always has {@code table}. */
    static RouteSource of(RouteTable table) {
        Objects.requireNonNull(table, "table");
        return new RouteSource() {
            @Override
            public RouteTable initial() {
                return table;
            }

            @Override
            public void feed(RouteHolder holder) {
                // never changes
            }

            @Override
            public void close() {
                // nothing to stop
            }
        };
    }
}
