package io.fedlink.pki;

import java.time.Duration;
import java.util.Objects;

/**
 * How parties renew ({@link EnrollmentAuthority#renewalRules(java.time.Duration, int, java.time.Duration)}): a renewal supersedes the presented
 * certificate, which is revoked (reason {@code superseded}) effective {@code overlap} later, so services that still
 * present it can reload first; a party renews at most {@code maxRenewals} times per {@code window} (further requests
 * are refused and counted).
 *
 * @param overlap     how long a superseded certificate stays unrevoked
 * @param maxRenewals renewals per party per window
 * @param window      the rate limit's sliding window
 */
record RenewalRules(Duration overlap, int maxRenewals, Duration window) {
    /** 10 minutes of overlap; 6 renewals per party per hour. */
    static final RenewalRules DEFAULT = new RenewalRules(Duration.ofMinutes(10), 6, Duration.ofHours(1));

    /** Validates. */
    RenewalRules {
        Objects.requireNonNull(overlap, "overlap");
        Objects.requireNonNull(window, "window");
        if (overlap.isNegative()) {
            throw new IllegalArgumentException("the superseded certificate's overlap must be zero or positive, was "
                    + overlap);
        }
        if (maxRenewals < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("the renewal rate limit must allow at least 1 renewal in a positive "
                    + "window, was " + maxRenewals + " per " + window);
        }
    }
}
