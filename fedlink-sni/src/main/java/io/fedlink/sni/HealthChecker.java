package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.NameResolver;
import io.fedlink.api.PartyRoute;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional active health check: every interval, one thread opens a TCP connection to every fixed target of the
 * routes in force ({@value #BATCH} at a time, non-blocking, each with the shorter of the connect timeout and the
 * interval), closes it at once, and counts the result like a client's connect: failures eject a target, a success
 * brings an ejected one back. Nothing is sent. Template targets ({@code $1}) are not checked: they have no fixed
 * address. A DNS-named target is looked up on this thread with the proxy's resolver.
 */
final class HealthChecker implements Runnable {
    static final int BATCH = 256;
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final TargetHealth health;
    private final Supplier<List<TargetHealth.Group>> groups;
    private final NameResolver names;
    private final long intervalNanos;
    private final long timeoutNanos;
    private final Thread thread;
    private volatile boolean running = true;

    HealthChecker(TargetHealth health, Supplier<List<TargetHealth.Group>> groups, NameResolver names,
                  Duration interval, Duration connectTimeout, String threadName) {
        this.health = health;
        this.groups = groups;
        this.names = names;
        this.intervalNanos = interval.toNanos();
        this.timeoutNanos = Math.min(interval.toNanos(), connectTimeout.toNanos());
        this.thread = new Thread(this, threadName);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() {
        running = false;
        thread.interrupt();
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }

    @Override
    public void run() {
        long next = System.nanoTime();
        while (running) {
            try {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                next = System.nanoTime() + intervalNanos;
                checkAll();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (running) {
                    log.warn("active health check round failed: {}", e.toString());
                }
            }
        }
    }

    /** One round: every fixed target once (a target two routes share is checked for each, as its state is). */
    private void checkAll() throws IOException, InterruptedException {
        Map<TargetHealth.State, Endpoint> todo = new IdentityHashMap<>();
        for (TargetHealth.Group g : groups.get()) {
            PartyRoute r = g.route;
            for (int i = 0; i < g.size() && !r.isTemplate(); i++) {
                todo.put(g.states[i], r.targets().get(i));
            }
        }
        List<Map.Entry<TargetHealth.State, Endpoint>> all = new ArrayList<>(todo.entrySet());
        for (int from = 0; from < all.size() && running; from += BATCH) {
            check(all.subList(from, Math.min(all.size(), from + BATCH)));
        }
    }

    private void check(List<Map.Entry<TargetHealth.State, Endpoint>> batch) throws IOException,
            InterruptedException {
        try (Selector selector = Selector.open()) {
            List<SocketChannel> open = new ArrayList<>();
            try {
                int pending = 0;
                for (Map.Entry<TargetHealth.State, Endpoint> e : batch) {
                    pending += start(selector, e.getKey(), e.getValue(), open) ? 1 : 0;
                }
                long end = System.nanoTime() + timeoutNanos;
                while (pending > 0 && running) {
                    long left = end - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    selector.select(Math.max(1, left / 1_000_000));
                    for (SelectionKey k : selector.selectedKeys()) {
                        pending -= finish(k) ? 1 : 0;
                    }
                    selector.selectedKeys().clear();
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                }
                long now = System.nanoTime();
                for (SelectionKey k : selector.keys()) {
                    if (k.isValid() && running) {
                        Probe p = (Probe) k.attachment();
                        health.failed(p.state, now, "health check of " + p.target + " timed out");
                    }
                }
            } finally {
                for (SocketChannel ch : open) {
                    ch.close();
                }
            }
        }
    }

    private record Probe(TargetHealth.State state, Endpoint target) {}

    /** Starts one check; {@code true} when its connect is pending on {@code selector}. */
    private boolean start(Selector selector, TargetHealth.State state, Endpoint target, List<SocketChannel> open) {
        long now = System.nanoTime();
        InetSocketAddress address = target.toSocketAddress();
        if (address.isUnresolved()) {
            try {
                InetAddress a = names.resolve(target.host());
                address = new InetSocketAddress(a, target.port());
            } catch (IOException | RuntimeException e) {
                health.failed(state, now, "health check: cannot resolve " + target.host() + ": " + e);
                return false;
            }
        }
        try {
            SocketChannel ch = SocketChannel.open();
            open.add(ch);
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.SO_LINGER, 0); // no TIME_WAIT left behind by the checks
            if (ch.connect(address)) {
                health.succeeded(state, "health check connected");
                ch.close();
                return false;
            }
            ch.register(selector, SelectionKey.OP_CONNECT, new Probe(state, target));
            return true;
        } catch (IOException | RuntimeException e) {
            health.failed(state, now, "health check of " + target + " failed: " + e.getMessage());
            return false;
        }
    }

    /** Handles a ready connect; {@code true} when the check is over. */
    private boolean finish(SelectionKey k) {
        Probe p = (Probe) k.attachment();
        SocketChannel ch = (SocketChannel) k.channel();
        try {
            if (!ch.finishConnect()) {
                return false;
            }
            k.cancel();
            ch.close();
            health.succeeded(p.state, "health check connected");
        } catch (IOException e) {
            k.cancel();
            health.failed(p.state, System.nanoTime(), "health check of " + p.target + " failed: " + e.getMessage());
        }
        return true;
    }
}
