package io.fedlink.registry;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteSource;
import io.fedlink.api.RouteTable;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds a proxy's {@link RouteHolder} from the federation registry in etcd and keeps it current.
 *
 * <ul>
 *   <li>Start: one read of the federation's prefix, then a watch from the revision after it. When etcd cannot be
 *       reached at start and a {@linkplain Builder#cacheFile cache file} exists, its routes are served and etcd is
 *       retried in the background; with neither, {@link Builder#start} fails naming the endpoints.</li>
 *   <li>Each watch event updates one value; the table is rebuilt and swapped atomically when its routes changed
 *       (a proxy closes the live tunnels the new table no longer serves, unless built with
 *       {@code closeUnroutedTunnels(false)}).</li>
 *   <li>A malformed value (bad JSON, unknown field, invalid host...) is skipped with one WARN line naming its key;
 *       every other party is still served. Malformed settings leave the last good settings in force.</li>
 *   <li>When the watch ends (history compacted past the revision it resumes from, a lost stream, a refusal), the
 *       prefix is read again and watched from that read's revision + 1, so no change is lost.</li>
 *   <li>A probe reads one key every {@linkplain Builder#probeInterval probe interval} with the call deadline: while
 *       etcd cannot be read the last good table stays in force, the first failure is logged at WARN, then at most one
 *       line a minute, and {@link Stats#disconnects()} counts outages; on return, a full re-read catches up.
 *       {@link Stats#state()} tells why a read fails: {@linkplain State#UNREACHABLE unreachable},
 *       {@linkplain State#REFUSED refused} (the identity's etcd permissions) or {@linkplain State#TOO_LARGE too
 *       large} (one value over the connection's message limit), and {@link Stats#problem()} says what to do.</li>
 *   <li>Full reads are paged ({@link EtcdConnection#readPrefix}), so the prefix may hold any amount of data.</li>
 *   <li>Retries back off exponentially from 200 ms up to {@linkplain Builder#maxBackoff a cap}.</li>
 * </ul>
 *
 * <p>All state changes run on one thread of the source's own; jetcd's callbacks only hand work to it.
 *
 * <p>A {@link RouteSource} like a route file: {@link #initial()} is the start above, {@link #feed} moves the swaps to
 * the proxy's holder, {@link #problem()} says why etcd cannot be read, {@link #reload()} reads it again.
 *
 * <pre>{@code
 * RouteSource source = EtcdRouteSource.builder(etcd, RegistryKeys.of("fl"))
 *     .cacheFile(Path.of("/var/lib/fedlink/routes-fl.json")).build();
 * TunnelServer proxy = SniProxy.builder().routes(source.start()).bind(443).start();
 * }</pre>
 */
public final class EtcdRouteSource implements RouteSource {
    private static final Logger log = LoggerFactory.getLogger(EtcdRouteSource.class);
    private static final long MIN_BACKOFF_MS = 200;
    private static final long QUIET_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final EtcdConnection etcd;
    private final RegistryKeys keys;
    private volatile RouteHolder holder; // swapped on the loop thread; another by feed()
    private boolean started; // on the loop thread
    private final RouteCacheFile cache;
    private final Duration probeInterval;
    private final long maxBackoffMs;
    private final boolean ownsConnection;
    private final FederationDecoder decoder;
    private final ScheduledExecutorService loop;
    private final Consumer<FederationSnapshot> changeListener;

    // Confined to the loop thread.
    private final Map<String, byte[]> values = new HashMap<>();
    private final TreeMap<String, Party> parties = new TreeMap<>();
    private final TreeMap<String, String> skipped = new TreeMap<>();
    private FederationSettings settings;
    private Watch.Watcher watcher;
    private long generation;
    private long backoffMs = MIN_BACKOFF_MS;
    private boolean resyncPending;
    private boolean cacheWritePending;
    private long lastQuietLog;

    private volatile FederationSnapshot current;
    private volatile boolean connected;
    private volatile State state = State.OK;
    private volatile String problem;
    private final AtomicLong swaps = new AtomicLong();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong resyncs = new AtomicLong();
    private final AtomicLong watchFailures = new AtomicLong();
    private final AtomicLong disconnects = new AtomicLong();
    private final AtomicLong failedCalls = new AtomicLong();
    private final AtomicLong cacheFailures = new AtomicLong();
    private volatile boolean servedFromCache;

    private EtcdRouteSource(Builder b) {
        this.etcd = b.etcd;
        this.keys = b.keys;
        this.holder = b.holder;
        this.cache = b.cacheFile == null ? null : new RouteCacheFile(b.cacheFile);
        this.probeInterval = b.probeInterval;
        this.maxBackoffMs = b.maxBackoff.toMillis();
        this.ownsConnection = b.ownsConnection;
        this.decoder = new FederationDecoder(keys);
        this.changeListener = b.changeListener;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-etcd-routes-" + keys.federation());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts describing a source.
     *
     * @param etcd   the connection (a read-only identity is enough; the caller closes it unless
     *               {@link Builder#ownsConnection})
     * @param keys   the federation's key layout
     * @param holder the holder to keep current
     */
    public static Builder builder(EtcdConnection etcd, RegistryKeys keys, RouteHolder holder) {
        return new Builder(etcd, keys, holder);
    }

    /**
     * Starts describing a source for {@link RouteSource#start()}: it keeps its own holder until {@link #feed} hands
     * it the proxy's.
     *
     * @see #builder(EtcdConnection, RegistryKeys, RouteHolder)
     */
    public static Builder builder(EtcdConnection etcd, RegistryKeys keys) {
        return new Builder(etcd, keys, new RouteHolder(RouteTable.empty()));
    }

    /**
     * Loads the routes as {@link Builder#start()} describes (from etcd, or from the cache file when etcd is
     * unreachable) unless already loaded, and returns the table in force. A failure closes the source.
     *
     * @throws RegistryUnavailableException when etcd is unreachable and there is no cache file
     * @throws IOException                  when the cache file cannot be read
     * @throws IllegalStateException        when etcd refuses the read (permission denied)
     */
    @Override
    public RouteTable initial() throws IOException {
        try {
            return onLoopAndWait(() -> {
                if (!started) {
                    startOnLoop();
                    started = true;
                }
                return holder.current();
            });
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Swaps later snapshots into {@code target} instead of the holder this source was built with; {@code target}
     * gets the table in force now if it holds another.
     */
    @Override
    public void feed(RouteHolder target) {
        Objects.requireNonNull(target, "holder");
        try {
            onLoopAndWait(() -> {
                if (!target.current().routes().equals(holder.current().routes())) {
                    target.swap(holder.current());
                }
                holder = target;
                return null;
            });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Why etcd cannot be read right now ({@link Stats#problem()}; the last good table stays in force), or empty. */
    @Override
    public Optional<String> problem() {
        return connected ? Optional.empty() : Optional.of(problem != null ? problem : describe(state));
    }

    /** {@link #reloadNow()}. */
    @Override
    public void reload() {
        reloadNow();
    }

    @Override
    public String toString() {
        return "federation " + keys.federation() + " in etcd";
    }

    /** Runs {@code work} on the loop and waits for it; its failure is thrown as is. */
    private <T> T onLoopAndWait(java.util.concurrent.Callable<T> work) throws IOException {
        try {
            return loop.submit(work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while loading the routes");
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("the route source of federation " + keys.federation() + " is closed", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The holder this source swaps. */
    public RouteHolder holder() {
        return holder;
    }

    /** The federation as last applied (settings, valid parties, skipped values, revision). */
    public FederationSnapshot federation() {
        return current;
    }

    /** Counters and state, for logs and metrics. */
    public Stats stats() {
        FederationSnapshot f = current;
        return new Stats(connected, servedFromCache, f.revision(), holder.current().size(), f.skipped().size(),
                swaps.get(), events.get(), resyncs.get(), watchFailures.get(), disconnects.get(), failedCalls.get(),
                cacheFailures.get(), state, problem);
    }

    /** Whether the registry can be read, and if not, why. */
    public enum State {
        /** The last call succeeded. */
        OK,
        /** etcd did not answer in time or could not be reached ({@link RegistryUnavailableException}). */
        UNREACHABLE,
        /** etcd refused this identity ({@link RegistryRefusedException}): fix its etcd user and roles. */
        REFUSED,
        /**
         * One value or watch event is larger than the connection's message limit ({@link RegistryTooLargeException}):
         * raise the limit or shrink the value.
         */
        TOO_LARGE,
        /** Any other failure; {@link Stats#problem()} says which. */
        FAILED;

        static State of(Exception e) {
            if (e instanceof RegistryUnavailableException) {
                return UNREACHABLE;
            }
            if (e instanceof RegistryRefusedException) {
                return REFUSED;
            }
            return e instanceof RegistryTooLargeException ? TOO_LARGE : FAILED;
        }
    }

    /**
     * Counters of one source.
     *
     * @param connected      whether the last etcd call succeeded
     * @param servedFromCache whether the table in force came from the cache file (etcd not read since start)
     * @param revision       etcd revision of the table in force
     * @param routes         routes in force
     * @param skippedValues  values skipped as invalid in the snapshot in force
     * @param swaps          tables swapped in
     * @param events         watch events applied
     * @param resyncs        full re-reads after the start
     * @param watchFailures  watches that ended (compaction, lost stream, refusal)
     * @param disconnects    times etcd became unreachable
     * @param failedCalls    etcd calls that failed (reads and probes)
     * @param cacheFailures  cache file writes that failed
     * @param state          whether the registry can be read, or why not
     * @param problem        the last failure's message while {@code state} is not {@link State#OK}, else {@code null}
     */
    public record Stats(boolean connected, boolean servedFromCache, long revision, int routes, int skippedValues,
                        long swaps, long events, long resyncs, long watchFailures, long disconnects,
                        long failedCalls, long cacheFailures, State state, String problem) {}

    private void startOnLoop() throws IOException {
        try {
            load(read());
            connected = true;
        } catch (RegistryUnavailableException | RuntimeException e) {
            if (cache == null || !Files.exists(cache.path())) {
                String more = cache == null ? "" : "; no route cache file " + cache.path() + " to start from either";
                if (e instanceof RegistryUnavailableException) {
                    throw new RegistryUnavailableException(e.getMessage() + more, e);
                }
                throw e;
            }
            FederationSnapshot cached = cache.read(keys);
            replace(cached);
            servedFromCache = true;
            disconnected(e);
            log.warn("federation {}: etcd cannot be read at start ({}); serving {} routes from {} (revision {}) "
                    + "until it can", keys.federation(), state, holder.current().size(), cache.path(),
                    cached.revision());
            scheduleResync();
        }
        long probe = probeInterval.toMillis();
        loop.scheduleWithFixedDelay(this::probe, probe, probe, TimeUnit.MILLISECONDS);
    }

    private EtcdConnection.PrefixRead read() throws RegistryUnavailableException {
        try {
            return etcd.readPrefix("read federation " + keys.federation(), keys.prefix());
        } catch (RegistryUnavailableException | RuntimeException e) {
            failedCalls.incrementAndGet();
            throw e;
        }
    }

    /** Replaces the whole state with a full read and watches from the revision after it. */
    private void load(EtcdConnection.PrefixRead r) {
        values.clear();
        for (KeyValue kv : r.kvs()) {
            values.put(RegistryKeys.string(kv.getKey()), kv.getValue().getBytes());
        }
        long revision = r.revision();
        servedFromCache = false;
        replace(decoder.decode(values, revision, settings));
        watch(revision + 1);
        scheduleCacheWrite();
    }

    private void replace(FederationSnapshot f) {
        settings = f.settings();
        parties.clear();
        parties.putAll(f.parties());
        skipped.clear();
        skipped.putAll(f.skipped());
        publish(f.revision());
    }

    private void watch(long fromRevision) {
        closeWatcher();
        long gen = ++generation;
        watcher = etcd.client().getWatchClient().watch(RegistryKeys.bytes(keys.prefix()),
                WatchOption.builder().isPrefix(true).withRevision(fromRevision).build(),
                Watch.listener(r -> onLoop(() -> onEvents(gen, r)), t -> onLoop(() -> onWatchEnd(gen, t)),
                        () -> onLoop(() -> onWatchEnd(gen, null))));
    }

    /** Runs a callback's work on the loop; an unexpected failure is logged and repaired by a full re-read. */
    private void onLoop(Runnable work) {
        try {
            loop.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    log.warn("federation {}: unexpected failure applying a change; reading the prefix again",
                            keys.federation(), e);
                    closeWatcher();
                    scheduleResync();
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("source closed; dropping a watch callback");
        }
    }

    private void closeWatcher() {
        generation++;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }

    private void onEvents(long gen, WatchResponse r) {
        if (gen != generation) {
            return;
        }
        boolean settingsChanged = false;
        long revision = current.revision();
        for (WatchEvent e : r.getEvents()) {
            KeyValue kv = e.getKeyValue();
            String key = RegistryKeys.string(kv.getKey());
            revision = Math.max(revision, kv.getModRevision());
            events.incrementAndGet();
            if (e.getEventType() == WatchEvent.EventType.DELETE) {
                values.remove(key);
            } else if (e.getEventType() == WatchEvent.EventType.PUT) {
                values.put(key, kv.getValue().getBytes());
            } else {
                continue;
            }
            if (key.equals(keys.settingsKey())) {
                settingsChanged = true;
            } else if (keys.isPartyKey(key) && !settingsChanged) {
                updateParty(key);
            }
        }
        if (settingsChanged) {
            replace(decoder.decode(values, revision, settings));
        } else {
            publish(revision);
        }
        connected(null);
        scheduleCacheWrite();
    }

    private void updateParty(String key) {
        parties.values().removeIf(p -> keys.partyKey(p.id()).equals(key));
        skipped.remove(key);
        byte[] v = values.get(key);
        if (v != null) {
            Party p = decoder.party(key, v, settings, skipped);
            if (p != null) {
                parties.put(p.key(), p);
            }
        }
    }

    /** Makes the current state the snapshot in force; swaps the holder when the routes changed. */
    private void publish(long revision) {
        FederationSnapshot f = new FederationSnapshot(keys, settings, parties, skipped, revision);
        FederationSnapshot previous = current;
        current = f;
        if (changeListener != null && !sameContent(previous, f)) {
            try {
                changeListener.accept(f);
            } catch (RuntimeException e) {
                log.warn("federation {}: a change listener failed: {}", keys.federation(), e.toString());
            }
        }
        RouteTable next = f.routeTable();
        if (!next.routes().equals(holder.current().routes())) {
            swaps.incrementAndGet();
            try {
                holder.swap(next);
            } catch (RuntimeException e) {
                log.warn("federation {}: a route listener failed after the swap: {}", keys.federation(), e.toString());
            }
            log.info("federation {}: {} routes in force (revision {})", keys.federation(), next.size(), revision);
        }
    }

    private static boolean sameContent(FederationSnapshot a, FederationSnapshot b) {
        return a != null && Objects.equals(a.settings(), b.settings()) && a.parties().equals(b.parties())
                && a.skipped().equals(b.skipped());
    }

    private void onWatchEnd(long gen, Throwable t) {
        if (gen != generation) {
            return;
        }
        watchFailures.incrementAndGet();
        closeWatcher();
        if (t instanceof CompactedException) {
            log.info("federation {}: etcd compacted its history past revision {}; reading the prefix again",
                    keys.federation(), current.revision() + 1);
            resync();
        } else {
            log.warn("federation {}: watch ended ({}); reading the prefix again", keys.federation(),
                    t == null ? "closed by etcd" : t.getMessage());
            scheduleResync();
        }
    }

    private void scheduleResync() {
        if (resyncPending) {
            return;
        }
        resyncPending = true;
        long delay = backoffMs;
        backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
        loop.schedule(this::resync, delay, TimeUnit.MILLISECONDS);
    }

    private void resync() {
        resyncPending = false;
        if (loop.isShutdown()) {
            return;
        }
        try {
            resyncs.incrementAndGet();
            load(read());
            connected("re-read");
        } catch (RegistryUnavailableException | RuntimeException e) {
            disconnected(e);
            scheduleResync();
        }
    }

    /**
     * Reads the federation's whole prefix again now and watches on from that read, as after a lost watch (what
     * {@code fedlink proxy --etcd} does on SIGHUP). Returns at once: the read runs on the source's thread and logs one
     * line with the outcome ({@link Stats#resyncs()} counts it). When etcd does not answer, the last good table stays
     * in force and the source retries as it does after any failure.
     */
    public void reloadNow() {
        onLoop(() -> {
            resync();
            FederationSnapshot f = current;
            if (connected) {
                log.info("federation {}: read again on request: {} routes in force (revision {})", keys.federation(),
                        holder.current().size(), f.revision());
            } else {
                log.warn("federation {}: read on request failed; keeping the last good table ({} routes, revision"
                        + " {}) and retrying", keys.federation(), holder.current().size(), f.revision());
            }
        });
    }

    private void probe() {
        try {
            etcd.call("probe federation " + keys.federation(), etcd.client().getKVClient().get(
                    RegistryKeys.bytes(keys.settingsKey()), GetOption.builder().withKeysOnly(true).build()));
            if (state == State.UNREACHABLE) {
                closeWatcher();
                resync(); // etcd is back: catch up now
            } else if (state != State.OK) {
                scheduleResync(); // refused or too large: retry with the backoff, not at every probe
            }
        } catch (RegistryUnavailableException | RuntimeException e) {
            failedCalls.incrementAndGet();
            disconnected(e);
        }
    }

    private void connected(String how) {
        backoffMs = MIN_BACKOFF_MS;
        if (!connected && how != null) {
            log.info("federation {}: etcd read again ({}); {} routes in force at revision {}", keys.federation(),
                    how, holder.current().size(), current.revision());
        }
        connected = true;
        state = State.OK;
        problem = null;
    }

    /** A read failed: keep the table, say why (WARN on a change of cause, then at most once a minute). */
    private void disconnected(Exception e) {
        long now = System.nanoTime();
        State why = State.of(e);
        if (connected || disconnects.get() == 0 || why != state) {
            if (connected || disconnects.get() == 0) {
                disconnects.incrementAndGet();
            }
            lastQuietLog = now;
            log.warn("federation {}: etcd {}, keeping the last good table ({} routes, revision {}): {}",
                    keys.federation(), describe(why), holder.current().size(), current.revision(), e.getMessage());
        } else if (now - lastQuietLog > QUIET_LOG_NANOS) {
            lastQuietLog = now;
            log.warn("federation {}: etcd still {}, serving {} routes of revision {}", keys.federation(),
                    describe(why), holder.current().size(), current.revision());
        }
        connected = false;
        state = why;
        problem = e.getMessage();
    }

    private static String describe(State s) {
        return switch (s) {
            case UNREACHABLE -> "unreachable";
            case REFUSED -> "refuses this identity";
            case TOO_LARGE -> "answer too large";
            default -> "read failed";
        };
    }

    private void scheduleCacheWrite() {
        if (cache == null || cacheWritePending) {
            return;
        }
        cacheWritePending = true;
        loop.schedule(() -> {
            cacheWritePending = false;
            try {
                cache.write(current);
            } catch (IOException | RuntimeException e) {
                if (cacheFailures.getAndIncrement() == 0) {
                    log.warn("federation {}: cannot write the route cache {}: {}", keys.federation(), cache.path(),
                            e.getMessage());
                }
            }
        }, 250, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops watching and probing; the holder keeps its last table. Closes the connection only when the source
     * {@linkplain Builder#ownsConnection owns} it.
     */
    @Override
    public void close() {
        try {
            loop.submit(this::closeWatcher).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            log.debug("closing the watcher: {}", e.toString());
        }
        loop.shutdownNow();
        if (ownsConnection) {
            etcd.close();
        }
    }

    /** Options of a source. */
    public static final class Builder {
        private final EtcdConnection etcd;
        private final RegistryKeys keys;
        private final RouteHolder holder;
        private Path cacheFile;
        private Duration probeInterval = Duration.ofSeconds(2);
        private Duration maxBackoff = Duration.ofSeconds(5);
        private boolean ownsConnection;
        private Consumer<FederationSnapshot> changeListener;

        private Builder(EtcdConnection etcd, RegistryKeys keys, RouteHolder holder) {
            this.etcd = Objects.requireNonNull(etcd, "etcd");
            this.keys = Objects.requireNonNull(keys, "keys");
            this.holder = Objects.requireNonNull(holder, "holder");
        }

        /** Keeps a copy of the last read here (mode 0600) and starts from it when etcd is down at start. */
        public Builder cacheFile(Path file) {
            this.cacheFile = file;
            return this;
        }

        /** Closes the connection with the source (also when {@link #start} fails). */
        public Builder ownsConnection(boolean owns) {
            this.ownsConnection = owns;
            return this;
        }

        /**
         * Also tells {@code listener} of every new snapshot whose settings, parties or skipped values differ from the
         * last (the first load included), whether or not the routes changed. It runs on the source's thread: it must
         * return quickly (hand the work to a thread of its own); a failure is logged.
         */
        public Builder onChange(Consumer<FederationSnapshot> listener) {
            this.changeListener = listener;
            return this;
        }

        /** How often etcd's reachability is checked (default 2 s, 100 ms..1 min). */
        public Builder probeInterval(Duration interval) {
            this.probeInterval = bounded("probe interval", interval);
            return this;
        }

        /** Cap of the retry backoff (default 5 s, 100 ms..1 min). */
        public Builder maxBackoff(Duration cap) {
            this.maxBackoff = bounded("maximum backoff", cap);
            return this;
        }

        /**
         * {@code d} when it is 100 ms..1 min, the range of every interval and backoff of the registry's followers.
         *
         * @throws IllegalArgumentException naming {@code what} and the value otherwise
         */
        public static Duration bounded(String what, Duration d) {
            if (d.compareTo(Duration.ofMillis(100)) < 0 || d.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("invalid " + what + " " + d + ": must be 100ms..1m");
            }
            return d;
        }

        /**
         * Loads the routes (from etcd, or from the cache file when etcd is unreachable), swaps them in and starts
         * watching.
         *
         * @throws RegistryUnavailableException when etcd is unreachable and there is no cache file
         * @throws IOException                  when the cache file cannot be read
         * @throws IllegalStateException        when etcd refuses the read (permission denied)
         * @throws IllegalArgumentException     when the cache file belongs to another federation
         */
        public EtcdRouteSource start() throws IOException {
            EtcdRouteSource s = build();
            s.initial();
            return s;
        }

        /**
         * The source, not started: {@link RouteSource#start()} (or {@link EtcdRouteSource#initial()}) loads the
         * routes as {@link #start()} does. Closing it unstarted closes the connection when it owns it.
         */
        public EtcdRouteSource build() {
            EtcdRouteSource s = new EtcdRouteSource(this);
            s.current = new FederationSnapshot(keys, null, new TreeMap<>(), new TreeMap<>(), 0);
            return s;
        }
    }
}
