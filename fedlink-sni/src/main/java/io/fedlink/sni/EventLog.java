package io.fedlink.sni;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's log lines, off the data path: event loops hand each line to a bounded queue ({@value #CAPACITY}
 * lines) drained by one thread, so a log sink that blocks (a stderr pipe nobody reads) can never stall a loop. When
 * the queue is full the line is dropped and counted. Refusal lines are rate-limited to {@value #REFUSALS_PER_SECOND}
 * a second; the rest are counted and summarised once a second.
 */
final class EventLog {
    static final int CAPACITY = 8192;
    static final int REFUSALS_PER_SECOND = 20;
    private static final Logger access = LoggerFactory.getLogger("io.fedlink.sni.access");
    private static final Logger refusals = LoggerFactory.getLogger("io.fedlink.sni.refusals");

    private static final Runnable STOP = () -> { };

    private final BlockingQueue<Runnable> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final LongAdder dropped = new LongAdder();
    private final Thread thread;
    private long windowStart = System.nanoTime();
    private int inWindow;
    private long suppressed;

    EventLog(String threadName) {
        this.thread = new Thread(this::drain, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** One access-log line for a tunnel that ended. */
    void tunnelClosed(Connection c, long millis) {
        if (access.isInfoEnabled()) {
            Object client = c.clientAddress();
            Object name = c.serverName() == null ? "-" : c.serverName();
            Object target = c.target();
            long up = c.bytesFromClient();
            long down = c.bytesToClient();
            Object reason = c.closeReason();
            post(() -> access.info("client={} sni={} target={} up={} down={} duration_ms={} reason={}", client, name,
                    target, up, down, millis, reason));
        }
    }

    /** One rate-limited INFO line for a refusal: client, name, reason and what happened. */
    void refused(Object client, String serverName, Object reason, String detail) {
        if (refusals.isInfoEnabled()) {
            post(() -> refusal(client, serverName == null ? "-" : serverName, reason, detail));
        }
    }

    /** Any other line that must not block its caller. */
    void post(Runnable logCall) {
        if (!queue.offer(logCall)) {
            dropped.increment();
        }
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
        while (true) {
            Runnable r;
            try {
                r = queue.take();
            } catch (InterruptedException e) {
                return;
            }
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
        if (!queue.offer(STOP)) {
            thread.interrupt();
        }
    }
}
