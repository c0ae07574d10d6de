package io.fedlink.sni;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an event loop does when {@code accept} fails (typically out of file descriptors): stops accepting for 10 ms,
 * doubling up to 1 s while failures go on, logs at most one line a second with the count, and one line when
 * accepting works again. One per loop, used on that loop's thread only.
 */
final class AcceptBackoff {
    static final long FIRST_MILLIS = 10;
    static final long MAX_MILLIS = 1000;
    private static final Logger log = LoggerFactory.getLogger(AcceptBackoff.class);

    private final InetSocketAddress address;
    private long delayMillis;
    private long failures;
    private long failuresSinceLog;
    private long nextLogNanos = System.nanoTime();

    AcceptBackoff(InetSocketAddress address) {
        this.address = address;
    }

    /**
     * Counts a failure and logs if a second has passed since the last line.
     *
     * @return how long to stop accepting, in milliseconds
     */
    long failed(Exception e) {
        failures++;
        failuresSinceLog++;
        delayMillis = delayMillis == 0 ? FIRST_MILLIS : Math.min(MAX_MILLIS, delayMillis * 2);
        long now = System.nanoTime();
        if (now - nextLogNanos >= 0) {
            log.warn("accept failed on {} {} times since the last report ({}); retrying in {} ms", address,
                    failuresSinceLog, e.toString(), delayMillis);
            failuresSinceLog = 0;
            nextLogNanos = now + TimeUnit.SECONDS.toNanos(1);
        }
        return delayMillis;
    }

    /** An accept worked: if it had been failing, says so once and resets the delay. */
    void succeeded() {
        if (failures > 0) {
            log.info("accepting again on {} after {} failed accepts", address, failures);
            failures = 0;
            failuresSinceLog = 0;
            delayMillis = 0;
        }
    }
}
