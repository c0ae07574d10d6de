package io.fedlink.sni;

import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteSource;
import io.fedlink.api.RouteTable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes from a Traffic Server {@code sni.yaml} file ({@link SniYaml}), checked every poll interval and swapped in
 * when it changed. A reload is refused, and the table in force kept, when the file is missing ("not found"), larger
 * than {@link SniYaml#MAX_FILE_BYTES} (never read then), or invalid; each problem is logged once, and
 * {@link #problem()} tells the last one. A change is loaded only after the file stayed the same over two polls, so a
 * file caught half-written is not loaded (writers that pause longer than a poll interval should write a temporary
 * file and rename it over the route file, which is atomic). Nothing thrown while polling, not even an
 * {@link Error}, stops the polling. {@link #reloadNow()} loads the file at once (for example on SIGHUP), with the same
 * refusals.
 */
public final class RouteFileSource implements RouteSource {
    /** Shortest poll interval accepted. */
    public static final Duration MIN_INTERVAL = Duration.ofMillis(10);
    /** Longest poll interval accepted. */
    public static final Duration MAX_INTERVAL = Duration.ofHours(1);
    private static final Logger log = LoggerFactory.getLogger(RouteFileSource.class);
    /** How long {@link #reloadNow()} waits between its two readings (at most the poll interval). */
    static final Duration SETTLE = Duration.ofMillis(50);

    private final Path file;
    private final Duration interval;
    private final UnaryOperator<RouteTable> adjust;
    private ScheduledExecutorService poller;
    private RouteHolder holder;
    private Stamp loaded; // what is in force
    private Stamp seen;   // what the previous poll saw
    private Stamp refused; // a change that failed to load: not parsed again until the file changes
    private volatile String problem;
    /** Runs between the two readings of {@link #reloadNow()}; tests write the file there. */
    volatile Runnable betweenReadings = () -> { };

    /** Size and content hash of one reading of the file (content, not mtime: a rewrite of the same text is no change). */
    private record Stamp(long size, int hash) {}

    /** One reading of the file. */
    private record Reading(Stamp stamp, String text) {}

    /** Watches {@code file}, polling every {@code interval} (10 ms to 1 hour). */
    public RouteFileSource(Path file, Duration interval) {
        this(file, interval, UnaryOperator.identity());
    }

    /**
     * Watches {@code file}; each table read is passed through {@code adjust} (for example to add default routes)
     * before it is swapped in.
     */
    public RouteFileSource(Path file, Duration interval, UnaryOperator<RouteTable> adjust) {
        this.file = Objects.requireNonNull(file, "file");
        Objects.requireNonNull(interval, "interval");
        if (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0) {
            throw new IllegalArgumentException("route file poll interval must be 10ms..1h, was " + interval);
        }
        this.interval = interval;
        this.adjust = Objects.requireNonNull(adjust, "adjust");
    }

    @Override
    public synchronized RouteTable initial() throws IOException {
        try {
            Reading r = read();
            RouteTable t = adjust.apply(parse(r));
            loaded = r.stamp;
            seen = r.stamp;
            return t;
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "route file not found");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void feed(RouteHolder target) {
        if (poller != null) {
            throw new IllegalStateException("route file " + file + " already feeds a route holder");
        }
        this.holder = Objects.requireNonNull(target, "holder");
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-route-reload");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Why the last change was not loaded ("not found", too large, invalid), while that is still the case. */
    @Override
    public Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** One poll: load the file if it changed and then stayed the same; never throws. */
    synchronized void poll() {
        try {
            Reading r = read();
            if (r.stamp.equals(loaded)) {
                clear();
                return;
            }
            if (r.stamp.equals(refused)) {
                return;
            }
            if (!r.stamp.equals(seen)) {
                seen = r.stamp; // changed since the last poll: maybe still being written, look again next time
                return;
            }
            log.info("reloaded {}: {} routes", file, load(r).size());
        } catch (NoSuchFileException e) {
            report("not found");
        } catch (Throwable t) { // even an Error: the next poll must still run
            report(t instanceof IllegalArgumentException ? t.getMessage() : t.toString());
        }
    }

    /**
     * Parses a reading and puts its table in force. Until that is done the reading counts as refused, so when it
     * throws (invalid file) the polls do not parse the same content again.
     */
    private RouteTable load(Reading r) {
        refused = r.stamp;
        RouteTable next = adjust.apply(parse(r));
        holder.swap(next);
        loaded = r.stamp;
        refused = null;
        clear();
        return next;
    }

    /** {@link #reloadNow()}, its result logged only. */
    @Override
    public void reload() {
        reloadNow();
    }

    /** The route file's path. */
    @Override
    public String toString() {
        return file.toString();
    }

    /**
     * Loads the file now instead of waiting for the next polls (what {@code fedlink proxy} does on SIGHUP). The file
     * is read twice, a moment apart, and loaded only when both readings agree, so a file caught half-written is not
     * loaded (write a temporary file and rename it over the route file, and the reload is immediate). A missing, too
     * large or invalid file, or one still changing, is refused and the table in force kept. Logs one line either
     * way: what was loaded, or why not.
     *
     * @return {@code true} when the table in force is now the file's (loaded, or already in force)
     * @throws IllegalStateException before the source feeds a holder
     */
    public synchronized boolean reloadNow() {
        if (holder == null) {
            throw new IllegalStateException("route file " + file + " is not started: call start() or feed() first");
        }
        try {
            Reading first = read();
            Thread.sleep(interval.compareTo(SETTLE) < 0 ? interval.toMillis() : SETTLE.toMillis());
            betweenReadings.run();
            Reading r = read();
            if (!r.stamp.equals(first.stamp)) {
                seen = r.stamp; // the polls load it once it stays the same
                return requestRefused("the file changed while it was read; it is loaded once it stays the same"
                        + " over two polls (write a temporary file and rename it over the route file)");
            }
            seen = r.stamp;
            if (r.stamp.equals(loaded)) {
                clear();
                log.info("reload of {} requested: unchanged, {} routes in force", file, holder.current().size());
                return true;
            }
            log.info("reloaded {} on request: {} routes", file, load(r).size());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return requestRefused("interrupted");
        } catch (NoSuchFileException e) {
            return requestRefused("not found");
        } catch (Throwable t) { // as in poll: even an Error leaves the table in force
            return requestRefused(t instanceof IllegalArgumentException ? t.getMessage() : t.toString());
        }
    }

    /** A refused reload on request: always one line (the operator asked), remembered like a poll's refusal. */
    private boolean requestRefused(String what) {
        problem = what;
        log.warn("refused to reload {} on request; keeping the previous {} routes: {}", file, holder.current().size(),
                what);
        return false;
    }

    private Reading read() throws IOException {
        long size = Files.size(file);
        if (size > SniYaml.MAX_FILE_BYTES) {
            throw tooLarge(size);
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(SniYaml.MAX_FILE_BYTES + 1); // the file may have grown since
        }
        if (bytes.length > SniYaml.MAX_FILE_BYTES) {
            throw tooLarge(bytes.length);
        }
        return new Reading(new Stamp(bytes.length, Arrays.hashCode(bytes)),
                new String(bytes, StandardCharsets.UTF_8));
    }

    private IllegalArgumentException tooLarge(long size) {
        return new IllegalArgumentException(size + " bytes, more than the " + SniYaml.MAX_FILE_BYTES
                + " a route file may be");
    }

    private RouteTable parse(Reading r) {
        return SniYaml.parse(r.text);
    }

    private void report(String what) {
        if (!what.equals(problem)) {
            problem = what;
            log.warn("refused to reload {}; keeping the previous {} routes: {}", file, holder.current().size(), what);
        }
    }

    private void clear() {
        problem = null;
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
        }
    }
}
