package io.fedlink.api;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One entry of a {@link RouteTable}: which TLS server names it serves and where their bytes go.
 *
 * <p>The server-name pattern is one of
 * <ul>
 *   <li>an exact DNS name ({@code 10000.fate.org}), compared case-insensitively with a trailing dot ignored;</li>
 *   <li>an IP literal ({@code 127.0.0.2}); clients that put an IP literal in SNI are routed only by such a route;</li>
 *   <li>a wildcard {@code *.suffix} ({@code *.fate.org}) that covers <em>one or more</em> labels in front of the
 *       suffix ({@code a.fate.org} and {@code a.b.fate.org}, never {@code fate.org} itself), as Traffic Server's
 *       {@code sni.yaml} does; when several wildcards match, the longest suffix wins;</li>
 *   <li>{@code *} alone: the route for names no other entry matches (see {@link RouteTable}).</li>
 * </ul>
 *
 * <p>The target host may contain {@code $1} in a wildcard route: it is replaced by the labels the wildcard
 * covered, as in Traffic Server's {@code tunnel_route: $1.internal:6651}. Because the client chooses those labels,
 * a template must keep a fixed DNS suffix after {@code $1} ({@code $1.internal}, never {@code $1} alone), and a
 * substituted target that is an IP literal, all-numeric, {@code localhost} (or under it) or a single label is
 * refused: a template never lets a client pick an address. An optional client allow list
 * (Traffic Server's {@code ip_allow}) restricts who may use the route: an empty list admits every client.
 *
 * <p>A route may list up to {@value #MAX_TARGETS} targets (each different; either all fixed or all {@code $1}
 * templates, each template checked as above). The proxy spreads new connections over the healthy ones by the
 * route's {@link Balancing} and, when a connect fails, tries the next one within the connect deadline. The
 * single-target methods ({@link #target()}, {@link #targetFor(String)}, {@link #targetSpec()}) give the first.
 *
 * <p>Instead of targets, a route may name a party whose broker is reached through that party's <em>agent</em>
 * ({@link Builder#agent(String)}): the agent dials out to the proxy with the party's certificate, and the proxy
 * hands it the route's connections, so the party opens no inbound port. Such a route has no targets
 * ({@link #targetCount()} is 0) and its {@link #targetSpec()} reads {@code agent:<party>}.
 */
public final class PartyRoute {
    /** Most targets one route may list. */
    public static final int MAX_TARGETS = 64;

    /** How a route with several targets spreads new connections over the healthy ones. */
    public enum Balancing {
        /** Each new connection goes to the next healthy target in turn (the default). */
        ROUND_ROBIN,
        /** Each new connection goes to the healthy target with the fewest connections (connecting or open). */
        LEAST_CONNECTIONS;

        /** The name used in route files: {@code round_robin}, {@code least_connections}. */
        public String fileName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Parses {@link #fileName()} (any case, {@code -} or {@code _}). */
        public static Balancing parse(String text) {
            String t = text == null ? "" : text.strip().replace('-', '_').toUpperCase(java.util.Locale.ROOT);
            for (Balancing b : values()) {
                if (b.name().equals(t)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("balancing " + HostNames.quote(text)
                    + " must be round_robin or least_connections");
        }
    }

    /** One target as written: a fixed endpoint, or a {@code $1} template host and a port. */
    private record Target(String host, int port, Endpoint fixed) {
        String spec() {
            return fixed != null ? fixed.toString() : host + ":" + port;
        }
    }

    private final String pattern;
    private final List<Target> targets;
    private final List<Endpoint> fixedTargets;
    private final List<String> targetSpecs;
    private final Balancing balancing;
    private final List<CidrBlock> allowedClients;
    private final ProxyProtocol proxyProtocol;
    private final String agentParty;

    private PartyRoute(Builder b) {
        this.pattern = canonicalPattern(b.pattern);
        this.allowedClients = List.copyOf(b.allowedClients);
        this.proxyProtocol = Objects.requireNonNull(b.proxyProtocol, "proxyProtocol");
        this.balancing = Objects.requireNonNull(b.balancing, "balancing");
        if (b.agentParty != null) {
            if (!b.hosts.isEmpty()) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + " names both targets and"
                        + " the agent of party " + HostNames.quote(b.agentParty) + ": give one or the other");
            }
            try {
                this.agentParty = PartyIds.canonical(b.agentParty);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + ": agent: "
                        + e.getMessage(), e);
            }
            this.targets = List.of();
            this.fixedTargets = List.of();
            this.targetSpecs = List.of();
            return;
        }
        this.agentParty = null;
        if (b.hosts.isEmpty()) {
            throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + " has no target");
        }
        if (b.hosts.size() > MAX_TARGETS) {
            throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + " has " + b.hosts.size()
                    + " targets, more than the " + MAX_TARGETS + " a route may list");
        }
        List<Target> list = new ArrayList<>(b.hosts.size());
        java.util.Set<String> seen = new java.util.HashSet<>();
        int templates = 0;
        for (int i = 0; i < b.hosts.size(); i++) {
            Target t = target(b.pattern, b.hosts.get(i), b.ports.get(i));
            if (!seen.add(t.spec())) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + " lists target "
                        + HostNames.quote(t.spec()) + " twice");
            }
            templates += t.fixed == null ? 1 : 0;
            list.add(t);
        }
        if (templates != 0 && templates != list.size()) {
            throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + " mixes $1 templates and"
                    + " fixed targets: list either only templates or only fixed targets");
        }
        this.targets = List.copyOf(list);
        this.fixedTargets = templates == 0 ? list.stream().map(Target::fixed).toList() : List.of();
        this.targetSpecs = list.stream().map(Target::spec).toList();
    }

    /** Validates one target of route {@code name}, as written. */
    private Target target(String name, String host, int port) {
        if (host == null) {
            throw new IllegalArgumentException("route " + HostNames.quote(name) + " has no target");
        }
        if (host.contains("$1")) {
            if (!isWildcard()) {
                throw new IllegalArgumentException("route " + HostNames.quote(name) + ": target "
                        + HostNames.quote(host) + " uses $1 but the name is not a *.suffix wildcard");
            }
            String suffix = host.substring(host.indexOf("$1") + 2);
            if (!suffix.startsWith(".") || suffix.contains("$1") || !HostNames.isDnsName(suffix.substring(1))) {
                throw new IllegalArgumentException("route " + HostNames.quote(name) + ": target "
                        + HostNames.quote(host) + " must keep a fixed DNS suffix after $1, as in"
                        + " '$1.internal', so that clients cannot choose the address");
            }
            try {
                new Endpoint(host.replace("$1", "x"), port);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("route " + HostNames.quote(name) + ": invalid target "
                        + HostNames.quote(host + ":" + port) + ": " + e.getMessage(), e);
            }
            return new Target(host.toLowerCase(java.util.Locale.ROOT), port, null);
        }
        try {
            Endpoint e = new Endpoint(host, port);
            return new Target(e.host(), port, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("route " + HostNames.quote(name) + ": " + e.getMessage(), e);
        }
    }

    /** A route from {@code serverName} (any pattern form) to a fixed target, open to every client. */
    public static PartyRoute of(String serverName, Endpoint target) {
        return builder(serverName).target(target).build();
    }

    /** Starts a route for the given server-name pattern. */
    public static Builder builder(String serverName) {
        return new Builder(serverName);
    }

    /** The canonical pattern: lower case, no trailing dot. */
    public String serverName() {
        return pattern;
    }

    /** Whether the pattern is {@code *.suffix}. */
    public boolean isWildcard() {
        return pattern.startsWith("*.");
    }

    /** Whether the pattern is the catch-all {@code *}. */
    public boolean isCatchAll() {
        return pattern.equals("*");
    }

    /** The suffix a wildcard covers, with its leading dot ({@code .fate.org}); {@code null} for other patterns. */
    public String wildcardSuffix() {
        return isWildcard() ? pattern.substring(1) : null;
    }

    /**
     * The first target for a connection that asked for {@code serverName}: {@code targetFor(0, serverName)}.
     *
     * @param serverName the name the client sent (may be {@code null} unless the target is a template)
     * @throws IllegalArgumentException if the name is not covered by this wildcard or the substituted target is not
     *                                  a valid host, or is an IP literal, all-numeric, {@code localhost} or a single
     *                                  label
     */
    public Endpoint targetFor(String serverName) {
        return targetFor(0, serverName);
    }

    /**
     * Target {@code index} (0-based, in the order written) for a connection that asked for {@code serverName}: the
     * fixed target, or the templated one with {@code $1} replaced by the labels the wildcard covered.
     *
     * @param index      0 to {@link #targetCount()} - 1
     * @param serverName the name the client sent (may be {@code null} unless the target is a template)
     * @throws IllegalArgumentException if the name is not covered by this wildcard or the substituted target is not
     *                                  a valid host, or is an IP literal, all-numeric, {@code localhost} or a single
     *                                  label
     * @throws IndexOutOfBoundsException if there is no such target
     */
    public Endpoint targetFor(int index, String serverName) {
        Target t = targets.get(index);
        if (t.fixed != null) {
            return t.fixed;
        }
        String name = HostNames.canonicalDnsName(serverName);
        if (!name.endsWith(wildcardSuffix()) || name.length() == wildcardSuffix().length()) {
            throw new IllegalArgumentException("server name " + HostNames.quote(serverName) + " is not covered by "
                    + pattern);
        }
        String covered = name.substring(0, name.length() - wildcardSuffix().length());
        String host = t.host.replace("$1", covered);
        String problem = HostNames.isIpLiteral(host) ? "an IP literal"
                : host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9') ? "all-numeric"
                : host.equals("localhost") || host.endsWith(".localhost") ? "localhost"
                : host.indexOf('.') < 0 ? "a single label" : null;
        if (problem != null) {
            throw new IllegalArgumentException("server name " + HostNames.quote(serverName) + " would make the "
                    + pattern + " template target " + HostNames.quote(host) + ", " + problem
                    + ": templates never reach addresses chosen by the client");
        }
        return new Endpoint(host, t.port);
    }

    /**
     * The party whose agent serves this route ({@link Builder#agent(String)}), canonical; {@code null} for a route
     * with targets.
     */
    public String agentParty() {
        return agentParty;
    }

    /** Whether this route is served by a party's agent rather than by targets. */
    public boolean viaAgent() {
        return agentParty != null;
    }

    /** The first fixed target, or {@code null} when the targets are {@code $1} templates. */
    public Endpoint target() {
        return fixedTargets.isEmpty() ? null : fixedTargets.get(0);
    }

    /** The fixed targets in the order written, or an empty list when the targets are {@code $1} templates. */
    public List<Endpoint> targets() {
        return fixedTargets;
    }

    /** Number of targets (1..{@value #MAX_TARGETS}; 0 for a route {@link #viaAgent() via an agent}). */
    public int targetCount() {
        return targets.size();
    }

    /** Whether the targets are {@code $1} templates (then {@link #targets()} is empty). */
    public boolean isTemplate() {
        return agentParty == null && fixedTargets.isEmpty();
    }

    /** The first target as written: {@code host:port}, possibly with {@code $1}; {@code agent:<party>} for an agent. */
    public String targetSpec() {
        return agentParty != null ? "agent:" + agentParty : targetSpecs.get(0);
    }

    /** Every target as written ({@code host:port}, possibly with {@code $1}), in order. */
    public List<String> targetSpecs() {
        return targetSpecs;
    }

    /** How new connections are spread over several targets. */
    public Balancing balancing() {
        return balancing;
    }

    /** The targets as text for messages: {@code a:1} or {@code [a:1, b:2]}. */
    String targetsText() {
        return targetSpecs.size() != 1 && agentParty == null ? targetSpecs.toString() : targetSpec();
    }

    /** CIDR blocks allowed to use this route; empty means everyone. */
    public List<CidrBlock> allowedClients() {
        return allowedClients;
    }

    /** Whether {@code client} may use this route. */
    public boolean allows(InetAddress client) {
        if (allowedClients.isEmpty()) {
            return true;
        }
        for (CidrBlock b : allowedClients) {
            if (b.contains(client)) {
                return true;
            }
        }
        return false;
    }

    /** The PROXY protocol header sent to the target, if any. */
    public ProxyProtocol proxyProtocol() {
        return proxyProtocol;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PartyRoute r && r.pattern.equals(pattern) && r.targetSpecs.equals(targetSpecs)
                && r.balancing == balancing && r.allowedClients.equals(allowedClients)
                && r.proxyProtocol == proxyProtocol && Objects.equals(r.agentParty, agentParty);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pattern, targetSpecs, balancing, allowedClients, proxyProtocol, agentParty);
    }

    @Override
    public String toString() {
        return pattern + " -> " + targetsText() + (targetSpecs.size() > 1 ? " " + balancing.fileName() : "")
                + (allowedClients.isEmpty() ? "" : " allow " + allowedClients)
                + (proxyProtocol == ProxyProtocol.NONE ? "" : " proxy-protocol " + proxyProtocol);
    }

    static String canonicalPattern(String pattern) {
        if (pattern == null) {
            throw new IllegalArgumentException("invalid server name null");
        }
        if (pattern.equals("*")) {
            return pattern;
        }
        if (pattern.startsWith("*.")) {
            String suffix = pattern.substring(2);
            String problem = HostNames.dnsNameProblem(suffix);
            if (problem != null || suffix.endsWith(".") && suffix.length() == 1) {
                throw new IllegalArgumentException("invalid wildcard server name " + HostNames.quote(pattern) + ": "
                        + (problem != null ? problem : "empty suffix"));
            }
            return "*." + HostNames.canonicalDnsName(suffix);
        }
        if (pattern.indexOf('*') >= 0) {
            throw new IllegalArgumentException("invalid server name " + HostNames.quote(pattern)
                    + ": '*' is allowed only as the whole first label ('*.example.org') or alone");
        }
        String ip = HostNames.canonicalIpLiteral(pattern);
        if (ip != null) {
            return ip;
        }
        String problem = HostNames.dnsNameProblem(pattern);
        if (problem != null) {
            throw new IllegalArgumentException("invalid server name " + HostNames.quote(pattern) + ": " + problem);
        }
        return HostNames.canonicalDnsName(pattern);
    }

    /** Builds a {@link PartyRoute}; every value is validated by {@link #build()}. */
    public static final class Builder {
        private final String pattern;
        private final List<String> hosts = new ArrayList<>();
        private final List<Integer> ports = new ArrayList<>();
        private final List<CidrBlock> allowedClients = new ArrayList<>();
        private ProxyProtocol proxyProtocol = ProxyProtocol.NONE;
        private Balancing balancing = Balancing.ROUND_ROBIN;
        private String agentParty;

        private Builder(String pattern) {
            this.pattern = pattern;
        }

        /** Sends matching connections to {@code target} alone (replaces the targets given so far). */
        public Builder target(Endpoint target) {
            return target(target.host(), target.port());
        }

        /**
         * Sends matching connections to {@code host:port} alone (replaces the targets given so far); a wildcard
         * route's host may contain {@code $1}.
         */
        public Builder target(String host, int port) {
            hosts.clear();
            ports.clear();
            return addTarget(host, port);
        }

        /** Adds a target after those given so far. */
        public Builder addTarget(Endpoint target) {
            return addTarget(target.host(), target.port());
        }

        /** Adds {@code host:port} (a wildcard route's host may contain {@code $1}) after the targets so far. */
        public Builder addTarget(String host, int port) {
            hosts.add(host);
            ports.add(port);
            return this;
        }

        /** Sends matching connections to these targets (replaces the targets given so far). */
        public Builder targets(List<Endpoint> targets) {
            hosts.clear();
            ports.clear();
            targets.forEach(this::addTarget);
            return this;
        }

        /**
         * Sends matching connections to the agent of party {@code partyId} (a canonical party id, see
         * {@link PartyIds}) instead of to targets: the proxy hands them to a connection the party's agent opened.
         * A route has either targets or an agent.
         */
        public Builder agent(String partyId) {
            this.agentParty = partyId;
            return this;
        }

        /** Spreads new connections over the targets this way (default {@link Balancing#ROUND_ROBIN}). */
        public Builder balancing(Balancing policy) {
            this.balancing = policy;
            return this;
        }

        /** Admits only clients in these blocks (each {@code address[/prefix]}). */
        public Builder allowClients(String... cidrs) {
            for (String c : cidrs) {
                allowedClients.add(CidrBlock.parse(c));
            }
            return this;
        }

        /** Admits only clients in these blocks. */
        public Builder allowClients(List<CidrBlock> blocks) {
            allowedClients.addAll(blocks);
            return this;
        }

        /** Sends a PROXY protocol header of this version to the target. */
        public Builder proxyProtocol(ProxyProtocol version) {
            this.proxyProtocol = version;
            return this;
        }

        /** Validates and builds the route. */
        public PartyRoute build() {
            return new PartyRoute(this);
        }
    }
}
