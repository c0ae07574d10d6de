package io.fedlink.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how a tunnel server accepts party <em>agents</em>: processes that run beside a party's broker, dial out
 * to the proxy and carry the tunnels of routes {@link PartyRoute#viaAgent() served by that party's agent}, so the
 * party opens no inbound port.
 *
 * <p>One port serves both kinds of agent connection. A <em>control</em> connection is mutual TLS: the agent presents
 * its party's certificate, issued by the federation CA in {@link #tls()} (and not revoked by a CRL there); the party
 * is what that certificate says (exactly one DNS name {@code <party>.<partyDomain>}, a common name equal to the
 * party id, if any), never what the agent claims. <em>Data</em> connections are plain TCP carrying the client's own
 * TLS end to end; each starts with a single-use random token the agent announced on its control connection, which
 * binds it to the authenticated party.
 *
 * <p>Limits: {@link #maxAgents()} control connections at once ({@link #maxAgentsPerParty()} of one party),
 * {@link #maxPoolPerAgent()} idle data connections (and announced tokens) per control connection,
 * {@link #maxPendingConnections()} connections whose first bytes are still awaited (a few per source address),
 * each within {@link #handshakeTimeout()}. An idle data connection is closed after
 * {@link #poolMaxIdle()} (so middleboxes never silently drop one the proxy would hand out; the agent replaces it),
 * and a control connection silent for {@link #keepAliveTimeout()} is closed (agents ping every third of it).
 */
public final class AgentListenerConfig {
    private final InetSocketAddress bindAddress;
    private final ReloadableTlsMaterial tls;
    private final String partyDomain;
    private final int maxAgents;
    private final int maxAgentsPerParty;
    private final int maxPoolPerAgent;
    private final int maxPendingConnections;
    private final Duration handshakeTimeout;
    private final Duration poolMaxIdle;
    private final Duration keepAliveTimeout;

    private AgentListenerConfig(Builder b) {
        this.bindAddress = Objects.requireNonNull(b.bindAddress, "bind address");
        this.tls = Objects.requireNonNull(b.tls, "tls: the proxy's certificate and key and the federation CA");
        if (!tls.current().hasIdentity()) {
            throw new IllegalArgumentException("the agent listener needs the proxy's own certificate and key (agents"
                    + " verify it), not only trust anchors");
        }
        String problem = b.partyDomain == null ? "missing" : HostNames.dnsNameProblem(b.partyDomain);
        if (problem != null) {
            throw new IllegalArgumentException("invalid party domain " + HostNames.quote(b.partyDomain) + ": "
                    + problem);
        }
        this.partyDomain = HostNames.canonicalDnsName(b.partyDomain);
        this.maxAgents = range("maxAgents", b.maxAgents, 1, 10_000);
        this.maxAgentsPerParty = range("maxAgentsPerParty", b.maxAgentsPerParty, 1, maxAgents);
        this.maxPoolPerAgent = range("maxPoolPerAgent", b.maxPoolPerAgent, 1, 1024);
        this.maxPendingConnections = range("maxPendingConnections", b.maxPendingConnections, 1, 10_000);
        this.handshakeTimeout = between("handshakeTimeout", b.handshakeTimeout, Duration.ofMillis(100),
                Duration.ofMinutes(5));
        this.poolMaxIdle = between("poolMaxIdle", b.poolMaxIdle, Duration.ofSeconds(1), Duration.ofHours(1));
        this.keepAliveTimeout = between("keepAliveTimeout", b.keepAliveTimeout, Duration.ofMillis(300),
                Duration.ofMinutes(10));
    }

    private static int range(String what, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(what + " must be " + min + ".." + max + ", was " + v);
        }
        return v;
    }

    private static Duration between(String what, Duration d, Duration min, Duration max) {
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException(what + " must be " + min + " to " + max + ", was " + d);
        }
        return d;
    }

    /** Starts a config that listens on {@code address} (port 0 picks a free port). */
    public static Builder builder(InetSocketAddress address) {
        return new Builder(address);
    }

    /** Where agents connect. */
    public InetSocketAddress bindAddress() {
        return bindAddress;
    }

    /** The proxy's certificate and key, the federation CA that issues party certificates, and its CRLs. */
    public ReloadableTlsMaterial tls() {
        return tls;
    }

    /** The domain of party names: a party's certificate names {@code <party>.<partyDomain>}. */
    public String partyDomain() {
        return partyDomain;
    }

    /** Most control connections at once, over all parties (default 64). */
    public int maxAgents() {
        return maxAgents;
    }

    /**
     * Most control connections of one party at once (default 4): a party's certificate cannot take the slots of
     * the others' agents.
     */
    public int maxAgentsPerParty() {
        return maxAgentsPerParty;
    }

    /** Most idle data connections plus announced tokens one control connection may hold (default 16). */
    public int maxPoolPerAgent() {
        return maxPoolPerAgent;
    }

    /** Most connections whose first bytes or TLS handshake are still awaited (default 64). */
    public int maxPendingConnections() {
        return maxPendingConnections;
    }

    /** Time a new connection has for its TLS handshake or data token (default 10 s). */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** How long an idle data connection is kept before the proxy closes it (default 60 s). */
    public Duration poolMaxIdle() {
        return poolMaxIdle;
    }

    /** A control connection silent this long is closed (default 30 s; agents ping every third of it). */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    @Override
    public String toString() {
        return "agents on " + bindAddress + " for *." + partyDomain;
    }

    /** Collects the settings; {@link #build()} validates them. */
    public static final class Builder {
        private final InetSocketAddress bindAddress;
        private ReloadableTlsMaterial tls;
        private String partyDomain;
        private int maxAgents = 64;
        private int maxAgentsPerParty = 4;
        private int maxPoolPerAgent = 16;
        private int maxPendingConnections = 64;
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private Duration poolMaxIdle = Duration.ofSeconds(60);
        private Duration keepAliveTimeout = Duration.ofSeconds(30);

        private Builder(InetSocketAddress bindAddress) {
            this.bindAddress = bindAddress;
        }

        /** The proxy's identity and the federation CA (required); see {@link AgentListenerConfig#tls()}. */
        public Builder tls(ReloadableTlsMaterial material) {
            this.tls = material;
            return this;
        }

        /** The party domain (required), e.g. {@code fate.org}. */
        public Builder partyDomain(String domain) {
            this.partyDomain = domain;
            return this;
        }

        /** See {@link AgentListenerConfig#maxAgents()}. */
        public Builder maxAgents(int n) {
            this.maxAgents = n;
            return this;
        }

        /** See {@link AgentListenerConfig#maxAgentsPerParty()}. */
        public Builder maxAgentsPerParty(int n) {
            this.maxAgentsPerParty = n;
            return this;
        }

        /** See {@link AgentListenerConfig#maxPoolPerAgent()}. */
        public Builder maxPoolPerAgent(int n) {
            this.maxPoolPerAgent = n;
            return this;
        }

        /** See {@link AgentListenerConfig#maxPendingConnections()}. */
        public Builder maxPendingConnections(int n) {
            this.maxPendingConnections = n;
            return this;
        }

        /** See {@link AgentListenerConfig#handshakeTimeout()}. */
        public Builder handshakeTimeout(Duration d) {
            this.handshakeTimeout = d;
            return this;
        }

        /** See {@link AgentListenerConfig#poolMaxIdle()}. */
        public Builder poolMaxIdle(Duration d) {
            this.poolMaxIdle = d;
            return this;
        }

        /** See {@link AgentListenerConfig#keepAliveTimeout()}. */
        public Builder keepAliveTimeout(Duration d) {
            this.keepAliveTimeout = d;
            return this;
        }

        /** Validates the settings. */
        public AgentListenerConfig build() {
            return new AgentListenerConfig(this);
        }
    }
}
