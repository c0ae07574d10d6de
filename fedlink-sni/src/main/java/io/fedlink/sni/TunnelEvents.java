package io.fedlink.sni;

import io.fedlink.api.AccessLogFormat;
import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import java.io.Flushable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to tunnels and refused connections, told to the embedder's {@link TunnelListener} (on the calling
 * loop) and to the log. Log lines go off the data path: they are handed to a bounded queue ({@value #CAPACITY}
 * lines) drained by one thread, so a log sink that blocks (a stderr pipe nobody reads) can never stall a loop; when
 * the queue is full the line is dropped and counted. Posting takes no lock and wakes no thread: the drain thread
 * looks for lines every {@value #BUSY_PARK_MILLIS} ms while lines come, every {@value #IDLE_PARK_MILLIS} ms once idle
 * (waking it per line cost a futex call and a context switch per connection). Refusal lines are rate-limited to
 * {@value #REFUSALS_PER_SECOND} a second; the rest are counted and summarised. The loops only capture a tunnel's
 * figures; lines are formatted ({@link AccessLines}, text or JSON) on the log thread, and go to the loggers or to the
 * configured sink. Also keeps the set of open tunnels.
 */
final class TunnelEvents {
    static final int CAPACITY = 8192;
    static final int REFUSALS_PER_SECOND = 20;
    static final long BUSY_PARK_MILLIS = 5;
    static final long IDLE_PARK_MILLIS = 50;
    /** Empty looks after which the drain thread counts as idle. */
    private static final int IDLE_AFTER = 20;
    private static final Logger access = LoggerFactory.getLogger("io.fedlink.sni.access");
    private static final Logger refusals = LoggerFactory.getLogger("io.fedlink.sni.refusals");
    private static final Logger log = LoggerFactory.getLogger(TunnelEvents.class);
    private static final Logger targets = LoggerFactory.getLogger("io.fedlink.sni.targets");
    static final int TARGET_LINES_PER_SECOND = 20;

    private static final Runnable STOP = () -> { };

    private final TunnelListener listener;
    private final boolean json;
    private final Consumer<String> sink; // null: the loggers
    private final Set<Tunnel> open = ConcurrentHashMap.newKeySet();
    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private final Thread thread;
    private long windowStart = System.nanoTime();
    private int inWindow;
    private long suppressed;
    private long targetWindowStart = System.nanoTime();
    private int targetLinesInWindow;
    private long targetLinesSuppressed;

    /** Lines in {@code format}, to {@code sink} when not {@code null}, else to the loggers. */
    TunnelEvents(TunnelListener listener, String threadName, AccessLogFormat format, Consumer<String> sink) {
        this.listener = listener;
        this.json = format == AccessLogFormat.JSON;
        this.sink = sink;
        this.thread = new Thread(this::drain, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** A tunnel opened. */
    void opened(Tunnel t) {
        open.add(t);
        try {
            listener.tunnelOpened(t);
        } catch (RuntimeException e) {
            post(() -> log.warn("tunnel listener failed on open of {}", t, e));
        }
    }

    /** A tunnel ended after {@code millis}: one access-log line. */
    void closed(Tunnel t, long millis) {
        open.remove(t);
        if (sink != null || access.isInfoEnabled()) {
            long now = System.currentTimeMillis();
            long id = t.id();
            InetSocketAddress client = t.clientAddress();
            String name = t.serverName();
            PartyRoute route = t.route();
            Endpoint target = t.target();
            long up = t.bytesFromClient();
            long down = t.bytesToClient();
            CloseReason reason = t.closeReason();
            if (json) {
                post(() -> write(access, AccessLines.tunnelJson(now, id, client, name,
                        route == null ? null : route.serverName(), target, millis, up, down, reason)));
            } else if (sink != null) {
                post(() -> sink.accept(AccessLines.tunnelText(client, name == null ? "-" : name, target, up, down,
                        millis, reason)));
            } else {
                Object n = name == null ? "-" : name;
                post(() -> access.info("client={} sni={} target={} up={} down={} duration_ms={} reason={}", client,
                        n, target, up, down, millis, reason));
            }
        }
        try {
            listener.tunnelClosed(t);
        } catch (RuntimeException e) {
            post(() -> log.warn("tunnel listener failed on close of {}", t, e));
        }
    }

    /** A connection was refused: one rate-limited INFO line (client, name, reason, what happened). */
    void refused(InetSocketAddress client, String serverName, RefusalReason reason, String detail) {
        if (sink != null || refusals.isInfoEnabled()) {
            long now = System.currentTimeMillis();
            post(() -> refusal(now, client, serverName, reason, detail));
        }
        try {
            listener.connectionRefused(client, serverName, reason);
        } catch (RuntimeException e) {
            post(() -> log.warn("tunnel listener failed on refusal of {}", client, e));
        }
    }

    /**
     * A target was ejected ({@code up} false) or came back: one WARN (ejected) or INFO (back) line, off the loop, at
     * most {@value #TARGET_LINES_PER_SECOND} a second (the rest counted in a summary line).
     */
    void targetChanged(String route, String target, boolean up, String detail) {
        post(() -> targetLine(route, target, up, detail));
    }

    private void targetLine(String route, String target, boolean up, String detail) {
        long now = System.nanoTime();
        if (now - targetWindowStart >= TimeUnit.SECONDS.toNanos(1)) {
            if (targetLinesSuppressed > 0) {
                targets.warn("{} more target state changes in the last second not logged (rate limit {}/s)",
                        targetLinesSuppressed, TARGET_LINES_PER_SECOND);
            }
            targetWindowStart = now;
            targetLinesInWindow = 0;
            targetLinesSuppressed = 0;
        }
        if (targetLinesInWindow++ >= TARGET_LINES_PER_SECOND) {
            targetLinesSuppressed++;
        } else if (up) {
            targets.info("target back route={} target={} ({})", route, target, detail);
        } else {
            targets.warn("target ejected route={} target={} ({})", route, target, detail);
        }
    }

    /** The tunnels open now. */
    List<Tunnel> open() {
        return List.copyOf(open);
    }

    boolean noneOpen() {
        return open.isEmpty();
    }

    /** Any other line that must not block its caller. */
    void post(Runnable logCall) {
        if (queued.incrementAndGet() > CAPACITY) {
            queued.decrementAndGet();
            dropped.increment();
            return;
        }
        queue.offer(logCall);
    }

    /** Lines dropped because the queue was full. */
    long dropped() {
        return dropped.sum();
    }

    /** On the log thread: one refusal line, unless over the rate limit. */
    private void refusal(long epochMillis, InetSocketAddress client, String name, RefusalReason reason,
                         String detail) {
        long now = System.nanoTime();
        if (now - windowStart >= TimeUnit.SECONDS.toNanos(1)) {
            if (suppressed > 0) {
                if (json) {
                    write(refusals, AccessLines.suppressedJson(epochMillis, suppressed, REFUSALS_PER_SECOND));
                } else if (sink != null) {
                    sink.accept(AccessLines.suppressedText(suppressed, REFUSALS_PER_SECOND));
                } else {
                    refusals.info("{} more refusals in the last second not logged (rate limit {}/s)", suppressed,
                            REFUSALS_PER_SECOND);
                }
            }
            windowStart = now;
            inWindow = 0;
            suppressed = 0;
        }
        if (inWindow++ >= REFUSALS_PER_SECOND) {
            suppressed++;
        } else if (json) {
            write(refusals, AccessLines.refusalJson(epochMillis, client, name, reason, detail));
        } else if (sink != null) {
            sink.accept(AccessLines.refusalText(client, name == null ? "-" : name, reason, detail));
        } else {
            refusals.info("refused client={} sni={} reason={} ({})", client, name == null ? "-" : name, reason,
                    detail);
        }
    }

    /** On the log thread: a finished line to the sink, or as the whole message of {@code logger}. */
    private void write(Logger logger, String line) {
        if (sink != null) {
            sink.accept(line);
        } else {
            logger.info("{}", line);
        }
    }

    private void drain() {
        int emptyLooks = 0;
        boolean unflushed = false;
        while (!Thread.currentThread().isInterrupted()) {
            Runnable r = queue.poll();
            if (r == null) {
                if (unflushed) { // the queue ran dry: hand the batch to the sink's output now
                    flushSink();
                    unflushed = false;
                }
                emptyLooks = Math.min(IDLE_AFTER, emptyLooks + 1);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(
                        emptyLooks < IDLE_AFTER ? BUSY_PARK_MILLIS : IDLE_PARK_MILLIS));
                continue;
            }
            emptyLooks = 0;
            queued.decrementAndGet();
            if (r == STOP) {
                flushSink();
                return;
            }
            try {
                r.run();
                unflushed = true;
            } catch (Throwable t) { // a broken appender must not end the log thread
                dropped.increment();
            }
        }
    }

    /** A sink that buffers ({@link Flushable}) writes its batch when the queue runs dry, not once per line. */
    private void flushSink() {
        if (sink instanceof Flushable f) {
            try {
                f.flush();
            } catch (IOException | RuntimeException e) {
                dropped.increment();
            }
        }
    }

    /** Stops the drain thread after the lines queued so far (at once when the queue is full). */
    void stop() {
        if (queued.get() >= CAPACITY) {
            thread.interrupt();
        } else {
            queued.incrementAndGet();
            queue.offer(STOP);
        }
        LockSupport.unpark(thread);
    }
}
