package io.fedlink.api;

import java.util.Map;

/**
 * A snapshot of a {@link TunnelServer}'s counters since it started. Counters are read one by one without a lock,
 * so the snapshot is not atomic across fields.
 *
 * @param accepted          connections accepted
 * @param routed            connections whose hello resolved to a route
 * @param refused           refusals by reason (every reason present, zero when none)
 * @param connectFailures   connects to targets that failed or timed out (also counted in {@code refused})
 * @param timeouts          hello, connect and idle timeouts
 * @param bytesFromClients  bytes copied from clients to targets
 * @param bytesToClients    bytes copied from targets to clients
 * @param liveTunnels       tunnels open now
 * @param pendingHandshakes connections still reading their hello or connecting now
 * @param closed            ended tunnels by close reason (every reason present when the transport counts them)
 */
public record TunnelStats(long accepted, long routed, Map<RefusalReason, Long> refused, long connectFailures,
                          long timeouts, long bytesFromClients, long bytesToClients, long liveTunnels,
                          long pendingHandshakes, Map<CloseReason, Long> closed) {
    /** Copies the maps. */
    public TunnelStats {
        refused = Map.copyOf(refused);
        closed = Map.copyOf(closed);
    }

    /** Counters of a transport that does not count ended tunnels by reason ({@link #closed()} empty). */
    public TunnelStats(long accepted, long routed, Map<RefusalReason, Long> refused, long connectFailures,
                       long timeouts, long bytesFromClients, long bytesToClients, long liveTunnels,
                       long pendingHandshakes) {
        this(accepted, routed, refused, connectFailures, timeouts, bytesFromClients, bytesToClients, liveTunnels,
                pendingHandshakes, Map.of());
    }

    /** Ended tunnels for one close reason. */
    public long closed(CloseReason reason) {
        return closed.getOrDefault(reason, 0L);
    }

    /** Refusals for one reason. */
    public long refused(RefusalReason reason) {
        return refused.getOrDefault(reason, 0L);
    }

    /** Refusals for all reasons. */
    public long refusedTotal() {
        return refused.values().stream().mapToLong(Long::longValue).sum();
    }
}
