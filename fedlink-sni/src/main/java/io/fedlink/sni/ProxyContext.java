package io.fedlink.sni;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServerConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * What the event loops (which also accept) and each connection share, and all they may touch of the server: the config and
 * routes, counters, events, the resolver, the buffer budget, and the admission limits (hello-phase connections in
 * total and per client address, tunnel slots). Thread-safe.
 */
final class ProxyContext {
    final TunnelServerConfig config;
    final ProxyCounters counters = new ProxyCounters();
    final TunnelEvents events;
    final BufferPool.Budget budget;
    final ClientLimits clientLimits;
    final TargetHealth health;
    private final Resolver resolver;
    private final AtomicLong ids = new AtomicLong();
    private final Map<InetAddress, Integer> perClient = new ConcurrentHashMap<>();
    /** Where party agents connect, or {@code null} without an agent listener; set once, before the loops start. */
    AgentHub agents;

    ProxyContext(TunnelServerConfig config, int port) {
        this.config = config;
        this.events = new TunnelEvents(config.listener(), "fedlink-sni-log-" + port, config.accessLogFormat(),
                config.accessLogSink());
        this.budget = BufferPool.Budget.of(config.maxBufferMemory());
        this.clientLimits = new ClientLimits(config.maxConnectionsPerClient(), config.connectionRatePerClient(),
                ClientLimits.MAX_ENTRIES, config.clientIpv6PrefixLength());
        this.health = new TargetHealth(config, events, this::routes);
        this.resolver = new Resolver(config.resolver(), "fedlink-sni-resolver-" + port);
    }

    long nextId() {
        return ids.incrementAndGet();
    }

    /** The route snapshot in force. */
    RouteTable routes() {
        return config.routes().current();
    }

    /**
     * Admits a freshly accepted client into the hello phase, or says which limit refuses it (then nothing is
     * counted against the limits). A source trusted to send a PROXY header is not counted per client here: the
     * client it announces is, once its header is read ({@link #enterHandshake}).
     */
    RefusalReason admit(InetAddress peer) {
        if (counters.tunnelSlots.get() >= config.maxTunnels()) {
            return RefusalReason.TUNNEL_LIMIT;
        }
        if (counters.pending.get() >= config.maxPendingHandshakes()) {
            return RefusalReason.HANDSHAKE_LIMIT;
        }
        if (!trustsProxyHeader(peer) && !enterHandshake(peer)) {
            return RefusalReason.CLIENT_HANDSHAKE_LIMIT;
        }
        counters.pending.incrementAndGet();
        return null;
    }

    /**
     * Counts one more connection of {@code client} in the hello phase, or answers {@code false} (nothing counted)
     * when it has {@code maxHandshakesPerClient} already. Paired with {@link #leftHandshakeOf}.
     */
    boolean enterHandshake(InetAddress client) {
        boolean[] admitted = {false};
        perClient.compute(ClientLimits.key(client, config.clientIpv6PrefixLength()), (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= config.maxHandshakesPerClient()) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    /** One connection counted by {@link #enterHandshake} for {@code client} left the hello phase. */
    void leftHandshakeOf(InetAddress client) {
        perClient.computeIfPresent(ClientLimits.key(client, config.clientIpv6PrefixLength()),
                (k, n) -> n <= 1 ? null : n - 1);
    }

    /** A connection admitted at accept from {@code peer} left its hello or connect phase (a tunnel, or refused). */
    void leftHandshake(InetSocketAddress peer) {
        counters.pending.decrementAndGet();
        if (!trustsProxyHeader(peer.getAddress())) {
            leftHandshakeOf(peer.getAddress());
        }
    }

    /** Whether {@code peer} is in {@code proxyProtocolFrom}: its connections must start with a PROXY header. */
    boolean trustsProxyHeader(InetAddress peer) {
        for (CidrBlock b : config.proxyProtocolFrom()) {
            if (b.contains(peer)) {
                return true;
            }
        }
        return false;
    }

    /** Takes one of the maxTunnels slots for a connection about to connect; {@code false} when none is free. */
    boolean reserveTunnel() {
        int now;
        do {
            now = counters.tunnelSlots.get();
            if (now >= config.maxTunnels()) {
                return false;
            }
        } while (!counters.tunnelSlots.compareAndSet(now, now + 1));
        return true;
    }

    void releaseTunnel() {
        counters.tunnelSlots.decrementAndGet();
    }

    /** Resolves a DNS-name target off the event loop, then continues on it; returns the cancel handle. */
    Runnable resolve(Endpoint target, Loop loop, Consumer<InetSocketAddress> then,
                     BiConsumer<RefusalReason, String> failed) {
        return resolver.lookup(target.host(), new Resolver.Waiter() {
            @Override
            public void resolved(InetAddress address) {
                loop.execute(() -> then.accept(new InetSocketAddress(address, target.port())));
            }

            @Override
            public void failed(RefusalReason reason, String detail) {
                loop.execute(() -> failed.accept(reason, detail));
            }
        });
    }

    /** Stops the agent listener, the resolver and the log thread. */
    void shutdown() {
        if (agents != null) {
            agents.close();
        }
        resolver.shutdown();
        events.stop();
    }
}
