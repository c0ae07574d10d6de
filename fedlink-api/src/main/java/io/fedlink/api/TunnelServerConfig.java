package io.fedlink.api;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Everything a {@link TunnelTransport} needs to start a {@link TunnelServer}. Immutable; build one with
 * {@link Tunnels#server()} (or {@code SniProxy.builder()}, the same builder, from fedlink-sni).
 *
 * <p>Defaults: bind {@code 0.0.0.0:443}; hello timeout 10 s; connect timeout 5 s; no idle timeout; ClientHello cap
 * 16 KiB (at most 64 KiB); 10,000 live tunnels; 1,000 connections in the hello or connect phase, 100 of them from one
 * client address; one event loop per available processor; 16 KiB copy buffers within half of the JVM's direct-memory
 * limit; refusals answered with a TLS alert; the JDK resolver; a target failing 3 connects in a row skipped for 10 s;
 * no active health check; live tunnels that a route swap no longer serves are closed.
 */
public final class TunnelServerConfig {
    /** Longest hello or connect timeout accepted. */
    public static final Duration MAX_HANDSHAKE_TIMEOUT = Duration.ofHours(1);
    /** Longest idle timeout accepted (deadline arithmetic stays far from overflow). */
    public static final Duration MAX_IDLE_TIMEOUT = Duration.ofDays(30);
    /** Smallest explicit copy-buffer memory budget (64 KiB). */
    public static final long MIN_BUFFER_MEMORY = 64 * 1024;
    /** Largest ClientHello cap a transport must support. */
    public static final int MAX_HELLO_CAP = 64 * 1024;
    /** Smallest ClientHello cap accepted. */
    public static final int MIN_HELLO_CAP = 512;
    /** Shortest active health-check interval accepted. */
    public static final Duration MIN_HEALTH_CHECK_INTERVAL = Duration.ofMillis(100);
    /** The default ClientHello cap. */
    public static final int DEFAULT_HELLO_CAP = 16 * 1024;

    private final InetSocketAddress bindAddress;
    private final RouteHolder routes;
    private final Duration helloTimeout;
    private final Duration connectTimeout;
    private final Duration idleTimeout;
    private final int maxHelloBytes;
    private final int maxTunnels;
    private final int maxPendingHandshakes;
    private final int maxHandshakesPerClient;
    private final long maxBufferMemory;
    private final int eventLoops;
    private final int bufferSize;
    private final boolean refusalAlerts;
    private final boolean closeUnroutedTunnels;
    private final TunnelListener listener;
    private final String transport;
    private final NameResolver resolver;
    private final List<CidrBlock> proxyProtocolFrom;
    private final int maxConnectionsPerClient;
    private final double connectionRatePerClient;
    private final int clientIpv6PrefixLength;
    private final Duration proxyHeaderTimeout;
    private final int targetFailures;
    private final Duration targetEjection;
    private final Duration healthCheckInterval;
    private final AccessLogFormat accessLogFormat;
    private final Consumer<String> accessLogSink;
    private final AgentListenerConfig agents;

    private TunnelServerConfig(Builder b) {
        this.bindAddress = b.bindAddress;
        this.routes = Objects.requireNonNull(b.routes, "routes: give a RouteTable or RouteHolder");
        this.helloTimeout = atMost("helloTimeout", positive("helloTimeout", b.helloTimeout), MAX_HANDSHAKE_TIMEOUT,
                "1 hour");
        this.connectTimeout = atMost("connectTimeout", positive("connectTimeout", b.connectTimeout),
                MAX_HANDSHAKE_TIMEOUT, "1 hour");
        if (b.idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout must be zero (none) or positive, was " + b.idleTimeout);
        }
        this.idleTimeout = atMost("idleTimeout", b.idleTimeout, MAX_IDLE_TIMEOUT, "30 days");
        this.maxHelloBytes = range("maxHelloBytes", b.maxHelloBytes, MIN_HELLO_CAP, MAX_HELLO_CAP);
        this.maxTunnels = range("maxTunnels", b.maxTunnels, 1, Integer.MAX_VALUE);
        this.maxPendingHandshakes = range("maxPendingHandshakes", b.maxPendingHandshakes, 1, Integer.MAX_VALUE);
        this.maxHandshakesPerClient = range("maxHandshakesPerClient", b.maxHandshakesPerClient, 1,
                Integer.MAX_VALUE);
        if (b.maxBufferMemory != 0 && b.maxBufferMemory < MIN_BUFFER_MEMORY) {
            throw new IllegalArgumentException("maxBufferMemory must be 0 (automatic) or at least " + MIN_BUFFER_MEMORY
                    + " bytes, was " + b.maxBufferMemory);
        }
        this.maxBufferMemory = b.maxBufferMemory;
        this.eventLoops = range("eventLoops", b.eventLoops, 1, 1024);
        this.bufferSize = range("bufferSize", b.bufferSize, 1024, 1 << 20);
        this.refusalAlerts = b.refusalAlerts;
        this.closeUnroutedTunnels = b.closeUnroutedTunnels;
        this.listener = Objects.requireNonNull(b.listener, "listener");
        this.transport = b.transport;
        this.resolver = Objects.requireNonNull(b.resolver, "resolver");
        this.proxyProtocolFrom = List.copyOf(b.proxyProtocolFrom);
        this.maxConnectionsPerClient = range("maxConnectionsPerClient", b.maxConnectionsPerClient, 0,
                Integer.MAX_VALUE);
        if (!(b.connectionRatePerClient >= 0 && b.connectionRatePerClient <= 1e6)) {
            throw new IllegalArgumentException("connectionRatePerClient must be 0 (none) to 1000000 a second, was "
                    + b.connectionRatePerClient);
        }
        this.connectionRatePerClient = b.connectionRatePerClient;
        this.clientIpv6PrefixLength = range("clientIpv6PrefixLength", b.clientIpv6PrefixLength, 1, 128);
        this.proxyHeaderTimeout = atMost("proxyHeaderTimeout", positive("proxyHeaderTimeout", b.proxyHeaderTimeout),
                MAX_HANDSHAKE_TIMEOUT, "1 hour");
        this.targetFailures = range("targetFailures", b.targetFailures, 0, 1000);
        this.targetEjection = atMost("targetEjection", positive("targetEjection", b.targetEjection),
                MAX_HANDSHAKE_TIMEOUT, "1 hour");
        if (b.healthCheckInterval == null || b.healthCheckInterval.isNegative()) {
            throw new IllegalArgumentException("healthCheckInterval must be zero (none) or positive, was "
                    + b.healthCheckInterval);
        }
        if (!b.healthCheckInterval.isZero() && b.healthCheckInterval.compareTo(MIN_HEALTH_CHECK_INTERVAL) < 0) {
            throw new IllegalArgumentException("healthCheckInterval must be zero (none) or at least 100 ms, was "
                    + b.healthCheckInterval);
        }
        this.healthCheckInterval = atMost("healthCheckInterval", b.healthCheckInterval, MAX_HANDSHAKE_TIMEOUT,
                "1 hour");
        this.accessLogFormat = Objects.requireNonNull(b.accessLogFormat, "accessLogFormat");
        this.accessLogSink = b.accessLogSink;
        this.agents = b.agents;
    }

    private static Duration positive(String what, Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
        return d;
    }

    private static Duration atMost(String what, Duration d, Duration max, String maxInWords) {
        if (d.compareTo(max) > 0) {
            throw new IllegalArgumentException(what + " must be at most " + maxInWords + " (" + max + "), was " + d);
        }
        return d;
    }

    private static int range(String what, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(what + " must be " + min + ".." + max + ", was " + v);
        }
        return v;
    }

    /** A fresh builder with the defaults; callers use {@link Tunnels#server()}. */
    static Builder builder() {
        return new Builder();
    }

    /** Where to listen. */
    public InetSocketAddress bindAddress() {
        return bindAddress;
    }

    /** The route holder; swapping it changes routing for new connections. */
    public RouteHolder routes() {
        return routes;
    }

    /** Deadline for the whole ClientHello to arrive. */
    public Duration helloTimeout() {
        return helloTimeout;
    }

    /** Deadline for the target to accept. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Close a tunnel idle this long; {@link Duration#ZERO} for never. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Largest ClientHello buffered before refusing. */
    public int maxHelloBytes() {
        return maxHelloBytes;
    }

    /** Live-tunnel limit. */
    public int maxTunnels() {
        return maxTunnels;
    }

    /** Limit on connections in the hello or connect phase. */
    public int maxPendingHandshakes() {
        return maxPendingHandshakes;
    }

    /** Limit on connections in the hello or connect phase from one client address. */
    public int maxHandshakesPerClient() {
        return maxHandshakesPerClient;
    }

    /**
     * Budget in bytes for pooled direct copy buffers, all loops together; {@code 0}: half of the JVM's direct-memory
     * limit ({@code -XX:MaxDirectMemorySize}, which defaults to the maximum heap). When it is spent, connections
     * stop reading until buffers are returned instead of allocating more.
     */
    public long maxBufferMemory() {
        return maxBufferMemory;
    }

    /** Number of event loops. */
    public int eventLoops() {
        return eventLoops;
    }

    /** Size of one copy buffer. */
    public int bufferSize() {
        return bufferSize;
    }

    /** Whether refusals send a TLS alert before closing ({@code false}: close silently). */
    public boolean refusalAlerts() {
        return refusalAlerts;
    }

    /**
     * Whether a route swap closes the live tunnels it no longer serves ({@code true} by default): see
     * {@link Builder#closeUnroutedTunnels}.
     */
    public boolean closeUnroutedTunnels() {
        return closeUnroutedTunnels;
    }

    /** The event listener. */
    public TunnelListener listener() {
        return listener;
    }

    /** The transport name to use, or {@code null} for the default. */
    public String transport() {
        return transport;
    }

    /** How DNS-named targets are resolved ({@link NameResolver#JDK} unless set). */
    public NameResolver resolver() {
        return resolver;
    }

    /**
     * Source ranges trusted to send a PROXY protocol (v1 or v2) header before the ClientHello, e.g. the load
     * balancers in front (empty: none, the default). A connection from such a range must start with the header, and
     * the client address it carries is the one used for allow lists, limits, logs and an outgoing PROXY header; a
     * header from any other source is refused ({@link RefusalReason#PROXY_HEADER_UNTRUSTED}).
     */
    public List<CidrBlock> proxyProtocolFrom() {
        return proxyProtocolFrom;
    }

    /**
     * Deadline for a trusted source's PROXY header, counted from the accept; the effective deadline is the shorter
     * of this and {@link #helloTimeout()} (default 3 seconds).
     */
    public Duration proxyHeaderTimeout() {
        return proxyHeaderTimeout;
    }

    /**
     * Limit on connections open at once (hello phase and tunnels) from one client address, {@code 0}: none (the
     * default). Over it, a new connection is refused at once ({@link RefusalReason#CLIENT_CONNECTION_LIMIT}); the
     * client's open tunnels and other clients are not affected.
     */
    public int maxConnectionsPerClient() {
        return maxConnectionsPerClient;
    }

    /**
     * New connections a second allowed from one client address, as a token bucket holding one second's worth (at
     * least one), {@code 0}: none (the default). Over it: {@link RefusalReason#CLIENT_RATE_LIMIT}. With a PROXY
     * header from a trusted source, both per-client limits apply to the announced client.
     */
    public double connectionRatePerClient() {
        return connectionRatePerClient;
    }

    /**
     * How the per-client limits ({@link #maxHandshakesPerClient()}, {@link #maxConnectionsPerClient()},
     * {@link #connectionRatePerClient()}) count IPv6 clients: by their first this many bits, so the addresses of one
     * site (a /64 by default) share one count; 128 counts every address apart. IPv4 clients always count by address.
     * Applies to the announced client of a trusted PROXY header as to a direct one.
     */
    public int clientIpv6PrefixLength() {
        return clientIpv6PrefixLength;
    }

    /**
     * Passive health of the targets of a route: after this many failed connects (refused, unreachable, lookup
     * failed, timed out) in a row, a target is skipped for {@link #targetEjection()}, then one connection tries it
     * again; {@code 0}: never skipped. Default 3. Targets that are {@code $1} templates are never skipped (the client
     * picks their name), but their failures are counted and the next target is tried all the same.
     */
    public int targetFailures() {
        return targetFailures;
    }

    /** How long a failing target is skipped before one connection (or the active check) tries it again; 10 s. */
    public Duration targetEjection() {
        return targetEjection;
    }

    /**
     * Interval of the active health check: a TCP connect to every fixed target of every route, counted like a
     * connect of a client (a success brings an ejected target back); {@link Duration#ZERO}: off (the default).
     */
    public Duration healthCheckInterval() {
        return healthCheckInterval;
    }

    /** The format of the access log and refusal lines ({@link AccessLogFormat#TEXT} unless set). */
    public AccessLogFormat accessLogFormat() {
        return accessLogFormat;
    }

    /**
     * Where access log and refusal lines go instead of the transport's loggers, or {@code null} (the default): the
     * loggers (fedlink-sni: {@code io.fedlink.sni.access} and {@code io.fedlink.sni.refusals}, at INFO). A sink is
     * called with one finished line at a time from the transport's log thread, never from a thread that moves
     * bytes; if it is slower than the traffic, lines are dropped and counted rather than stalling tunnels. A sink
     * that is also {@link java.io.Flushable} may buffer: it is flushed each time the queued lines run out (so a busy
     * proxy writes its lines in batches, one system call for many) and when the server closes.
     */
    public Consumer<String> accessLogSink() {
        return accessLogSink;
    }

    /**
     * Where party agents connect, for routes {@link PartyRoute#viaAgent() served by an agent}; {@code null} (the
     * default): no agent listener, and such routes refuse with {@link RefusalReason#AGENT_UNAVAILABLE}.
     */
    public AgentListenerConfig agents() {
        return agents;
    }

    /** Collects settings; see the class comment for defaults. */
    public static final class Builder {
        private InetSocketAddress bindAddress = new InetSocketAddress(443);
        private RouteHolder routes;
        private Duration helloTimeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ZERO;
        private int maxHelloBytes = DEFAULT_HELLO_CAP;
        private int maxTunnels = 10_000;
        private int maxPendingHandshakes = 1_000;
        private int maxHandshakesPerClient = 100;
        private long maxBufferMemory;
        private int eventLoops = Runtime.getRuntime().availableProcessors();
        private int bufferSize = 16 * 1024;
        private boolean refusalAlerts = true;
        private boolean closeUnroutedTunnels = true;
        private TunnelListener listener = TunnelListener.NONE;
        private String transport;
        private NameResolver resolver = NameResolver.JDK;
        private List<CidrBlock> proxyProtocolFrom = List.of();
        private Duration proxyHeaderTimeout = Duration.ofSeconds(3);
        private int maxConnectionsPerClient;
        private double connectionRatePerClient;
        private int clientIpv6PrefixLength = 64;
        private int targetFailures = 3;
        private Duration targetEjection = Duration.ofSeconds(10);
        private Duration healthCheckInterval = Duration.ZERO;
        private AccessLogFormat accessLogFormat = AccessLogFormat.TEXT;
        private Consumer<String> accessLogSink;
        private AgentListenerConfig agents;

        Builder() {}

        /** Listens on all interfaces at {@code port} (0 picks a free port). */
        public Builder bind(int port) {
            return bind(new InetSocketAddress(port));
        }

        /** Listens on {@code address}. */
        public Builder bind(InetSocketAddress address) {
            this.bindAddress = Objects.requireNonNull(address, "address");
            return this;
        }

        /** Listens on {@code host:port}, where host is an IP literal (no lookup). */
        public Builder bind(Endpoint endpoint) {
            InetSocketAddress a = endpoint.toSocketAddress();
            if (a.isUnresolved()) {
                throw new IllegalArgumentException("bind address " + endpoint + " must be an IP literal");
            }
            return bind(a);
        }

        /** Listens on the loopback address at {@code port}. */
        public Builder bindLoopback(int port) {
            return bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        }

        /** Routes with a fixed snapshot (swap later with {@link TunnelServer#routes(RouteTable)}). */
        public Builder routes(RouteTable table) {
            this.routes = new RouteHolder(table);
            return this;
        }

        /** Routes through a holder the application swaps (for example on file reload). */
        public Builder routes(RouteHolder holder) {
            this.routes = Objects.requireNonNull(holder, "holder");
            return this;
        }

        /** Sets the hello deadline. */
        public Builder helloTimeout(Duration d) {
            this.helloTimeout = d;
            return this;
        }

        /** Sets the connect deadline. */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        /** Sets the idle timeout ({@link Duration#ZERO}: none). */
        public Builder idleTimeout(Duration d) {
            this.idleTimeout = Objects.requireNonNull(d, "idleTimeout");
            return this;
        }

        /** Sets the ClientHello cap (512..65536 bytes). */
        public Builder maxHelloBytes(int n) {
            this.maxHelloBytes = n;
            return this;
        }

        /** Sets the live-tunnel limit. */
        public Builder maxTunnels(int n) {
            this.maxTunnels = n;
            return this;
        }

        /** Sets the limit on connections in the hello or connect phase. */
        public Builder maxPendingHandshakes(int n) {
            this.maxPendingHandshakes = n;
            return this;
        }

        /** Sets the limit on connections in the hello or connect phase from one client address. */
        public Builder maxHandshakesPerClient(int n) {
            this.maxHandshakesPerClient = n;
            return this;
        }

        /** Sets the direct copy-buffer budget in bytes ({@code 0}: automatic, see {@link #maxBufferMemory()}). */
        public Builder maxBufferMemory(long bytes) {
            this.maxBufferMemory = bytes;
            return this;
        }

        /** Sets the number of event loops. */
        public Builder eventLoops(int n) {
            this.eventLoops = n;
            return this;
        }

        /** Sets the copy-buffer size (1 KiB..1 MiB). */
        public Builder bufferSize(int n) {
            this.bufferSize = n;
            return this;
        }

        /** {@code true} (default) answers refusals with a TLS alert; {@code false} closes silently. */
        public Builder refusalAlerts(boolean send) {
            this.refusalAlerts = send;
            return this;
        }

        /**
         * {@code true} (default): each time the routes are swapped (by a route source or
         * {@link TunnelServer#routes}), every live tunnel that the new table would no longer send to its target is
         * closed abortively with reason {@link CloseReason#ROUTE_REMOVED}: its server name has no route any more,
         * its route now points to other targets, or its route's allow list no longer admits the client. A removed
         * party is so cut off within one swap, not when its connections end by themselves. {@code false}: live
         * tunnels keep their target until they end; only new connections see the new table.
         */
        public Builder closeUnroutedTunnels(boolean close) {
            this.closeUnroutedTunnels = close;
            return this;
        }

        /** Sets the event listener. */
        public Builder listener(TunnelListener l) {
            this.listener = l;
            return this;
        }

        /** Picks a transport by name instead of the default. */
        public Builder transport(String name) {
            this.transport = name;
            return this;
        }

        /** Resolves DNS-named targets with {@code r} instead of the JDK resolver. */
        public Builder resolver(NameResolver r) {
            this.resolver = r;
            return this;
        }

        /** Trusts these source ranges to send a PROXY protocol header; see {@link #proxyProtocolFrom()}. */
        public Builder proxyProtocolFrom(List<CidrBlock> blocks) {
            this.proxyProtocolFrom = List.copyOf(blocks);
            return this;
        }

        /** Same, from CIDR strings such as {@code 10.0.0.0/8} or {@code ::1/128}. */
        public Builder proxyProtocolFrom(String... cidrs) {
            return proxyProtocolFrom(Arrays.stream(cidrs).map(CidrBlock::parse).toList());
        }

        /** Sets the PROXY header deadline; see {@link #proxyHeaderTimeout()}. */
        public Builder proxyHeaderTimeout(Duration d) {
            this.proxyHeaderTimeout = d;
            return this;
        }

        /** Sets the per-client connection limit; see {@link #maxConnectionsPerClient()}. */
        public Builder maxConnectionsPerClient(int n) {
            this.maxConnectionsPerClient = n;
            return this;
        }

        /** Sets the IPv6 prefix the per-client limits count by (1..128); see {@link #clientIpv6PrefixLength()}. */
        public Builder clientIpv6PrefixLength(int bits) {
            this.clientIpv6PrefixLength = bits;
            return this;
        }

        /** Sets the per-client new-connection rate; see {@link #connectionRatePerClient()}. */
        public Builder connectionRatePerClient(double perSecond) {
            this.connectionRatePerClient = perSecond;
            return this;
        }

        /** Sets the failed connects in a row that skip a target; see {@link #targetFailures()}. */
        public Builder targetFailures(int n) {
            this.targetFailures = n;
            return this;
        }

        /** Sets how long a failing target is skipped; see {@link #targetEjection()}. */
        public Builder targetEjection(Duration d) {
            this.targetEjection = d;
            return this;
        }

        /** Sets the active health-check interval ({@link Duration#ZERO}: off); see {@link #healthCheckInterval()}. */
        public Builder healthCheckInterval(Duration d) {
            this.healthCheckInterval = d;
            return this;
        }

        /** Sets the access log format; see {@link #accessLogFormat()}. */
        public Builder accessLogFormat(AccessLogFormat format) {
            this.accessLogFormat = Objects.requireNonNull(format, "format");
            return this;
        }

        /** Sends access log and refusal lines to {@code sink} instead of the loggers; see {@link #accessLogSink()}. */
        public Builder accessLogSink(Consumer<String> sink) {
            this.accessLogSink = sink;
            return this;
        }

        /** Accepts party agents as {@code config} says; see {@link TunnelServerConfig#agents()}. */
        public Builder agents(AgentListenerConfig config) {
            this.agents = config;
            return this;
        }

        /** Validates the settings. */
        public TunnelServerConfig build() {
            return new TunnelServerConfig(this);
        }

        /**
         * Builds the config and starts a server on the chosen (or default) transport.
         *
         * @throws IOException           if the address cannot be bound
         * @throws IllegalStateException if no transport is on the class path
         */
        public TunnelServer start() throws IOException {
            TunnelServerConfig config = build();
            return Tunnels.transport(config.transport()).start(config);
        }
    }
}
