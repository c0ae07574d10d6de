package io.fedlink.sni;

import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TargetStatus;
import io.fedlink.api.TunnelServerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The health of every target of the routes in force, and the choice of a target for a new connection.
 *
 * <p>Passive health: a fixed target whose connects fail {@link TunnelServerConfig#targetFailures()} times in a row
 * is ejected (skipped) for {@link TunnelServerConfig#targetEjection()}; then one connection at a time may try it (a
 * trial); a success brings it back, a failure ejects it again. A {@code $1} template target is never ejected: the
 * client picks its name, so a client naming a host that does not exist must not take the target from others.
 * When every untried target is ejected, the least recently failed one is tried all the same: a route is never
 * refused blindly.
 *
 * <p>State is kept per route entry and target as written, and survives a route reload for every pair that stays;
 * the first use of a new table forgets the pairs it no longer has, so the state is bounded by the configured
 * targets. Thread-safe: a target's failure counters are changed under its own lock, on connect results only (never
 * per byte); the snapshot of groups is swapped as a whole.
 */
final class TargetHealth {
    /** Route label of the route for hellos without a server name. */
    static final String NO_SERVER_NAME = "none";

    private final int threshold;
    private final long ejectionNanos;
    private final long trialNanos;
    private final TunnelEvents events;
    private final Supplier<RouteTable> inForce;
    private volatile Snapshot snapshot = new Snapshot(null, new IdentityHashMap<>(), null, Map.of());

    /** Health for the routes {@code inForce} gives (the server's current table). */
    TargetHealth(TunnelServerConfig config, TunnelEvents events, Supplier<RouteTable> inForce) {
        this.threshold = config.targetFailures();
        this.ejectionNanos = config.targetEjection().toNanos();
        this.trialNanos = config.connectTimeout().toNanos();
        this.events = events;
        this.inForce = inForce;
    }

    /** The groups of one route table: by route identity, and the no-server-name route apart. */
    private record Snapshot(RouteTable table, IdentityHashMap<PartyRoute, Group> byRoute, Group noServerName,
                            Map<String, State> states) {}

    /** The health of one target of one route entry. */
    static final class State {
        final String route;
        final String target;
        final boolean template;
        final LongAdder failures = new LongAdder();
        /** Connections connecting to this target or tunnelling to it now. */
        final AtomicInteger connections = new AtomicInteger();
        private int consecutive;
        private boolean ejected;
        private long ejectedUntil;
        private long trialUntil;
        private long lastFailure;

        State(String route, String target, boolean template) {
            this.route = route;
            this.target = target;
            this.template = template;
        }

        /** Whether a connection may pick it now as a healthy target (without claiming a trial). */
        synchronized boolean available(long now) {
            return !ejected || now - ejectedUntil >= 0 && (trialUntil == 0 || now - trialUntil >= 0);
        }

        /** Picks it: healthy, or claims the one trial of an ejected target whose time is over. */
        synchronized boolean claim(long now, long trialNanos) {
            if (!ejected) {
                return true;
            }
            if (now - ejectedUntil >= 0 && (trialUntil == 0 || now - trialUntil >= 0)) {
                trialUntil = now + trialNanos;
                return true;
            }
            return false;
        }

        synchronized boolean up() {
            return !ejected;
        }

        synchronized int consecutiveFailures() {
            return consecutive;
        }

        synchronized long lastFailure() {
            return lastFailure;
        }

        /** A connect (or check) succeeded; {@code true} when this brought an ejected target back. */
        synchronized boolean succeeded() {
            consecutive = 0;
            trialUntil = 0;
            if (ejected) {
                ejected = false;
                return true;
            }
            return false;
        }

        /** A connect (or check) failed; {@code true} when this ejected the target. */
        synchronized boolean failed(long now, int threshold, long ejectionNanos) {
            failures.increment();
            lastFailure = now;
            if (template) {
                return false;
            }
            consecutive = consecutive == Integer.MAX_VALUE ? consecutive : consecutive + 1;
            if (ejected) { // a trial (or a last resort) failed: skipped for another period
                ejectedUntil = now + ejectionNanos;
                trialUntil = 0;
                return false;
            }
            if (threshold > 0 && consecutive >= threshold) {
                ejected = true;
                ejectedUntil = now + ejectionNanos;
                trialUntil = 0;
                return true;
            }
            return false;
        }
    }

    /** The targets of one route entry, aligned with {@link PartyRoute#targetFor(int, String)}. */
    final class Group {
        final PartyRoute route;
        final State[] states;
        private final AtomicInteger next = new AtomicInteger();

        Group(PartyRoute route, State[] states) {
            this.route = route;
            this.states = states;
        }

        int size() {
            return states.length;
        }

        /**
         * The target for the next attempt of a connection that already tried the targets whose bits are set in
         * {@code tried}: a healthy one by the route's policy, else the least recently failed untried one; {@code -1}
         * when every target was tried.
         */
        int pick(long tried, long now) {
            int n = states.length;
            if (n == 1) {
                if (tried != 0) {
                    return -1;
                }
                states[0].claim(now, trialNanos); // the only target is tried anyway; a claimed trial is bookkept
                return 0;
            }
            long skip = tried;
            boolean leastConnections = route.balancing() == PartyRoute.Balancing.LEAST_CONNECTIONS;
            while (true) {
                int start = Math.floorMod(next.getAndIncrement(), n);
                int best = -1;
                int bestConnections = Integer.MAX_VALUE;
                for (int k = 0; k < n; k++) {
                    int i = start + k < n ? start + k : start + k - n;
                    if ((skip & 1L << i) != 0 || !states[i].available(now)) {
                        continue;
                    }
                    if (!leastConnections) {
                        best = i;
                        break;
                    }
                    int c = states[i].connections.get();
                    if (c < bestConnections) {
                        best = i;
                        bestConnections = c;
                    }
                }
                if (best < 0) {
                    break;
                }
                if (states[best].claim(now, trialNanos)) {
                    return best;
                }
                skip |= 1L << best; // another connection took its trial meanwhile
            }
            int fallback = -1; // every untried target is down: the least recently failed one
            for (int i = 0; i < n; i++) {
                if ((tried & 1L << i) == 0 && (fallback < 0
                        || states[i].lastFailure() - states[fallback].lastFailure() < 0)) {
                    fallback = i;
                }
            }
            return fallback;
        }

        /** Target {@code i} was reached. */
        void succeeded(int i) {
            TargetHealth.this.succeeded(states[i], "connected again");
        }

        /** A connect to target {@code i} failed or timed out. */
        void failed(int i, long now, String detail) {
            TargetHealth.this.failed(states[i], now, detail);
        }
    }

    /** A connect or check of {@code s} succeeded; logs its return. */
    void succeeded(State s, String how) {
        if (s.succeeded()) {
            events.targetChanged(s.route, s.target, true, how);
        }
    }

    /** A connect or check of {@code s} failed; logs its ejection. */
    void failed(State s, long now, String detail) {
        if (s.failed(now, threshold, ejectionNanos)) {
            events.targetChanged(s.route, s.target, false, s.consecutiveFailures() + " failures in a row, skipped"
                    + " for " + (ejectionNanos / 1_000_000) + " ms; last: " + detail);
        }
    }

    /** The targets of {@code route}, which {@code table} gave for a hello with a name or ({@code noName}) without. */
    Group of(RouteTable table, PartyRoute route, boolean noName) {
        Snapshot s = snapshot;
        if (s.table != table) {
            s = refresh();
        }
        Group g = noName ? s.noServerName : s.byRoute.get(route);
        if (s.table != table || g == null || g.route != route) { // a table swapped out meanwhile: state not kept
            return group(route, noName ? NO_SERVER_NAME : route.serverName(), new HashMap<>(), Map.of());
        }
        return g;
    }

    /** The groups of the table in force, reusing the state of every route entry and target that stays. */
    private synchronized Snapshot refresh() {
        RouteTable table = inForce.get(); // read under the lock: a refresh never goes back to an older table
        Snapshot old = snapshot;
        if (old.table == table) {
            return old;
        }
        Map<String, State> states = new HashMap<>();
        IdentityHashMap<PartyRoute, Group> byRoute = new IdentityHashMap<>();
        for (PartyRoute r : table.routes()) {
            byRoute.put(r, group(r, r.serverName(), states, old.states));
        }
        PartyRoute none = table.noServerNameRoute();
        Group noName = none == null ? null : group(none, NO_SERVER_NAME, states, old.states);
        Snapshot s = new Snapshot(table, byRoute, noName, Map.copyOf(states));
        snapshot = s;
        return s;
    }

    private Group group(PartyRoute r, String label, Map<String, State> into, Map<String, State> previous) {
        List<String> specs = r.targetSpecs();
        State[] states = new State[specs.size()];
        for (int i = 0; i < states.length; i++) {
            String key = label + '\n' + specs.get(i);
            State kept = previous.get(key);
            states[i] = kept != null ? kept : new State(label, specs.get(i), r.isTemplate());
            into.put(key, states[i]);
        }
        return new Group(r, states);
    }

    /** The groups of the table in force, in route order, the no-server-name route last. */
    List<Group> groups() {
        RouteTable table = inForce.get();
        Snapshot s = snapshot.table == table ? snapshot : refresh();
        List<Group> out = new ArrayList<>();
        for (PartyRoute r : s.table.routes()) {
            out.add(s.byRoute.get(r));
        }
        if (s.noServerName != null) {
            out.add(s.noServerName);
        }
        return out;
    }

    /** The read-only view for {@link io.fedlink.api.TunnelServer#targets()}. */
    List<TargetStatus> status() {
        List<TargetStatus> out = new ArrayList<>();
        for (Group g : groups()) {
            for (State st : g.states) {
                out.add(new TargetStatus(st.route, st.target, st.up(), st.consecutiveFailures(), st.failures.sum(),
                        st.connections.get()));
            }
        }
        return out;
    }

    /** Number of target states kept (bounded by the targets of the table in force). */
    int kept() {
        return snapshot.states.size();
    }
}
