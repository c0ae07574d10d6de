package io.fedlink.sni;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * The {@link Loop} of the in-memory transport: one thread that runs tasks, hands each signalled {@link MemoryLink}'s
 * readiness to its connection, and ticks like {@link EventLoop} (deadlines, starving connections). It parks when
 * nothing is due; a pipe that changes, a task or a new connection unparks it.
 */
final class MemoryLoop extends Loop {
    final MemoryNetwork network;
    private final InetSocketAddress bound;
    private final Queue<MemoryLink> signalled = new ConcurrentLinkedQueue<>();

    MemoryLoop(ProxyContext ctx, String name, BiConsumer<String, Throwable> died, MemoryNetwork network,
               InetSocketAddress bound) {
        super(ctx, name, died);
        this.network = network;
        this.bound = bound;
    }

    @Override
    void wakeup() {
        LockSupport.unpark(thread);
    }

    /** From any thread: {@code link}'s pipes changed, or its interest now meets its readiness. */
    void signal(MemoryLink link) {
        if (link.queued.compareAndSet(false, true)) {
            signalled.add(link);
            LockSupport.unpark(thread);
        }
    }

    /** From the network's thread of the connecting client: a new connection, adopted on this loop. */
    void accepted(MemoryEnd end) {
        long now = System.nanoTime();
        execute(() -> adopt(new MemoryLink(this, end), end.remote, now));
    }

    @Override
    Link dial(InetSocketAddress address, Connection owner) throws IOException {
        MemoryLink link = network.dial(this, bound.getAddress(), address).attach(owner);
        link.watch(link.connected() ? 0 : SelectionKey.OP_CONNECT);
        return link;
    }

    @Override
    Link agentLink(SocketChannel ch, Connection owner) {
        throw new UnsupportedOperationException("party agents need the nio transport");
    }

    /** Parks until a link is signalled, a task arrives or the tick is due; then fires this round's links. */
    @Override
    void await(long nextTick) {
        if (signalled.isEmpty() && !tasksWaiting()) {
            LockSupport.parkNanos(this, Math.max(1, nextTick - System.nanoTime()));
        }
        for (int n = signalled.size(); n > 0; n--) { // this round's; those queued meanwhile wait for the next
            MemoryLink link = signalled.poll();
            link.queued.set(false);
            link.fire();
        }
    }
}
