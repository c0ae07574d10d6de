package io.fedlink.sni;

import io.fedlink.api.AgentStatus;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TargetStatus;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import io.fedlink.api.TunnelStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tunnel server over any transport's {@link Loop}s: where it listens and what its loops are come from a
 * {@link Binding} (NIO: {@link Listeners} and {@link EventLoop}s; memory: a {@link MemoryNetwork} listener and
 * {@link MemoryLoop}s); the rest is the same for both: the context, the agent hub, JMX, the active health check, route
 * swaps that close unrouted tunnels, closing tunnels on request, and the graceful close.
 */
final class LoopServer implements TunnelServer {
    private static final Logger log = LoggerFactory.getLogger(LoopServer.class);
    /** How long {@link #closeTunnels} waits for the loops. */
    private static final long CLOSE_WAIT_SECONDS = 10;

    /** What a transport gives the server: the address it listens on, its loops, and how listening stops. */
    interface Binding {
        /** The address actually bound. */
        InetSocketAddress address();

        /** Makes loop {@code index} (named {@code name}), accepting what this binding accepts; not started. */
        Loop loop(ProxyContext ctx, int index, String name, BiConsumer<String, Throwable> died) throws IOException;

        /** Stops listening (any thread, more than once); the server wakes the loops afterwards. */
        void stopListening();

        /**
         * Whether the sockets are real: only then is the server's MBean registered (its name is the listening
         * address, which a memory network's may share with a real proxy's).
         */
        boolean realSockets();
    }

    private final Binding binding;
    private final InetSocketAddress localAddress;
    private final ProxyContext ctx;
    private final Loop[] loops;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ObjectName mbeanName;
    private final HealthChecker checker;
    private final RouteHolder.Listener closeUnrouted;
    private volatile Throwable failure;
    private volatile boolean closed;

    /** Starts a server on {@code binding} (bound already; stopped again if the start fails). */
    LoopServer(TunnelServerConfig config, Binding binding) throws IOException {
        this.binding = binding;
        this.loops = new Loop[config.eventLoops()];
        try {
            this.localAddress = binding.address();
            int port = localAddress.getPort();
            this.ctx = new ProxyContext(config, port);
            for (int i = 0; i < loops.length; i++) {
                loops[i] = binding.loop(ctx, i, "fedlink-sni-loop-" + port + "-" + i, this::died);
            }
            if (config.agents() != null) {
                ctx.agents = new AgentHub(config.agents(), ctx::routes, port);
            }
        } catch (IOException | RuntimeException e) {
            binding.stopListening();
            throw e;
        }
        this.mbeanName = binding.realSockets() ? ProxyMBean.register(this, ctx, localAddress) : null;
        this.checker = config.healthCheckInterval().isZero() ? null : new HealthChecker(ctx.health,
                ctx.health::groups, config.resolver(), config.healthCheckInterval(),
                config.connectTimeout(), "fedlink-sni-check-" + localAddress.getPort());
        for (Loop l : loops) {
            l.start();
        }
        this.closeUnrouted = config.closeUnroutedTunnels() ? (previous, next) -> {
            for (Loop l : loops) {
                l.closeUnrouted(); // queued on each loop: the swapping thread never waits
            }
        } : null;
        if (closeUnrouted != null) {
            config.routes().addListener(closeUnrouted);
        }
        if (checker != null) {
            checker.start();
        }
        log.info("SNI proxy listening on {} with {} event loops, {} routes and {} MiB of copy buffers{}", localAddress,
                loops.length, routes().size(), ctx.budget.limit() >> 20,
                ctx.agents == null ? "" : "; agents connect to " + ctx.agents.localAddress());
    }

    /** An event loop died of something no connection owned: stop accepting, say so once, report not ready. */
    private synchronized void died(String thread, Throwable cause) {
        if (closing.get() || failure != null) {
            return;
        }
        stopListening(); // first: once ready() turns false nothing may be accepted any more
        failure = cause;
        log.error("thread {} of the SNI proxy on {} died; no longer accepting connections, restart the proxy",
                thread, localAddress, cause);
    }

    /** Closes every listening socket; the loops are woken so the sockets are released now, not at the next tick. */
    private void stopListening() {
        binding.stopListening();
        for (Loop l : loops) {
            if (l != null) {
                l.wakeup();
            }
        }
    }

    @Override
    public boolean ready() {
        return !closing.get() && failure == null;
    }

    @Override
    public boolean draining() {
        return closing.get() && !closed;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public List<Tunnel> tunnels() {
        return ctx.events.open();
    }

    @Override
    public TunnelStats stats() {
        return ctx.counters.snapshot();
    }

    @Override
    public List<AgentStatus> agents() {
        return ctx.agents == null ? List.of() : ctx.agents.agents();
    }

    @Override
    public InetSocketAddress agentAddress() {
        return ctx.agents == null ? null : ctx.agents.localAddress();
    }

    @Override
    public java.util.Map<String, Long> agentRefusals() {
        return ctx.agents == null ? java.util.Map.of() : ctx.agents.refusals();
    }

    @Override
    public List<TargetStatus> targets() {
        return ctx.health.status();
    }

    @Override
    public RouteTable routes() {
        return ctx.routes();
    }

    @Override
    public void routes(RouteTable next) {
        ctx.config.routes().swap(next);
        ctx.events.post(() -> log.info("routes swapped on {}: {} routes", localAddress, next.size()));
    }

    /**
     * Selects on the caller's thread, then closes each chosen tunnel on its own loop (reason ROTATED, FIN both ways)
     * and waits for the loops to have done it.
     */
    @Override
    public int closeTunnels(Predicate<? super Tunnel> which) {
        Objects.requireNonNull(which, "which");
        List<Connection> chosen = new ArrayList<>();
        for (Tunnel t : ctx.events.open()) {
            if (which.test(t)) {
                chosen.add((Connection) t);
            }
        }
        AtomicInteger closed = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(chosen.size());
        for (Connection c : chosen) {
            c.closeForReconnect(wasOpen -> {
                if (wasOpen) {
                    closed.incrementAndGet();
                }
                done.countDown();
            });
        }
        try {
            if (!done.await(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.warn("closing {} tunnels on request: {} not closed within {} s (is the proxy shutting down?)",
                        chosen.size(), done.getCount(), CLOSE_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int n = closed.get();
        log.info("closed {} tunnel{} on {} on request (reason ROTATED) so that their clients reconnect with new"
                + " handshakes", n, n == 1 ? "" : "s", localAddress);
        return n;
    }

    /** Copy buffers borrowed now, summed over loops (read racily; for monitoring). */
    int buffersInUse() {
        int n = 0;
        for (Loop l : loops) {
            n += l.buffers.inUse();
        }
        return n;
    }

    @Override
    public boolean close(Duration grace) throws InterruptedException {
        if (!closing.compareAndSet(false, true)) {
            awaitClosed();
            return ctx.events.noneOpen();
        }
        stopListening();
        for (Loop l : loops) {
            l.refusePending();
        }
        boolean drained;
        try {
            long end = System.nanoTime() + grace.toNanos();
            synchronized (this) {
                while (!ctx.events.noneOpen() && System.nanoTime() - end < 0) {
                    wait(Math.max(1, Math.min(50, (end - System.nanoTime()) / 1_000_000)));
                }
            }
            drained = ctx.events.noneOpen();
        } finally {
            shutdownLoops();
        }
        ctx.events.post(() -> log.info("SNI proxy on {} closed ({})", localAddress,
                drained ? "drained" : "remaining tunnels aborted"));
        ctx.shutdown();
        return drained;
    }

    private void shutdownLoops() throws InterruptedException {
        if (closeUnrouted != null) {
            ctx.config.routes().removeListener(closeUnrouted);
        }
        if (checker != null) {
            checker.stop();
        }
        for (Loop l : loops) {
            l.closeAll();
            l.stop();
        }
        for (Loop l : loops) {
            l.join(5_000);
        }
        if (checker != null) {
            checker.join(5_000);
        }
        ProxyMBean.unregister(mbeanName);
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

    @Override
    public String toString() {
        return "LoopServer[" + localAddress + ", " + ctx.events.open().size() + " tunnels]";
    }
}
