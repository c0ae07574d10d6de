package io.fedlink.pki.enroll;

import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link ReloadableTlsMaterial} on the identity in a {@link PartyFiles} folder that another process renews
 * (e.g. {@code fedlink pki renew --daemon}): it checks where the {@code current} link points every interval and,
 * when it moved, reads the new version and updates the material, so a JSSE service picks up renewals without a
 * restart. Versions are complete before the link moves, so a read never sees half a renewal. A version that cannot
 * be read is reported once and retried at the next check; the material keeps the last good identity.
 */
final class PartyFilesWatcher implements java.io.Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PartyFilesWatcher.class);

    private final PartyFiles files;
    private final ReloadableTlsMaterial live;
    private final ScheduledExecutorService timer;
    private Path seen;
    private Path failed;

    private PartyFilesWatcher(PartyFiles files, ReloadableTlsMaterial live) throws IOException {
        this.files = files;
        this.live = live;
        this.seen = target();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-party-files");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Watches {@code files} every {@code interval} and updates {@code live} on each new version; {@code live} is
     * expected to hold the version current now.
     */
    static PartyFilesWatcher start(PartyFiles files, ReloadableTlsMaterial live, Duration interval)
            throws IOException {
        Objects.requireNonNull(live, "live");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the check interval must be positive, was " + interval);
        }
        PartyFilesWatcher w = new PartyFilesWatcher(files, live);
        w.timer.scheduleWithFixedDelay(w::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return w;
    }

    private Path target() throws IOException {
        return Files.readSymbolicLink(files.dir().resolve(PartyFiles.CURRENT));
    }

    private synchronized void check() {
        try {
            Path now = target();
            if (now.equals(seen)) {
                return;
            }
            TlsMaterial next = files.read();
            live.update(next);
            seen = now;
            failed = null;
            LOG.info("now presenting serial {} from {}", next.certificate().getSerialNumber().toString(16), now);
        } catch (IOException | RuntimeException e) {
            Path at = null;
            try {
                at = target();
            } catch (IOException ignored) {
                // reported below
            }
            if (at == null || !at.equals(failed)) {
                LOG.warn("cannot load the new identity in {}: {}; keeping the current one", files.dir(),
                        e.getMessage());
                failed = at;
            }
        }
    }

    /** Stops watching. */
    @Override
    public void close() {
        timer.shutdownNow();
    }
}
