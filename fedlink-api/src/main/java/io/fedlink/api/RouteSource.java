package io.fedlink.api;

import java.io.IOException;
import java.util.Objects;

/**
 * Where a proxy's routes come from: a stream of immutable {@link RouteTable} snapshots feeding a
 * {@link RouteHolder}. A source produces its first snapshot when asked ({@link #initial()}, which fails if there is
 * none) and then, once {@link #feed fed} a holder, swaps later snapshots into it until closed. A source that cannot
 * produce a later snapshot keeps the holder's table and says why; it never empties the holder.
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
