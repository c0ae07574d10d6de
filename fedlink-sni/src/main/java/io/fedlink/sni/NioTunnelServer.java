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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
    private static final Logger access = LoggerFactory.getLogger("io.fedlink.sni.access");

    private final TunnelServerConfig config;
    private final ServerSocketChannel acceptor;
    private final InetSocketAddress localAddress;
    private final EventLoop[] loops;
    private final Thread acceptThread;
    private final ProxyCounters counters = new ProxyCounters();
    private final Set<Connection> tunnels = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ExecutorService resolver;
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
        this.loops = new EventLoop[config.eventLoops()];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new EventLoop(this, i);
        }
        this.resolver = new ThreadPoolExecutor(0, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "fedlink-sni-resolver-" + localAddress.getPort());
            t.setDaemon(true);
            return t;
        });
        this.acceptThread = new Thread(this::acceptLoop, "fedlink-sni-accept-" + localAddress.getPort());
        this.acceptThread.setDaemon(true);
        this.mbeanName = registerMBean();
        for (EventLoop l : loops) {
            l.start();
        }
        acceptThread.start();
        log.info("SNI proxy listening on {} with {} event loops and {} routes", localAddress, loops.length,
                routes().size());
    }

    private void acceptLoop() {
        int next = 0;
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
                log.warn("accept failed on {}: {}", localAddress, e.toString());
                continue; // e.g. too many open files: the backlog absorbs a short burst
            }
            long now = System.nanoTime();
            counters.accepted.increment();
            RefusalReason limit = counters.liveTunnels.get() >= config.maxTunnels() ? RefusalReason.TUNNEL_LIMIT
                    : counters.pending.get() >= config.maxPendingHandshakes() ? RefusalReason.HANDSHAKE_LIMIT
                    : null;
            if (limit != null) {
                counters.refused(limit);
                InetSocketAddress remote = remoteOf(ch);
                try {
                    ch.close();
                } catch (IOException e) {
                    // refused anyway
                }
                log.debug("refused {} at accept: {}", remote, limit);
                connectionRefused(remote, null, limit);
                continue;
            }
            counters.pending.incrementAndGet();
            loops[next].adopt(ch, now);
            next = (next + 1) % loops.length;
        }
    }

    private static InetSocketAddress remoteOf(SocketChannel ch) {
        try {
            return (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException e) {
            return null;
        }
    }

    /** Resolves a DNS-name target off the event loop, then continues on it. */
    void resolve(Endpoint target, EventLoop loop, Consumer<InetSocketAddress> then, Consumer<Exception> failed) {
        try {
            resolver.execute(() -> {
                try {
                    InetSocketAddress a = new InetSocketAddress(config.resolver().resolve(target.host()), target.port());
                    loop.execute(() -> then.accept(a));
                } catch (IOException e) {
                    loop.execute(() -> failed.accept(e));
                }
            });
        } catch (RuntimeException e) {
            failed.accept(e); // rejected: shutting down
        }
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
        if (access.isInfoEnabled()) {
            access.info("client={} sni={} target={} up={} down={} duration_ms={} reason={}", c.clientAddress(),
                    c.serverName() == null ? "-" : c.serverName(), c.target(), c.bytesFromClient(),
                    c.bytesToClient(), age.toMillis(), c.closeReason());
        }
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
        log.info("routes swapped on {}: {} routes", localAddress, next.size());
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
        log.info("SNI proxy on {} closed ({})", localAddress, drained ? "drained" : "remaining tunnels aborted");
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
        resolver.shutdownNow();
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
        public int getRouteCount() {
            return routes().size();
        }
    }

    @Override
    public String toString() {
        return "NioTunnelServer[" + localAddress + ", " + tunnels.size() + " tunnels]";
    }
}
