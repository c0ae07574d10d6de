package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import io.fedlink.api.TunnelStats;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NIO tunnel server: one acceptor thread handing sockets round robin to N {@link EventLoop}s. See
 * {@link NioTunnelTransport}.
 */
final class NioTunnelServer implements TunnelServer {
    private static final Logger log = LoggerFactory.getLogger(NioTunnelServer.class);

    private final TunnelServerConfig config;
    private final ServerSocketChannel acceptor;
    private final InetSocketAddress localAddress;
    private final EventLoop[] loops;
    private final Thread acceptThread;
    private final ProxyCounters counters = new ProxyCounters();
    private final Set<Connection> tunnels = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final Resolver resolver;
    private final EventLog events;
    private final BufferPool.Budget budget;
    private final Map<java.net.InetAddress, Integer> perClient = new ConcurrentHashMap<>();
    private java.nio.channels.Channel reserve = openReserve(); // accept thread only
    private volatile Throwable failure;
    private final ObjectName mbeanName;
    private volatile boolean closed;

    NioTunnelServer(TunnelServerConfig config) throws IOException {
        this.config = config;
        this.acceptor = ServerSocketChannel.open();
        try {
            acceptor.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            acceptor.bind(config.bindAddress(), 1024);
        } catch (IOException e) {
            acceptor.close();
            throw new IOException("cannot listen on " + config.bindAddress() + ": " + e.getMessage(), e);
        }
        this.localAddress = (InetSocketAddress) acceptor.getLocalAddress();
        this.budget = BufferPool.Budget.of(config.maxBufferMemory());
        this.loops = new EventLoop[config.eventLoops()];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new EventLoop(this, i);
        }
        this.resolver = new Resolver(config.resolver(), "fedlink-sni-resolver-" + localAddress.getPort());
        this.events = new EventLog("fedlink-sni-log-" + localAddress.getPort());
        this.acceptThread = new Thread(this::acceptLoop, "fedlink-sni-accept-" + localAddress.getPort());
        this.acceptThread.setDaemon(true);
        this.mbeanName = registerMBean();
        for (EventLoop l : loops) {
            l.start();
        }
        acceptThread.start();
        log.info("SNI proxy listening on {} with {} event loops, {} routes and {} MiB of copy buffers", localAddress,
                loops.length, routes().size(), budget.limit() >> 20);
    }

    private void acceptLoop() {
        int next = 0;
        AcceptBackoff backoff = new AcceptBackoff(localAddress);
        while (!closing.get()) {
            SocketChannel ch;
            try {
                ch = acceptor.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing.get()) {
                    return;
                }
                shedOneConnection();
                if (!backoff.failed(e)) {
                    return; // interrupted
                }
                continue;
            }
            backoff.succeeded();
            long now = System.nanoTime();
            counters.accepted.increment();
            InetSocketAddress remote = remoteOf(ch);
            RefusalReason limit = counters.tunnelSlots.get() >= config.maxTunnels() ? RefusalReason.TUNNEL_LIMIT
                    : counters.pending.get() >= config.maxPendingHandshakes() ? RefusalReason.HANDSHAKE_LIMIT
                    : !admitClient(remote.getAddress()) ? RefusalReason.CLIENT_HANDSHAKE_LIMIT
                    : null;
            if (limit != null) {
                closeRefused(ch, remote, limit, "at accept");
                continue;
            }
            counters.pending.incrementAndGet();
            loops[next].adopt(ch, remote, now);
            next = (next + 1) % loops.length;
        }
    }

    /**
     * Out of descriptors: gives the reserve descriptor back, accepts one waiting connection and closes it at once
     * (so a client over the limit hears a close instead of timing out in the backlog), then takes a reserve again.
     */
    private void shedOneConnection() {
        if (reserve == null) {
            reserve = openReserve();
            return;
        }
        closeQuietly(reserve);
        reserve = null;
        try {
            SocketChannel ch = acceptor.accept();
            counters.accepted.increment();
            closeRefused(ch, remoteOf(ch), RefusalReason.DESCRIPTOR_LIMIT, "out of file descriptors");
        } catch (IOException e) {
            // nothing to shed, or still out of descriptors
        }
        reserve = openReserve();
    }

    private static java.nio.channels.Channel openReserve() {
        try {
            return java.nio.channels.DatagramChannel.open();
        } catch (IOException e) {
            return null;
        }
    }

    private static void closeQuietly(java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private void closeRefused(SocketChannel ch, InetSocketAddress remote, RefusalReason reason, String detail) {
        counters.refused(reason);
        closeQuietly(ch);
        events.refused(remote, null, reason, detail);
        connectionRefused(remote, null, reason);
    }

    private boolean admitClient(java.net.InetAddress client) {
        boolean[] admitted = {false};
        perClient.compute(client, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= config.maxHandshakesPerClient()) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    /** A connection left its hello or connect phase (became a tunnel, or was refused). */
    void leftHandshake(InetSocketAddress client) {
        counters.pending.decrementAndGet();
        perClient.computeIfPresent(client.getAddress(), (k, n) -> n <= 1 ? null : n - 1);
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

    private static InetSocketAddress remoteOf(SocketChannel ch) {
        try {
            return (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException e) {
            return new InetSocketAddress(0);
        }
    }

    /** Resolves a DNS-name target off the event loop, then continues on it; returns the cancel handle. */
    Runnable resolve(Endpoint target, EventLoop loop, Consumer<InetSocketAddress> then,
                     java.util.function.BiConsumer<RefusalReason, String> failed) {
        return resolver.lookup(target.host(), new Resolver.Waiter() {
            @Override
            public void resolved(java.net.InetAddress address) {
                loop.execute(() -> then.accept(new InetSocketAddress(address, target.port())));
            }

            @Override
            public void failed(RefusalReason reason, String detail) {
                loop.execute(() -> failed.accept(reason, detail));
            }
        });
    }

    /** A loop thread died of something no connection owned: stop accepting, say so once, report not ready. */
    void loopDied(String loop, Throwable cause) {
        if (closing.get() || failure != null) {
            return;
        }
        failure = cause;
        log.error("event loop {} of the SNI proxy on {} died; no longer accepting connections, restart the proxy",
                loop, localAddress, cause);
        try {
            acceptor.close();
        } catch (IOException e) {
            // stopped anyway
        }
    }

    @Override
    public boolean ready() {
        return !closing.get() && failure == null;
    }

    EventLog events() {
        return events;
    }

    BufferPool.Budget budget() {
        return budget;
    }

    TunnelServerConfig config() {
        return config;
    }

    ProxyCounters counters() {
        return counters;
    }

    long nextId() {
        return ids.incrementAndGet();
    }

    void tunnelOpened(Connection c) {
        tunnels.add(c);
        TunnelListener l = config.listener();
        try {
            l.tunnelOpened(c);
        } catch (RuntimeException e) {
            log.warn("tunnel listener failed on open of {}", c, e);
        }
    }

    void tunnelClosed(Connection c, Duration age) {
        tunnels.remove(c);
        events.tunnelClosed(c, age.toMillis());
        try {
            config.listener().tunnelClosed(c);
        } catch (RuntimeException e) {
            log.warn("tunnel listener failed on close of {}", c, e);
        }
    }

    void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {
        try {
            config.listener().connectionRefused(client, serverName, reason);
        } catch (RuntimeException e) {
            log.warn("tunnel listener failed on refusal of {}", client, e);
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public List<Tunnel> tunnels() {
        return List.copyOf(tunnels);
    }

    @Override
    public TunnelStats stats() {
        return counters.snapshot();
    }

    @Override
    public RouteTable routes() {
        return config.routes().current();
    }

    @Override
    public void routes(RouteTable next) {
        config.routes().swap(next);
        events.post(() -> log.info("routes swapped on {}: {} routes", localAddress, next.size()));
    }

    /** Copy buffers borrowed now, summed over loops (read racily; for monitoring). */
    int buffersInUse() {
        int n = 0;
        for (EventLoop l : loops) {
            n += l.buffers.inUse();
        }
        return n;
    }

    @Override
    public boolean close(Duration grace) throws InterruptedException {
        if (!closing.compareAndSet(false, true)) {
            awaitClosed();
            return tunnels.isEmpty();
        }
        try {
            acceptor.close();
        } catch (IOException e) {
            log.debug("closing acceptor", e);
        }
        for (EventLoop l : loops) {
            l.refusePending();
        }
        boolean drained;
        try {
            long end = System.nanoTime() + grace.toNanos();
            synchronized (this) {
                while (!tunnels.isEmpty() && System.nanoTime() - end < 0) {
                    wait(Math.max(1, Math.min(50, (end - System.nanoTime()) / 1_000_000)));
                }
            }
            drained = tunnels.isEmpty();
        } finally {
            shutdownLoops();
        }
        events.post(() -> log.info("SNI proxy on {} closed ({})", localAddress,
                drained ? "drained" : "remaining tunnels aborted"));
        return drained;
    }

    private void shutdownLoops() throws InterruptedException {
        for (EventLoop l : loops) {
            l.closeAll();
            l.stop();
        }
        for (EventLoop l : loops) {
            l.join(5_000);
        }
        acceptThread.join(5_000);
        resolver.shutdown();
        events.stop();
        if (reserve != null) {
            closeQuietly(reserve);
        }
        unregisterMBean();
        closed = true;
        synchronized (this) {
            notifyAll();
        }
    }

    private void awaitClosed() throws InterruptedException {
        synchronized (this) {
            while (!closed) {
                wait(50);
            }
        }
    }

    @Override
    public void close() {
        try {
            close(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ObjectName registerMBean() {
        try {
            ObjectName name = new ObjectName("io.fedlink:type=SniProxy,address="
                    + ObjectName.quote(localAddress.getAddress().getHostAddress() + ":" + localAddress.getPort()));
            ManagementFactory.getPlatformMBeanServer().registerMBean(new Mx(), name);
            return name;
        } catch (Exception e) {
            log.warn("JMX registration failed for {}: {}", localAddress, e.toString());
            return null;
        }
    }

    private void unregisterMBean() {
        if (mbeanName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(mbeanName);
            } catch (Exception e) {
                log.debug("JMX unregistration", e);
            }
        }
    }

    /** The JMX view. */
    private final class Mx implements SniProxyMXBean {
        @Override
        public long getAccepted() {
            return counters.accepted.sum();
        }

        @Override
        public long getRouted() {
            return counters.routed.sum();
        }

        @Override
        public Map<String, Long> getRefused() {
            Map<String, Long> m = new TreeMap<>();
            stats().refused().forEach((k, v) -> m.put(k.name(), v));
            return m;
        }

        @Override
        public long getConnectFailures() {
            return counters.connectFailures.sum();
        }

        @Override
        public long getTimeouts() {
            return counters.timeouts.sum();
        }

        @Override
        public long getBytesFromClients() {
            return counters.bytesFromClients.sum();
        }

        @Override
        public long getBytesToClients() {
            return counters.bytesToClients.sum();
        }

        @Override
        public long getLiveTunnels() {
            return counters.liveTunnels.get();
        }

        @Override
        public long getPendingHandshakes() {
            return counters.pending.get();
        }

        @Override
        public int getBuffersInUse() {
            return buffersInUse();
        }

        @Override
        public boolean isReady() {
            return ready();
        }

        @Override
        public long getDroppedLogLines() {
            return events.dropped();
        }

        @Override
        public long getInternalErrors() {
            return counters.internalErrors.sum();
        }

        @Override
        public long getBufferMemoryUsed() {
            return budget.used();
        }

        @Override
        public int getRouteCount() {
            return routes().size();
        }
    }

    @Override
    public String toString() {
        return "NioTunnelServer[" + localAddress + ", " + tunnels.size() + " tunnels]";
    }
}
