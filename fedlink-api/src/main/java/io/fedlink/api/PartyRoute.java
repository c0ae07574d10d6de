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
 */
public final class PartyRoute {
    private final String pattern;
    private final String targetHost;
    private final int targetPort;
    private final Endpoint fixedTarget;
    private final List<CidrBlock> allowedClients;
    private final ProxyProtocol proxyProtocol;

    private PartyRoute(Builder b) {
        this.pattern = canonicalPattern(b.pattern);
        this.targetPort = b.targetPort;
        this.allowedClients = List.copyOf(b.allowedClients);
        this.proxyProtocol = Objects.requireNonNull(b.proxyProtocol, "proxyProtocol");
        if (b.targetHost == null) {
            throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + " has no target");
        }
        if (b.targetHost.contains("$1")) {
            if (!isWildcard()) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + ": target "
                        + HostNames.quote(b.targetHost) + " uses $1 but the name is not a *.suffix wildcard");
            }
            String suffix = b.targetHost.substring(b.targetHost.indexOf("$1") + 2);
            if (!suffix.startsWith(".") || suffix.contains("$1") || !HostNames.isDnsName(suffix.substring(1))) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + ": target "
                        + HostNames.quote(b.targetHost) + " must keep a fixed DNS suffix after $1, as in"
                        + " '$1.internal', so that clients cannot choose the address");
            }
            try {
                new Endpoint(b.targetHost.replace("$1", "x"), targetPort);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + ": invalid target "
                        + HostNames.quote(b.targetHost + ":" + targetPort) + ": " + e.getMessage(), e);
            }
            this.targetHost = b.targetHost.toLowerCase(java.util.Locale.ROOT);
            this.fixedTarget = null;
        } else {
            try {
                this.fixedTarget = new Endpoint(b.targetHost, targetPort);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("route " + HostNames.quote(b.pattern) + ": " + e.getMessage(), e);
            }
            this.targetHost = fixedTarget.host();
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
     * The target for a connection that asked for {@code serverName}: the fixed target, or the templated one with
     * {@code $1} replaced by the labels the wildcard covered.
     *
     * @param serverName the name the client sent (may be {@code null} unless the target is a template)
     * @throws IllegalArgumentException if the name is not covered by this wildcard or the substituted target is not
     *                                  a valid host, or is an IP literal, all-numeric, {@code localhost} or a single
     *                                  label
     */
    public Endpoint targetFor(String serverName) {
        if (fixedTarget != null) {
            return fixedTarget;
        }
        String name = HostNames.canonicalDnsName(serverName);
        if (!name.endsWith(wildcardSuffix()) || name.length() == wildcardSuffix().length()) {
            throw new IllegalArgumentException("server name " + HostNames.quote(serverName) + " is not covered by "
                    + pattern);
        }
        String covered = name.substring(0, name.length() - wildcardSuffix().length());
        String host = targetHost.replace("$1", covered);
        String problem = HostNames.isIpLiteral(host) ? "an IP literal"
                : host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9') ? "all-numeric"
                : host.equals("localhost") || host.endsWith(".localhost") ? "localhost"
                : host.indexOf('.') < 0 ? "a single label" : null;
        if (problem != null) {
            throw new IllegalArgumentException("server name " + HostNames.quote(serverName) + " would make the "
                    + pattern + " template target " + HostNames.quote(host) + ", " + problem
                    + ": templates never reach addresses chosen by the client");
        }
        return new Endpoint(host, targetPort);
    }

    /** The fixed target, or {@code null} when the target host is a {@code $1} template. */
    public Endpoint target() {
        return fixedTarget;
    }

    /** The target as written: {@code host:port}, possibly with {@code $1}. */
    public String targetSpec() {
        return fixedTarget != null ? fixedTarget.toString() : targetHost + ":" + targetPort;
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
        return o instanceof PartyRoute r && r.pattern.equals(pattern) && r.targetSpec().equals(targetSpec())
                && r.allowedClients.equals(allowedClients) && r.proxyProtocol == proxyProtocol;
    }

    @Override
    public int hashCode() {
        return Objects.hash(pattern, targetSpec(), allowedClients, proxyProtocol);
    }

    @Override
    public String toString() {
        return pattern + " -> " + targetSpec() + (allowedClients.isEmpty() ? "" : " allow " + allowedClients)
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
        private String targetHost;
        private int targetPort;
        private final List<CidrBlock> allowedClients = new ArrayList<>();
        private ProxyProtocol proxyProtocol = ProxyProtocol.NONE;

        private Builder(String pattern) {
            this.pattern = pattern;
        }

        /** Sends matching connections to {@code target}. */
        public Builder target(Endpoint target) {
            this.targetHost = target.host();
            this.targetPort = target.port();
            return this;
        }

        /** Sends matching connections to {@code host:port}; a wildcard route's host may contain {@code $1}. */
        public Builder target(String host, int port) {
            this.targetHost = host;
            this.targetPort = port;
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
