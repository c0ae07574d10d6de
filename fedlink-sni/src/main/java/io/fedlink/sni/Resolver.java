package io.fedlink.sni;

import io.fedlink.api.NameResolver;
import io.fedlink.api.RefusalReason;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Looks DNS-named targets up off the event loops, bounded: {@value #THREADS} threads, a queue of {@value #QUEUE}
 * names (a full queue refuses at once with {@link RefusalReason#RESOLVER_BUSY}), concurrent lookups of one name
 * coalesced into one, answers cached for {@value #POSITIVE_TTL_SECONDS} s and failures for
 * {@value #NEGATIVE_TTL_SECONDS} s. Each waiting connection keeps its own deadline (its connect deadline); when the
 * last waiter of a lookup gives up, the lookup is cancelled: dropped from the queue, or its thread interrupted (the
 * JDK resolver itself cannot be interrupted, so a stalled system name server holds a thread until the system gives
 * up; the bounded queue keeps that from starving anything beyond its own deadline).
 */
final class Resolver {
    static final int THREADS = 4;
    static final int QUEUE = 64;
    static final int POSITIVE_TTL_SECONDS = 10;
    static final int NEGATIVE_TTL_SECONDS = 2;
    private static final int MAX_CACHED = 4096;

    /** Told the result of one lookup, on a resolver thread (or at once for a cached answer or a full queue). */
    interface Waiter {
        void resolved(InetAddress address);

        void failed(RefusalReason reason, String detail);
    }

    /** One cached answer: an address or a failure message. */
    private record Answer(InetAddress address, String failure, long expiresNanos) {}

    /** One lookup in flight and the connections waiting for it. */
    private final class Lookup {
        final String host;
        final List<Waiter> waiters = new ArrayList<>(1);
        FutureTask<Void> task;

        Lookup(String host) {
            this.host = host;
        }

        void run() {
            Answer a;
            try {
                a = new Answer(names.resolve(host), null, System.nanoTime() + TimeUnit.SECONDS.toNanos(
                        POSITIVE_TTL_SECONDS));
            } catch (IOException | RuntimeException e) {
                a = new Answer(null, "cannot resolve " + host + ": " + e, System.nanoTime()
                        + TimeUnit.SECONDS.toNanos(NEGATIVE_TTL_SECONDS));
            }
            if (Thread.interrupted()) {
                return; // cancelled: nobody waits any more
            }
            if (cache.size() >= MAX_CACHED) {
                cache.clear();
            }
            cache.put(host, a);
            List<Waiter> told;
            synchronized (Resolver.this) {
                inFlight.remove(host, this);
                told = List.copyOf(waiters);
                waiters.clear();
            }
            for (Waiter w : told) {
                tell(w, a);
            }
        }
    }

    private final NameResolver names;
    private final ThreadPoolExecutor pool;
    private final Map<String, Answer> cache = new ConcurrentHashMap<>();
    private final Map<String, Lookup> inFlight = new ConcurrentHashMap<>();

    Resolver(NameResolver names, String threadName) {
        this.names = names;
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                r -> {
                    Thread t = new Thread(r, threadName);
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    /**
     * Looks {@code host} up for {@code waiter}; returns a handle that withdraws the waiter (call it when the
     * connection is gone or its deadline passed).
     */
    Runnable lookup(String host, Waiter waiter) {
        Answer cached = cache.get(host);
        if (cached != null && System.nanoTime() - cached.expiresNanos < 0) {
            tell(waiter, cached);
            return () -> { };
        }
        synchronized (this) {
            Lookup l = inFlight.get(host);
            if (l == null) {
                l = new Lookup(host);
                Lookup started = l;
                l.task = new FutureTask<>(started::run, null);
                try {
                    pool.execute(l.task);
                } catch (RejectedExecutionException e) {
                    waiter.failed(RefusalReason.RESOLVER_BUSY, "resolver queue full (" + QUEUE + " names) for "
                            + host);
                    return () -> { };
                }
                inFlight.put(host, l);
            }
            l.waiters.add(waiter);
            Lookup joined = l;
            return () -> withdraw(joined, waiter);
        }
    }

    private synchronized void withdraw(Lookup l, Waiter w) {
        if (l.waiters.remove(w) && l.waiters.isEmpty() && inFlight.remove(l.host, l)) {
            l.task.cancel(true);
            pool.remove(l.task);
        }
    }

    private static void tell(Waiter w, Answer a) {
        if (a.address != null) {
            w.resolved(a.address);
        } else {
            w.failed(RefusalReason.CONNECT_FAILED, a.failure);
        }
    }

    void shutdown() {
        pool.shutdownNow();
    }
}
