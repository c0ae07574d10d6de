package io.fedlink.pulsar;

import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.federation.Federation;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import io.fedlink.registry.EtcdConnection;
import io.fedlink.registry.EtcdRouteSource;
import io.fedlink.registry.FederationRegistry;
import io.fedlink.registry.FederationSnapshot;
import io.fedlink.registry.RegistryKeys;
import io.fedlink.registry.RegistryUnavailableException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The party side of the registry: keeps the local Pulsar broker's clusters in step with the federation in etcd,
 * through {@link FederationAdmin}. A party in the registry gets a cluster entry with FATE's metadata for a party
 * behind the proxy ({@code pulsar+ssl://<id>.<domain>:<default TLS port>} through {@code pulsar+ssl://<proxy>}, SNI),
 * created when missing and updated when the domain, the proxy or the default ports change (a party's own host and
 * ports are the proxy's business: they change its route, not the cluster entry); a party gone from the registry is
 * taken out (every {@code fl-tenant} namespace stops replicating to it, then its cluster is deleted). The local party
 * is never touched (its broker registers itself).
 *
 * <ul>
 *   <li>The registry is followed by an {@link EtcdRouteSource} (its read, watch, resync and reachability probe), so
 *       etcd outages are handled as for a proxy: the last good federation stays in force.</li>
 *   <li>A pass compares the registry with the broker, not with a memory of earlier passes, so it is idempotent and
 *       restart-safe: a party removed while the sync was stopped is found through
 *       {@link FederationAdmin#federatedClusters} and removed on the first pass.</li>
 *   <li>A value the registry skipped as malformed never removes its party's cluster; without settings (federation
 *       not initialised, or its settings malformed) nothing is changed.</li>
 *   <li>A failed pass (broker unreachable, refusal) is retried with capped exponential backoff from 200 ms; one
 *       WARN line per outage, then one a minute. A full pass also runs every {@linkplain Builder#repairInterval
 *       repair interval}, to put back what someone changed at the broker by hand.</li>
 * </ul>
 *
 * <p>Every admin call has the deadline of the {@link PulsarAdmin} given (its request timeout).
 *
 * <p>It follows the registry, so it needs {@code fedlink-registry} on the class path: an optional dependency of this
 * module (declare it next to {@code fedlink-pulsar} to use this class).
 *
 * <p>A federation served by several proxies: {@link Builder#proxy} makes this party's broker dial its own proxy
 * instead of the federation's, as each party's FATE route table names its own {@code default.proxy}.
 */
public final class PulsarSync implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PulsarSync.class);
    private static final long MIN_BACKOFF_MS = 200;
    private static final long QUIET_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final PulsarAdmin admin;
    private final String party;
    private final RegistryKeys keys;
    private final String proxy;
    private final long maxBackoffMs;
    private final ScheduledExecutorService loop;
    private EtcdRouteSource source;

    // Confined to the loop thread.
    private long backoffMs = MIN_BACKOFF_MS;
    private ScheduledFuture<?> retry;
    private volatile boolean failing;
    private long lastQuietLog;

    private volatile FederationSnapshot pending;
    private volatile long appliedRevision = -1;
    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong changes = new AtomicLong();

    private PulsarSync(Builder b) {
        this.admin = b.admin;
        this.party = b.party;
        this.keys = b.keys;
        this.proxy = b.proxy;
        this.maxBackoffMs = b.maxBackoff.toMillis();
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-pulsar-sync-" + keys.federation());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts describing a sync.
     *
     * @param etcd  the connection (a read-only identity is enough)
     * @param keys  the federation's key layout
     * @param party the local party id (the broker's {@code clusterName})
     * @param admin an admin client of the local broker, with request deadlines (the caller closes it)
     */
    public static Builder builder(EtcdConnection etcd, RegistryKeys keys, String party, PulsarAdmin admin) {
        return new Builder(etcd, keys, party, admin);
    }

    /**
     * Counters of a sync.
     *
     * @param appliedRevision etcd revision of the federation the broker last matched, -1 before the first success
     * @param passes          passes that completed
     * @param failures        passes that failed (each retried)
     * @param changes         broker changes made (clusters created, updated or removed)
     * @param inSync          whether the last pass succeeded and no newer registry change is waiting
     */
    public record Stats(long appliedRevision, long passes, long failures, long changes, boolean inSync) {}

    /** Counters and state. */
    public Stats stats() {
        FederationSnapshot f = pending;
        return new Stats(appliedRevision, passes.get(), failures.get(), changes.get(),
                f == null || f.revision() == appliedRevision && !failing);
    }

    /**
     * Makes the broker match the registry once, now, on the caller's thread (for {@code --once}): one read of the
     * federation, one pass. Returns the changes made ({@code +id} created or updated, {@code -id} removed).
     *
     * @throws RegistryUnavailableException when etcd is unreachable
     * @throws PulsarAdminException         when the broker refuses or cannot be reached
     */
    public static List<String> once(EtcdConnection etcd, RegistryKeys keys, String party, PulsarAdmin admin)
            throws RegistryUnavailableException, PulsarAdminException {
        return once(etcd, keys, party, null, admin);
    }

    /**
     * As {@link #once(EtcdConnection, RegistryKeys, String, PulsarAdmin)}, with the broker dialling {@code proxy}
     * ({@code host:port}; {@code null}: the federation's) as {@link Builder#proxy} describes.
     *
     * @throws IllegalArgumentException naming {@code proxy} when it is not {@code host:port}
     */
    public static List<String> once(EtcdConnection etcd, RegistryKeys keys, String party, String proxy,
            PulsarAdmin admin) throws RegistryUnavailableException, PulsarAdminException {
        return apply(admin, checkedParty(party), keys, checkedProxy(proxy), new FederationRegistry(etcd, keys).read());
    }

    private void onChange(FederationSnapshot f) {
        pending = f;
        try {
            loop.execute(this::syncPending);
        } catch (RejectedExecutionException e) {
            log.debug("sync closed; dropping a registry change");
        }
    }

    /** Runs a pass for the newest federation unless one is waiting for its retry (which will take the newest). */
    private void syncPending() {
        if (retry != null && !retry.isDone()) {
            return;
        }
        FederationSnapshot f = pending;
        if (f == null || f.revision() == appliedRevision && !failing) {
            return;
        }
        attempt(f);
    }

    private void repair() {
        FederationSnapshot f = pending;
        if (f != null && (retry == null || retry.isDone())) {
            attempt(f);
        }
    }

    private void attempt(FederationSnapshot f) {
        try {
            pass(f);
            if (failing) {
                log.info("pulsar sync {}: broker {} answers again; clusters match revision {}", party,
                        admin.getServiceUrl(), f.revision());
            }
            failing = false;
            backoffMs = MIN_BACKOFF_MS;
        } catch (PulsarAdminException | RuntimeException e) {
            failures.incrementAndGet();
            logFailure(e);
            failing = true;
            long delay = backoffMs;
            backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
            retry = loop.schedule(() -> {
                retry = null;
                attempt(pending);
            }, delay, TimeUnit.MILLISECONDS);
        }
    }

    private void pass(FederationSnapshot f) throws PulsarAdminException {
        List<String> done = apply(admin, party, keys, proxy, f);
        changes.addAndGet(done.size());
        appliedRevision = f.revision();
        passes.incrementAndGet();
        if (!done.isEmpty()) {
            log.info("pulsar sync {}: broker clusters now match federation {} revision {} ({})", party,
                    keys.federation(), f.revision(), String.join(" ", done));
        }
    }

    /** One comparison of the registry with the broker, and the changes that make them equal. */
    private static List<String> apply(PulsarAdmin admin, String party, RegistryKeys keys, String proxy,
            FederationSnapshot f) throws PulsarAdminException {
        List<String> done = new ArrayList<>();
        if (!f.initialised()) {
            log.debug("pulsar sync {}: federation {} has no settings; nothing to do", party, keys.federation());
            return done;
        }
        // As FATE's table at a party lists only the party itself: every other party is <id>.<domain> on the default
        // ports through the proxy (the proxy alone knows the brokers' real hosts and ports).
        FederationSettings s = f.settings();
        if (proxy != null) {
            s = FederationSettings.of(s.domain(), proxy, s.brokerPort(), s.brokerSslPort());
        }
        Federation fate = Federation.of(s, List.of());
        FederationAdmin fa = new FederationAdmin(admin, fate.fateTable(), party);
        Set<String> wanted = new HashSet<>();
        for (Party p : f.parties().values()) {
            if (p.id().equalsIgnoreCase(party)) {
                continue;
            }
            wanted.add(p.id());
            if (fa.syncParty(p.id(), fate.clusterMetadata(p.id()))) {
                done.add("+" + p.id());
            }
        }
        for (String c : fa.federatedClusters()) {
            if (!wanted.contains(c) && !c.equalsIgnoreCase(party) && !f.skipped().containsKey(keys.partyKey(c))
                    && fa.removeParty(c)) {
                done.add("-" + c);
            }
        }
        return done;
    }

    private static String checkedParty(String party) {
        if (party == null || party.isBlank()) {
            throw new IllegalArgumentException("give the local party id (the broker's clusterName)");
        }
        return party.strip();
    }

    /** {@code null}, or a proxy address checked with the rules of the federation's own proxy setting. */
    private static String checkedProxy(String proxy) {
        if (proxy == null) {
            return null;
        }
        try {
            return FederationSettings.of("example.org", proxy, 0, 0).proxy().toString();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (the proxy this party's broker dials: give "
                    + "host:port, e.g. proxy-eu.fate.org:443)", e);
        }
    }

    private void logFailure(Exception e) {
        long now = System.nanoTime();
        String what = e instanceof PulsarAdminException p ? reason(p) : e.toString();
        if (!failing) {
            lastQuietLog = now;
            log.warn("pulsar sync {}: cannot bring broker {} in step with federation {}; retrying: {}", party,
                    admin.getServiceUrl(), keys.federation(), what);
        } else if (now - lastQuietLog > QUIET_LOG_NANOS) {
            lastQuietLog = now;
            log.warn("pulsar sync {}: broker {} still not in step; retrying: {}", party, admin.getServiceUrl(), what);
        }
    }

    /** The broker's reason, or the connection failure's, in one line (for logs and command-line errors). */
    public static String reason(PulsarAdminException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (e.getHttpError() != null) {
            return e.getHttpError() + " (HTTP " + e.getStatusCode() + ")";
        }
        String m = root.getMessage();
        return m == null ? root.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    /** Stops following the registry; the broker keeps its clusters. */
    @Override
    public void close() {
        if (source != null) {
            source.close();
        }
        loop.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Options of a sync. */
    public static final class Builder {
        private final EtcdConnection etcd;
        private final RegistryKeys keys;
        private final String party;
        private final PulsarAdmin admin;
        private String proxy;
        private Duration maxBackoff = Duration.ofSeconds(5);
        private Duration repairInterval = Duration.ofMinutes(1);
        private boolean ownsConnection;

        private Builder(EtcdConnection etcd, RegistryKeys keys, String party, PulsarAdmin admin) {
            this.etcd = Objects.requireNonNull(etcd, "etcd");
            this.keys = Objects.requireNonNull(keys, "keys");
            this.admin = Objects.requireNonNull(admin, "admin");
            this.party = checkedParty(party);
        }

        /**
         * The proxy this party's broker dials ({@code host:port}), instead of the federation's: when several proxies
         * serve one federation (each following the same registry), each party names the one it reaches, as its
         * FATE route table's {@code default.proxy} would. {@code null} (the default): the federation's.
         *
         * @throws IllegalArgumentException naming the value when it is not {@code host:port}
         */
        public Builder proxy(String hostPort) {
            this.proxy = checkedProxy(hostPort);
            return this;
        }

        /** Cap of the retry backoff, also for etcd (default 5 s, 100 ms..1 min). */
        public Builder maxBackoff(Duration cap) {
            this.maxBackoff = EtcdRouteSource.Builder.bounded("maximum backoff", cap);
            return this;
        }

        /** How often a full pass runs even without registry changes (default 1 min, 100 ms..1 min). */
        public Builder repairInterval(Duration interval) {
            this.repairInterval = EtcdRouteSource.Builder.bounded("repair interval", interval);
            return this;
        }

        /** Closes the etcd connection with the sync (also when {@link #start} fails). */
        public Builder ownsConnection(boolean owns) {
            this.ownsConnection = owns;
            return this;
        }

        /**
         * Reads the federation, starts following it and runs the first pass in the background (see
         * {@link PulsarSync#stats()}); {@link PulsarSync#once} is the one-pass alternative.
         *
         * @throws RegistryUnavailableException when etcd is unreachable
         * @throws IllegalStateException        when etcd refuses the read (permission denied)
         */
        public PulsarSync start() throws IOException {
            PulsarSync s = new PulsarSync(this);
            try {
                s.source = EtcdRouteSource.builder(etcd, keys, new RouteHolder(RouteTable.empty()))
                        .ownsConnection(ownsConnection).maxBackoff(maxBackoff).onChange(s::onChange).start();
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
            s.pending = s.source.federation();
            long every = repairInterval.toMillis();
            s.loop.scheduleWithFixedDelay(s::repair, every, every, TimeUnit.MILLISECONDS);
            return s;
        }
    }
}
