package io.fedlink.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

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

    /** Replaces the routes for new connections; live tunnels are not touched. */
    void routes(RouteTable next);

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
