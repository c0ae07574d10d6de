package io.fedlink.sni;

import org.slf4j.Logger;

/**
 * At most one line a second through one logger, for events a peer can repeat at will (refusals, an unreachable
 * target); the lines left out are counted in the next one. Thread-safe.
 */
final class RateLimitedLog {
    private final Logger log;
    private long next = System.nanoTime();
    private long skipped;

    RateLimitedLog(Logger log) {
        this.log = log;
    }

    /** Logs at INFO unless a line went out less than a second ago. */
    void info(String format, Object... args) {
        String suffix = admit();
        if (suffix != null) {
            log.info(format + suffix, args);
        }
    }

    /** Logs at WARN unless a line went out less than a second ago. */
    void warn(String format, Object... args) {
        String suffix = admit();
        if (suffix != null) {
            log.warn(format + suffix, args);
        }
    }

    /** {@code null} when the line is left out, else what to append (the count of lines left out, if any). */
    private synchronized String admit() {
        long now = System.nanoTime();
        if (now - next < 0) {
            skipped++;
            return null;
        }
        next = now + 1_000_000_000L;
        String suffix = skipped > 0 ? " (" + skipped + " more since the last report)" : "";
        skipped = 0;
        return suffix;
    }
}
