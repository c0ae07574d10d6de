package io.fedlink.sni;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread owning a set of connections: it does their I/O, runs tasks handed to it, and checks their
 * deadlines. Everything about a connection happens on its loop, so the data path takes no lock.
 */
final class EventLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static final long TICK_MILLIS = 50;

    final ProxyContext ctx;
    private final BiConsumer<String, Throwable> died;
    final BufferPool buffers;
    private final Selector selector;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Set<Connection> connections = new HashSet<>();
    private final List<Connection> expired = new ArrayList<>();
    /** Connections that stopped reading because the buffer budget was spent; retried every tick. */
    private final List<Connection> starving = new ArrayList<>();
    private final List<Connection> retrying = new ArrayList<>();
    private long nextErrorLogNanos = System.nanoTime();
    private long errorsSinceLog;
    private final java.util.function.Consumer<SelectionKey> handler = this::handle; // one object, not one per select
    private final Thread thread;
    private volatile boolean running = true;

    /** A loop named {@code name}; {@code died} is told if the loop ends of a failure no connection owned. */
    EventLoop(ProxyContext ctx, String name, BiConsumer<String, Throwable> died) throws IOException {
        this.ctx = ctx;
        this.died = died;
        this.buffers = new BufferPool(ctx.config.bufferSize(), 64, ctx.budget);
        this.selector = Selector.open();
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Runs {@code task} on this loop. */
    void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    /** Adopts a freshly accepted client. */
    void adopt(SocketChannel channel, java.net.InetSocketAddress remote, long acceptedNanos) {
        execute(() -> {
            Connection c = new Connection(this, channel, remote, acceptedNanos);
            connections.add(c);
            c.start();
        });
    }

    /** {@code c} found no buffer and stopped reading; it is offered one again at the next tick. */
    void starved(Connection c) {
        starving.add(c);
    }

    void forget(Connection c) {
        connections.remove(c);
    }

    SelectionKey register(SocketChannel ch, int ops, Connection c) throws IOException {
        return ch.register(selector, ops, c);
    }

    @Override
    public void run() {
        long nextTick = System.nanoTime();
        while (running) {
            try {
                selector.select(handler, TICK_MILLIS); // no iterator per select: no garbage per wake-up
                runTasks();
                long now = System.nanoTime();
                if (now - nextTick >= 0) {
                    nextTick = now + TICK_MILLIS * 1_000_000;
                    checkDeadlines(now);
                    feedStarving();
                }
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    break;
                }
                if (e instanceof ClosedSelectorException) {
                    died.accept(thread.getName(), e);
                    break;
                }
                logFailure("event loop " + thread.getName() + " failed; continuing", e);
            } catch (Error e) { // owned by no connection: this loop cannot be trusted any more
                died.accept(thread.getName(), e);
                break;
            }
        }
        runTasks();
        for (Connection c : new ArrayList<>(connections)) {
            c.shutdownNow();
        }
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("closing selector", e);
        }
    }

    private void handle(SelectionKey key) {
        Connection c = (Connection) key.attachment();
        try {
            c.onReady(key);
        } catch (CancelledKeyException e) {
            // the connection closed while handling an earlier key
        } catch (Throwable t) { // even an Error (direct memory, a listener): close this connection, keep the loop
            fail(c, t);
        }
    }

    /** Closes {@code c} after an unexpected failure while serving it; counted, logged at most once a second. */
    void fail(Connection c, Throwable t) {
        ctx.counters.internalErrors.increment();
        logFailure("connection " + c.id() + " failed unexpectedly; closed it", t);
        try {
            c.fail();
        } catch (Throwable again) {
            connections.remove(c); // nothing more can be done for it
        }
    }

    private void logFailure(String what, Throwable t) {
        errorsSinceLog++;
        long now = System.nanoTime();
        if (now - nextErrorLogNanos >= 0) {
            log.error("{} ({} failures on this loop since the last report)", what, errorsSinceLog, t);
            errorsSinceLog = 0;
            nextErrorLogNanos = now + 1_000_000_000L;
        }
    }

    private void runTasks() {
        Runnable t;
        while ((t = tasks.poll()) != null) {
            try {
                t.run();
            } catch (Throwable e) { // tasks serve one connection each (adopt, resolver answers)
                ctx.counters.internalErrors.increment();
                logFailure("task on " + thread.getName() + " failed", e);
            }
        }
    }

    private void feedStarving() {
        if (starving.isEmpty()) {
            return;
        }
        retrying.addAll(starving);
        starving.clear();
        for (Connection c : retrying) {
            try {
                c.bufferMayBeFree();
            } catch (Throwable t) {
                fail(c, t);
            }
        }
        retrying.clear();
    }

    private void checkDeadlines(long now) {
        for (Connection c : connections) {
            if (c.expired(now)) {
                expired.add(c);
            }
        }
        for (Connection c : expired) {
            try {
                c.onDeadline(now);
            } catch (Throwable t) {
                fail(c, t);
            }
        }
        expired.clear();
    }

    /** Closes every connection now (server shutdown). */
    void closeAll() {
        execute(() -> {
            for (Connection c : new ArrayList<>(connections)) {
                c.shutdownNow();
            }
        });
    }

    /** Refuses every connection still in its hello or connect phase. */
    void refusePending() {
        execute(() -> {
            for (Connection c : new ArrayList<>(connections)) {
                c.refuseIfPending();
            }
        });
    }

    void stop() {
        running = false;
        selector.wakeup();
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }
}
