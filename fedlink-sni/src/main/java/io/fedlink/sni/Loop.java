package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import java.io.IOException;
import java.net.InetSocketAddress;
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
 * One thread owning a set of connections, whatever carries their bytes: what a {@link Connection} asks of its
 * transport (buffers, tasks, a target dialled, an agent's data connection as a link) and the bookkeeping every
 * transport shares (admission at accept, the connections' deadlines, connections waiting for a buffer, failures counted and logged at
 * most once a second, the server's requests: close unrouted tunnels, refuse pending ones, close all). Everything about
 * a connection happens on its loop, so the data path takes no lock. {@link EventLoop} is the NIO loop (a selector),
 * {@link MemoryLoop} the in-memory one.
 */
abstract class Loop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Loop.class);
    /** How often deadlines are checked and starving connections offered a buffer again. */
    static final long TICK_MILLIS = 50;

    final ProxyContext ctx;
    final BufferPool buffers;
    final BiConsumer<String, Throwable> died;
    final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Set<Connection> connections = new HashSet<>();
    private final List<Connection> expired = new ArrayList<>();
    /** Connections that stopped reading because the buffer budget was spent; retried every tick. */
    private final List<Connection> starving = new ArrayList<>();
    private final List<Connection> retrying = new ArrayList<>();
    private long nextErrorLogNanos = System.nanoTime();
    private long errorsSinceLog;
    volatile boolean running = true;

    /** A loop named {@code name}; {@code died} is told if the loop ends of a failure no connection owned. */
    Loop(ProxyContext ctx, String name, BiConsumer<String, Throwable> died) {
        this.ctx = ctx;
        this.died = died;
        this.buffers = BufferPool.forLoop(ctx.config.bufferSize(), ctx.budget, ctx.config.eventLoops());
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    // ---- what a transport provides ---------------------------------------------------------------------------------

    /** Wakes the loop if it waits: a task, a close or a readiness is due. Any thread. */
    abstract void wakeup();

    /**
     * A socket of {@code owner} connecting to {@code address}, watched for the connect while it is pending. Closed
     * again if any step fails.
     *
     * @throws IOException if the connect failed at once (refused, no route)
     */
    abstract Link dial(InetSocketAddress address, Connection owner) throws IOException;

    /** The link of a party agent's data connection, handed over by the agent hub (NIO only). */
    abstract Link agentLink(SocketChannel ch, Connection owner);

    /**
     * One turn's waiting and readiness: waits for readiness, a task or a wake-up (at most until {@code nextTick}, a
     * {@code System.nanoTime()}), and hands what is ready to the connections.
     */
    abstract void await(long nextTick) throws IOException;

    /** Whether {@code e}, escaped from a turn, means this loop cannot go on (it then ends as dead). */
    boolean fatal(Exception e) {
        return false;
    }

    /** After every turn's tasks, on the loop (NIO: accepting resumes after a pause). */
    void afterTasks(long now) {
    }

    /** On the loop as it ends, after its connections were closed: what the transport holds. */
    void released() {
    }

    // ---- shared -----------------------------------------------------------------------------------------------------

    /**
     * The loop: readiness, tasks, and every {@value #TICK_MILLIS} ms the deadlines and starving connections, until
     * stopped. A failure no connection owned is logged (at most once a second) and the loop goes on, unless the
     * transport calls it {@link #fatal} or it is an {@link Error}: then the server is told the loop died.
     */
    @Override
    public final void run() {
        long nextTick = System.nanoTime();
        while (running) {
            try {
                await(nextTick);
                runTasks();
                long now = System.nanoTime();
                afterTasks(now);
                if (now - nextTick >= 0) {
                    nextTick = now + TICK_MILLIS * 1_000_000;
                    tick(now);
                }
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    break;
                }
                if (fatal(e)) {
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
        shutdownConnections();
        released();
    }

    void start() {
        thread.start();
    }

    /** Runs {@code task} on this loop. Any thread. */
    void execute(Runnable task) {
        tasks.add(task);
        wakeup();
    }

    /** {@code c} found no buffer and stopped reading; it is offered one again at the next tick. */
    void starved(Connection c) {
        starving.add(c);
    }

    void forget(Connection c) {
        connections.remove(c);
    }

    /**
     * A freshly accepted client on {@code client}: the admission limits first (a refusal closes it and costs nothing
     * more), then a connection owned by this loop.
     */
    void adopt(Link client, InetSocketAddress remote, long acceptedNanos) {
        ctx.counters.accepted.increment();
        RefusalReason limit = ctx.admit(remote.getAddress());
        if (limit != null) {
            refuseAtAccept(client, remote, limit, "at accept");
            return;
        }
        Connection c = new Connection(this, client, remote, acceptedNanos);
        connections.add(c);
        try {
            c.start();
        } catch (Throwable t) {
            fail(c, t);
        }
    }

    /** Closes a client refused before it became a connection (a limit, out of descriptors); counted and logged. */
    void refuseAtAccept(Link client, InetSocketAddress remote, RefusalReason reason, String detail) {
        ctx.counters.refused(reason);
        client.close(false, true); // a plain close: nothing was read or written, the close sends the FIN
        ctx.events.refused(remote, null, reason, detail);
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

    /** Hands readiness {@code ops} of {@code link} to its owner; a failure closes that connection, not the loop. */
    void ready(Connection c, Link link, int ops) {
        try {
            c.onReady(link, ops);
        } catch (java.nio.channels.CancelledKeyException e) {
            // the connection closed while handling an earlier readiness
        } catch (Throwable t) { // even an Error (direct memory, a listener): close this connection, keep the loop
            fail(c, t);
        }
    }

    final void logFailure(String what, Throwable t) {
        errorsSinceLog++;
        long now = System.nanoTime();
        if (now - nextErrorLogNanos >= 0) {
            log.error("{} ({} failures on this loop since the last report)", what, errorsSinceLog, t);
            errorsSinceLog = 0;
            nextErrorLogNanos = now + 1_000_000_000L;
        }
    }

    /** Whether tasks wait to run. */
    final boolean tasksWaiting() {
        return !tasks.isEmpty();
    }

    final void runTasks() {
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

    /** The tick's work: deadlines, then connections waiting for a buffer. */
    final void tick(long now) {
        checkDeadlines(now);
        feedStarving();
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

    /** On the loop, as it ends: every connection closed at once. */
    final void shutdownConnections() {
        for (Connection c : new ArrayList<>(connections)) {
            c.shutdownNow();
        }
    }

    /** Closes every connection now (server shutdown). */
    void closeAll() {
        execute(this::shutdownConnections);
    }

    /**
     * After a route swap: closes the tunnels of this loop that the routes in force no longer serve, and logs one
     * line when there were any.
     */
    void closeUnrouted() {
        execute(() -> {
            int n = 0;
            for (Connection c : new ArrayList<>(connections)) {
                if (c.closeIfUnrouted()) {
                    n++;
                }
            }
            if (n > 0) {
                int closed = n;
                ctx.events.post(() -> log.info("closed {} tunnel{} on {} whose route was removed or changed (reason"
                        + " ROUTE_REMOVED)", closed, closed == 1 ? "" : "s", thread.getName()));
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
        wakeup();
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }
}
