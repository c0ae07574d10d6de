package io.fedlink.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of routes: resolves the server name of a TLS ClientHello to the {@link PartyRoute} that
 * serves it. Swap snapshots through a {@link RouteHolder}; a snapshot never changes.
 *
 * <p>Resolution order for a name: the exact entry; else the wildcard with the longest matching suffix (a wildcard
 * covers one or more labels, see {@link PartyRoute}); else the catch-all ({@code *}, or
 * {@link Builder#whenUnknownName}). A hello without a server name goes to {@link Builder#whenNoServerName}, never to
 * the catch-all unless it was given for that too. A name that is an IP literal is routed only by an exact entry
 * naming that address, never by a wildcard or a default. A name that is neither a DNS name nor an IP literal
 * resolves to nothing.
 *
 * <p>Two entries with the same pattern (after case folding and trailing-dot removal) are refused at construction,
 * naming the pattern.
 */
public final class RouteTable {
    private static final RouteTable EMPTY = builder().build();

    private final Map<String, PartyRoute> exact;
    private final Map<String, PartyRoute> wildcards; // key: suffix with leading dot, ".fate.org"
    private final PartyRoute unknownName;
    private final PartyRoute noServerName;
    private final List<PartyRoute> routes;
    private final java.util.Set<String> agentParties;

    private RouteTable(Builder b) {
        this.exact = Map.copyOf(b.exact);
        this.wildcards = Map.copyOf(b.wildcards);
        this.unknownName = b.unknownName;
        this.noServerName = b.noServerName;
        this.routes = Collections.unmodifiableList(new ArrayList<>(b.order));
        java.util.Set<String> agents = new java.util.TreeSet<>();
        for (PartyRoute r : routes) {
            if (r.viaAgent()) {
                agents.add(r.agentParty());
            }
        }
        if (noServerName != null && noServerName.viaAgent()) {
            agents.add(noServerName.agentParty());
        }
        this.agentParties = Collections.unmodifiableSet(agents);
    }

    /**
     * The parties whose agents serve a route of this table ({@link PartyRoute#viaAgent()}), sorted: the only
     * parties whose agents a proxy on this table admits.
     */
    public java.util.Set<String> agentParties() {
        return agentParties;
    }

    /** A table that routes nothing. */
    public static RouteTable empty() {
        return EMPTY;
    }

    /** A table of these routes (a {@code *} route becomes the unknown-name route). */
    public static RouteTable of(PartyRoute... routes) {
        Builder b = builder();
        for (PartyRoute r : routes) {
            b.add(r);
        }
        return b.build();
    }

    /** Starts an empty table. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this table's entries, to derive a changed snapshot. */
    public Builder toBuilder() {
        Builder b = new Builder();
        routes.forEach(b::add);
        if (noServerName != null) {
            b.whenNoServerName(noServerName);
        }
        return b;
    }

    /**
     * Resolves a server name.
     *
     * @param serverName the name from the ClientHello as sent (any case, maybe a trailing dot), or {@code null} when
     *                   the hello carried none
     * @return the route, or {@code null} when nothing serves the name
     */
    public PartyRoute resolve(String serverName) {
        if (serverName == null) {
            return noServerName;
        }
        String name = canonicalOrNull(serverName);
        if (name == null) {
            return null;
        }
        PartyRoute r = exact.get(name);
        if (r != null) {
            return r;
        }
        if (HostNames.parseIpLiteral(name) != null) {
            return null;
        }
        if (!wildcards.isEmpty()) {
            // Longest suffix first: start after the first label and move right.
            for (int dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
                r = wildcards.get(name.substring(dot));
                if (r != null) {
                    return r;
                }
            }
        }
        return unknownName;
    }

    /** The canonical form of a name for lookup, or {@code null} when it is neither a DNS name nor an IP literal. */
    static String canonicalOrNull(String serverName) {
        if (HostNames.isDnsName(serverName)) {
            return HostNames.canonicalDnsName(serverName);
        }
        return HostNames.canonicalIpLiteral(serverName);
    }

    /** Every entry in the order added, including a {@code *} catch-all; not the no-server-name route. */
    public List<PartyRoute> routes() {
        return routes;
    }

    /** The route for names nothing else matches, or {@code null}. */
    public PartyRoute unknownNameRoute() {
        return unknownName;
    }

    /** The route for hellos without a server name, or {@code null}. */
    public PartyRoute noServerNameRoute() {
        return noServerName;
    }

    /** Number of entries (see {@link #routes()}). */
    public int size() {
        return routes.size();
    }

    @Override
    public String toString() {
        return "RouteTable" + routes + (noServerName == null ? "" : " no-server-name -> " + noServerName.targetsText());
    }

    /** Collects routes; {@link #add} refuses a pattern given twice. */
    public static final class Builder {
        private final Map<String, PartyRoute> exact = new HashMap<>();
        private final Map<String, PartyRoute> wildcards = new HashMap<>();
        private final List<PartyRoute> order = new ArrayList<>();
        private PartyRoute unknownName;
        private PartyRoute noServerName;

        private Builder() {}

        /**
         * Adds a route.
         *
         * @throws IllegalArgumentException if a route with the same pattern is already present
         */
        public Builder add(PartyRoute route) {
            String p = route.serverName();
            PartyRoute previous;
            if (route.isCatchAll()) {
                previous = unknownName;
                if (previous == null) {
                    unknownName = route;
                }
            } else if (route.isWildcard()) {
                previous = wildcards.putIfAbsent(route.wildcardSuffix(), route);
            } else {
                previous = exact.putIfAbsent(p, route);
            }
            if (previous != null) {
                throw new IllegalArgumentException("duplicate route for server name " + HostNames.quote(p) + ": "
                        + previous.targetsText() + " and " + route.targetsText());
            }
            order.add(route);
            return this;
        }

        /** Adds {@code serverName -> target}. */
        public Builder add(String serverName, Endpoint target) {
            return add(PartyRoute.of(serverName, target));
        }

        /** Routes names that no entry matches to {@code target} (same as adding a {@code *} route). */
        public Builder whenUnknownName(Endpoint target) {
            return add(PartyRoute.of("*", target));
        }

        /** Routes hellos that carry no server name to {@code target}. */
        public Builder whenNoServerName(Endpoint target) {
            return whenNoServerName(PartyRoute.of("*", target));
        }

        /** Routes hellos that carry no server name through {@code route} (its pattern must be {@code *}). */
        public Builder whenNoServerName(PartyRoute route) {
            if (!route.isCatchAll()) {
                throw new IllegalArgumentException("the no-server-name route must use pattern '*', not "
                        + HostNames.quote(route.serverName()));
            }
            if (noServerName != null) {
                throw new IllegalArgumentException("duplicate no-server-name route: " + noServerName.targetsText()
                        + " and " + route.targetsText());
            }
            noServerName = route;
            return this;
        }

        /** Routes both unknown names and hellos without a name to {@code target}. */
        public Builder defaultRoute(Endpoint target) {
            return whenUnknownName(target).whenNoServerName(target);
        }

        /** The immutable snapshot. */
        public RouteTable build() {
            return new RouteTable(this);
        }
    }
}
