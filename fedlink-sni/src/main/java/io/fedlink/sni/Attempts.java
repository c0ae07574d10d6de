package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import java.time.Duration;

/**
 * The connect phase of one connection, without I/O: which target to try next and until when, what a failed attempt
 * counts against, and why the connection is refused when no target or no time is left. The next target is the one
 * the route's policy picks among those not tried yet, with half of the connect time left (all of it for the last
 * untried target, so a one-target route keeps the whole connect timeout; halving rather than splitting evenly keeps
 * the first attempts, which go to healthy targets, long enough for a distant target however many are listed).
 * The target of the current attempt counts one connection (for least-connections balancing) until
 * {@link #release()}. Used on the connection's event loop only; the clock is passed in.
 */
final class Attempts {
    /** One attempt: the target's index in the route, its address, the attempt's deadline and its generation. */
    record Attempt(int index, Endpoint target, long deadline, int generation) {}

    private final TargetHealth.Group targets;
    private final String serverName;
    private final long connectDeadline;
    private long tried;            // bit i: target i was tried
    private int index = -1;        // the target of the current attempt
    private int generation;        // of the current attempt: answers to an older one are stale
    private TargetHealth.State counted;
    private RefusalReason lastReason = RefusalReason.CONNECT_FAILED;
    private String lastDetail = "no target";

    /** The attempts for a hello naming {@code serverName}, all within {@code connectDeadline} (nanoTime). */
    Attempts(TargetHealth.Group targets, String serverName, long connectDeadline) {
        this.targets = targets;
        this.serverName = serverName;
        this.connectDeadline = connectDeadline;
    }

    /** The next attempt at {@code now}; {@code null} when no target or no time is left (see {@link #reason()}). */
    Attempt next(long now) {
        release();
        while (true) {
            long left = connectDeadline - now;
            int i = left > 0 ? targets.pick(tried, now) : -1;
            if (i < 0) {
                return null;
            }
            tried |= 1L << i;
            Endpoint e;
            try {
                e = targets.route.targetFor(i, serverName);
            } catch (IllegalArgumentException ex) { // a template this name cannot fill
                lastReason = RefusalReason.UNKNOWN_SERVER_NAME;
                lastDetail = ex.getMessage();
                continue;
            }
            index = i;
            counted = targets.states[i];
            counted.connections.incrementAndGet();
            long deadline = Long.bitCount(tried) == targets.size() ? connectDeadline : now + left / 2;
            return new Attempt(i, e, deadline, ++generation);
        }
    }

    /** Whether {@code generation} is the current attempt's (a lookup's answer for an abandoned one is not). */
    boolean current(int generation) {
        return generation == this.generation;
    }

    /**
     * The current attempt failed at {@code now}: a connect that failed or timed out counts against its target's
     * health (a busy or failed lookup does not); the reason is kept for the refusal if no attempt is left.
     */
    void failed(RefusalReason reason, String detail, long now) {
        release();
        if (reason == RefusalReason.CONNECT_FAILED || reason == RefusalReason.CONNECT_TIMEOUT) {
            targets.failed(index, now, detail);
        }
        lastReason = reason;
        lastDetail = detail;
    }

    /** The current attempt connected: its target is healthy again (it stays counted until {@link #release()}). */
    void succeeded() {
        targets.succeeded(index);
    }

    /** Stops counting the current attempt's target (the tunnel ended, or the attempt did). */
    void release() {
        if (counted != null) {
            counted.connections.decrementAndGet();
            counted = null;
        }
    }

    /** Why the connection is refused when {@link #next(long)} found nothing: the last attempt's reason. */
    RefusalReason reason() {
        return lastReason;
    }

    /** The last attempt's detail, with the number of targets tried when more than one was. */
    String detail() {
        int n = Long.bitCount(tried);
        return n > 1 ? lastDetail + " (" + n + " targets tried)" : lastDetail;
    }

    /** The current attempt's time, for messages: the connect timeout, or a share of it. */
    String share(Duration connectTimeout) {
        return targets.size() == 1 ? connectTimeout.toString() : "its share of the connect timeout " + connectTimeout;
    }
}
