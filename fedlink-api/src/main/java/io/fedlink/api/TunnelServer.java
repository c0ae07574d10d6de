package io.fedlink.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A running tunnel listener, made by a {@link TunnelTransport}. It routes every accepted connection by the server
 * name of its ClientHello and copies bytes blindly both ways.
 */
public interface TunnelServer extends AutoCloseable {
    /** The address actually bound (useful with port 0). */
    InetSocketAddress localAddress();

    /** The tunnels open now (a snapshot). */
    List<Tunnel> tunnels();

    /** Counters since start. */
    TunnelStats stats();

    /** The route snapshot in force. */
    RouteTable routes();

    /**
     * Whether the server serves new connections: {@code false} once closed, or when an internal thread died (then
     * it has stopped accepting and should be restarted).
     */
    default boolean ready() {
        return true;
    }

    /**
     * Whether a graceful {@link #close(Duration)} is in progress: no longer accepting, open tunnels draining.
     * {@code false} before the close and again once it has finished. While draining, {@link #ready()} is false.
     */
    default boolean draining() {
        return false;
    }

    /**
     * The health of every target of the routes in force (a snapshot, in route order); empty for a transport that
     * does not track it. Targets a reload removed are forgotten; those that stay keep their state.
     */
    default List<TargetStatus> targets() {
        return List.of();
    }

    /** The party agents connected now (a snapshot); empty without an agent listener. */
    default List<AgentStatus> agents() {
        return List.of();
    }

    /**
     * Agent connections refused or cut off since start, by reason (lower case: e.g. {@code tls_failed},
     * {@code not_a_party}, {@code no_agent_route}, {@code bad_token}, {@code cut_off}); empty without an agent
     * listener.
     */
    default java.util.Map<String, Long> agentRefusals() {
        return java.util.Map.of();
    }

    /** The address the agent listener bound, or {@code null} without one. */
    default InetSocketAddress agentAddress() {
        return null;
    }

    /**
     * Replaces the routes for new connections. Live tunnels the new table no longer serves are closed when
     * {@link TunnelServerConfig#closeUnroutedTunnels()} (the default, in fedlink-sni's transport); the others are
     * not touched.
     */
    void routes(RouteTable next);

    /**
     * Closes the open tunnels that {@code which} selects, so that their clients reconnect and make a new TLS
     * handshake with the target. This is how a certificate rotation reaches connections that live for days: a TLS
     * endpoint that re-reads its certificate files (Pulsar does, every {@code tlsCertRefreshCheckDurationSec})
     * presents the new certificate only on new connections, and the replicator never idles its connections out.
     *
     * <p>{@code which} is evaluated on the calling thread over a snapshot of {@link #tunnels()} before anything is
     * closed (so if it throws, nothing is closed). The selected tunnels end with {@link CloseReason#ROTATED}: both
     * connections are closed in order (a FIN, not a reset; bytes in flight inside the proxy are dropped), the TLS
     * peers see the connection end and reconnect. Other tunnels, new connections and the routes are not touched.
     * Returns once the tunnels are closed (or after a few seconds if the server is shutting down). The transport of
     * fedlink-sni logs one line per call with the count; this default closes them with {@link Tunnel#close()}
     * instead (reason {@link CloseReason#CLOSED_BY_APPLICATION}).
     *
     * @param which selects the tunnels to close, e.g. {@code t -> "9999.fate.org".equals(t.serverName())}
     * @return how many tunnels were closed
     */
    default int closeTunnels(Predicate<? super Tunnel> which) {
        Objects.requireNonNull(which, "which");
        List<Tunnel> chosen = tunnels().stream().filter(t -> t.isOpen() && which.test(t)).toList();
        chosen.forEach(Tunnel::close);
        return chosen.size();
    }

    /**
     * Stops accepting, lets open tunnels drain until {@code grace} has passed, then closes the rest (reason
     * {@link CloseReason#SERVER_SHUTDOWN}) and releases every thread and buffer. Idempotent.
     *
     * @return {@code true} if every tunnel ended by itself within the grace period
     * @throws InterruptedException if interrupted while waiting; the server is then closed abortively
     */
    boolean close(Duration grace) throws InterruptedException;

    /** Closes at once: {@code close(Duration.ZERO)}. */
    @Override
    void close();
}
