package io.fedlink.pki.enroll;

import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a party's certificate fresh: renews at about two thirds of its lifetime (plus or minus a jitter, so a
 * federation's parties do not all call at once), writes the new files with {@link PartyFiles} (key and certificate
 * switch together), then calls the hook (e.g. {@code ReloadableTlsMaterial::update}, or a command). It fails safe: a
 * failed renewal keeps the current files, retries with exponential backoff ({@link #backoff(Duration, Duration)}),
 * warns once the last sixth of the lifetime is reached and logs an error once the certificate has expired. A party
 * whose certificate was revoked is refused by the CA side; the renewer keeps retrying (the operator must re-enroll
 * it) and says so.
 *
 * <pre>{@code
 * Renewer r = Renewer.of(new EnrollmentClient(URI.create("https://ca.fate.org:8443")), new PartyFiles(dir), null,
 *     live::update);
 * r.start();
 * }</pre>
 */
public final class Renewer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Renewer.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final EnrollmentClient client;
    private final PartyFiles files;
    private final Duration lifetime;
    private final double jitter;
    private Duration minBackoff;
    private Duration maxBackoff;
    private final Consumer<TlsMaterial> onRenewed;
    private final ScheduledExecutorService timer;
    private int failures;
    private Instant next;

    private Renewer(Builder b) {
        this.client = b.client;
        this.files = b.files;
        this.lifetime = b.lifetime;
        this.jitter = b.jitter;
        this.minBackoff = b.minBackoff;
        this.maxBackoff = b.maxBackoff;
        this.onRenewed = b.onRenewed;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-renewer");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A renewer (not started) of the identity in {@code files}, talking to {@code client}.
     *
     * @param lifetime  the lifetime asked for at each renewal ({@code null}: the CA's maximum)
     * @param onRenewed called with the new material after each renewal, once the files are in place ({@code null}:
     *                  nothing)
     */
    public static Renewer of(EnrollmentClient client, PartyFiles files, Duration lifetime,
                             Consumer<TlsMaterial> onRenewed) {
        return builder(client, files).lifetime(lifetime).onRenewed(onRenewed).build();
    }

    /** Options beyond {@link #of}, for the module's tests (jitter). */
    static Builder builder(EnrollmentClient client, PartyFiles files) {
        return new Builder(client, files);
    }

    /** Sets the first retry delay (default 5 s) and the cap of its doubling (default 5 min); returns this. */
    public synchronized Renewer backoff(Duration min, Duration max) {
        requireBackoff(min, max);
        this.minBackoff = min;
        this.maxBackoff = max;
        return this;
    }

    private static void requireBackoff(Duration min, Duration max) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, was " + min + ", " + max);
        }
    }

    /**
     * When to renew {@code cert}: at {@code fraction} of its lifetime, moved by up to {@code jitter} of the lifetime
     * either way (never before now).
     */
    static Instant renewalTime(X509Certificate cert, double fraction, double jitter, Instant now) {
        Instant from = cert.getNotBefore().toInstant();
        long life = Duration.between(from, cert.getNotAfter().toInstant()).toMillis();
        long shift = jitter == 0 ? 0 : (long) ((RANDOM.nextDouble() * 2 - 1) * jitter * life);
        Instant at = from.plusMillis((long) (life * fraction) + shift);
        return at.isBefore(now) ? now : at;
    }

    /** Renews once, now: new key, new certificate, files switched, hook called. */
    public synchronized TlsMaterial renewNow() throws IOException {
        TlsMaterial renewed = client.renew(files.read(), lifetime);
        files.write(renewed);
        X509Certificate c = renewed.certificate();
        LOG.info("renewed {}: serial {}, valid until {}", c.getSubjectX500Principal().getName(),
                c.getSerialNumber().toString(16), c.getNotAfter().toInstant());
        if (onRenewed != null) {
            try {
                onRenewed.accept(renewed);
            } catch (RuntimeException e) {
                LOG.warn("the renewal hook failed (the new files are in place): {}", e.toString());
            }
        }
        return renewed;
    }

    /**
     * Schedules the renewals, the first at the current certificate's renewal time, which it returns (for the
     * operator: "next renewal at ...").
     */
    public synchronized Instant start() throws IOException {
        schedule(renewalTime(files.read().certificate(), 2.0 / 3, jitter, Instant.now()));
        return next;
    }

    /** Failed attempts since the last success. */
    synchronized int failures() {
        return failures;
    }

    private void schedule(Instant at) {
        next = at;
        long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis());
        timer.schedule(this::attempt, delay, TimeUnit.MILLISECONDS);
    }

    private synchronized void attempt() {
        X509Certificate old = null;
        try {
            old = files.read().certificate();
            TlsMaterial renewed = renewNow();
            failures = 0;
            schedule(renewalTime(renewed.certificate(), 2.0 / 3, jitter, Instant.now()));
        } catch (IOException | RuntimeException e) {
            failures++;
            Duration wait = backoff(failures);
            Instant expiry = old == null ? null : old.getNotAfter().toInstant();
            String message = "renewal failed (attempt " + failures + "): " + e.getMessage() + "; the current "
                    + "certificate stays in place" + (expiry == null ? "" : " (valid until " + expiry + ")")
                    + "; next try in " + wait.toMillis() + " ms";
            if (expiry != null && !Instant.now().isBefore(expiry)) {
                LOG.error("{}; THE CERTIFICATE HAS EXPIRED: peers will refuse new connections", message);
            } else if (old != null && Instant.now().isAfter(lastSixth(old))) {
                LOG.warn("{}; the certificate expires SOON", message);
            } else {
                LOG.warn(message);
            }
            schedule(Instant.now().plus(wait));
        }
    }

    private static Instant lastSixth(X509Certificate c) {
        Instant from = c.getNotBefore().toInstant();
        Instant to = c.getNotAfter().toInstant();
        return to.minus(Duration.between(from, to).dividedBy(6));
    }

    /** {@code minBackoff * 2^(n-1)}, at most {@code maxBackoff}. */
    synchronized Duration backoff(int n) {
        Duration d = minBackoff;
        for (int i = 1; i < n && d.compareTo(maxBackoff) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }

    /** Stops renewing. */
    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** Options of a {@link Renewer}. */
    static final class Builder {
        private final EnrollmentClient client;
        private final PartyFiles files;
        private Duration lifetime;
        private double jitter = 0.05;
        private Duration minBackoff = Duration.ofSeconds(5);
        private Duration maxBackoff = Duration.ofMinutes(5);
        private Consumer<TlsMaterial> onRenewed;

        private Builder(EnrollmentClient client, PartyFiles files) {
            this.client = Objects.requireNonNull(client, "client");
            this.files = Objects.requireNonNull(files, "files");
        }

        /** The lifetime asked for at each renewal ({@code null}, the default: the CA's maximum). */
        Builder lifetime(Duration d) {
            this.lifetime = d;
            return this;
        }

        /** The jitter as a fraction of the lifetime, 0..0.15 (default 0.05). */
        Builder jitter(double fraction) {
            if (fraction < 0 || fraction > 0.15) {
                throw new IllegalArgumentException("jitter must be 0..0.15 of the lifetime, was " + fraction);
            }
            this.jitter = fraction;
            return this;
        }

        /** The first retry delay (default 5 s) and the cap of the doubling (default 5 min). */
        Builder backoff(Duration min, Duration max) {
            requireBackoff(min, max);
            this.minBackoff = min;
            this.maxBackoff = max;
            return this;
        }

        /** Called with the new material after each renewal (after the files are in place). */
        Builder onRenewed(Consumer<TlsMaterial> hook) {
            this.onRenewed = hook;
            return this;
        }

        /** Builds (not started). */
        Renewer build() {
            return new Renewer(this);
        }
    }
}
