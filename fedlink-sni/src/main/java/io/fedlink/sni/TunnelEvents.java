package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to tunnels and refused connections, told to the embedder's {@link TunnelListener} (on the calling
 * loop) and to the log. Log lines go off the data path: they are handed to a bounded queue ({@value #CAPACITY}
 * lines) drained by one thread, so a log sink that blocks (a stderr pipe nobody reads) can never stall a loop; when
 * the queue is full the line is dropped and counted. Posting takes no lock and wakes no thread: the drain thread
 * looks for lines every {@value #BUSY_PARK_MILLIS} ms while lines come, every {@value #IDLE_PARK_MILLIS} ms once idle
 * (waking it per line cost a futex call and a context switch per connection). Refusal lines are rate-limited to
 * {@value #REFUSALS_PER_SECOND} a second; the rest are counted and summarised. Also keeps the set of open tunnels.
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

    private static final Runnable STOP = () -> { };

    private final TunnelListener listener;
    private final Set<Tunnel> open = ConcurrentHashMap.newKeySet();
    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private final Thread thread;
    private long windowStart = System.nanoTime();
    private int inWindow;
    private long suppressed;

    TunnelEvents(TunnelListener listener, String threadName) {
        this.listener = listener;
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
        if (access.isInfoEnabled()) {
            Object client = t.clientAddress();
            Object name = t.serverName() == null ? "-" : t.serverName();
            Object target = t.target();
            long up = t.bytesFromClient();
            long down = t.bytesToClient();
            Object reason = t.closeReason();
            post(() -> access.info("client={} sni={} target={} up={} down={} duration_ms={} reason={}", client, name,
                    target, up, down, millis, reason));
        }
        try {
            listener.tunnelClosed(t);
        } catch (RuntimeException e) {
            post(() -> log.warn("tunnel listener failed on close of {}", t, e));
        }
    }

    /** A connection was refused: one rate-limited INFO line (client, name, reason, what happened). */
    void refused(InetSocketAddress client, String serverName, RefusalReason reason, String detail) {
        if (refusals.isInfoEnabled()) {
            post(() -> refusal(client, serverName == null ? "-" : serverName, reason, detail));
        }
        try {
            listener.connectionRefused(client, serverName, reason);
        } catch (RuntimeException e) {
            post(() -> log.warn("tunnel listener failed on refusal of {}", client, e));
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

    private void refusal(Object client, String name, Object reason, String detail) {
        long now = System.nanoTime();
        if (now - windowStart >= TimeUnit.SECONDS.toNanos(1)) {
            if (suppressed > 0) {
                refusals.info("{} more refusals in the last second not logged (rate limit {}/s)", suppressed,
                        REFUSALS_PER_SECOND);
            }
            windowStart = now;
            inWindow = 0;
            suppressed = 0;
        }
        if (inWindow++ < REFUSALS_PER_SECOND) {
            refusals.info("refused client={} sni={} reason={} ({})", client, name, reason, detail);
        } else {
            suppressed++;
        }
    }

    private void drain() {
        int emptyLooks = 0;
        while (!Thread.currentThread().isInterrupted()) {
            Runnable r = queue.poll();
            if (r == null) {
                emptyLooks = Math.min(IDLE_AFTER, emptyLooks + 1);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(
                        emptyLooks < IDLE_AFTER ? BUSY_PARK_MILLIS : IDLE_PARK_MILLIS));
                continue;
            }
            emptyLooks = 0;
            queued.decrementAndGet();
            if (r == STOP) {
                return;
            }
            try {
                r.run();
            } catch (Throwable t) { // a broken appender must not end the log thread
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
