package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread owning a set of connections: it accepts them from its listening socket (see
 * {@link Listeners}), checks the admission limits at once (a refusal costs no further work), does their I/O, runs
 * tasks handed to it, and checks their deadlines. Everything about a connection happens on its loop, so the data
 * path takes no lock and a new connection crosses no thread.
 *
 * <p>Accept failures (out of descriptors) stop accepting for a while ({@link AcceptBackoff}, the listening key's
 * interest cleared, so the loop does not spin); a reserve descriptor is given up to accept and close one waiting
 * client, so a client over the limit hears a close instead of timing out in the backlog.
 */
final class EventLoop extends Loop {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    /** Connections accepted per wake-up at most, so a flood of new ones cannot starve open tunnels. */
    private static final int ACCEPT_BATCH = 64;

    private final Selector selector;
    private final java.util.function.Consumer<SelectionKey> handler = this::handle; // one object, not one per select
    private ServerSocketChannel listener;
    private SelectionKey listenKey;
    private AcceptBackoff backoff;
    private Channel reserve;
    /** Channels whose keys were cancelled, closed after the next select (see {@link #close}). */
    private List<SocketChannel> closing = new ArrayList<>();
    private List<SocketChannel> closingNext = new ArrayList<>();
    private boolean closeSoon;
    /** When a paused accept resumes (nanoTime), or 0 while accepting. */
    private long resumeAcceptNanos;

    /** A loop named {@code name}; {@code died} is told if the loop ends of a failure no connection owned. */
    EventLoop(ProxyContext ctx, String name, BiConsumer<String, Throwable> died) throws IOException {
        super(ctx, name, died);
        this.selector = Selector.open();
    }

    /** Accepts from {@code ch} (non-blocking, possibly shared with other loops); before {@link #start()}. */
    void listen(ServerSocketChannel ch, InetSocketAddress address) throws IOException {
        this.listener = ch;
        this.listenKey = ch.register(selector, SelectionKey.OP_ACCEPT, null);
        this.backoff = new AcceptBackoff(address);
        this.reserve = openReserve();
    }

    /** Wakes the loop, e.g. so a listener closed from another thread is released now rather than at the next tick. */
    @Override
    void wakeup() {
        selector.wakeup();
    }

    SelectionKey register(SocketChannel ch, int ops, NioLink link) throws IOException {
        return ch.register(selector, ops, link);
    }

    @Override
    Link agentLink(SocketChannel ch, Connection owner) {
        return new NioLink(this, ch).attach(owner);
    }

    /**
     * A socket of the address's family (an IPv4 target gets an IPv4 socket, not the JDK's default dual-stack IPv6
     * one, which costs a system call more to create and carries a mapped address), non-blocking.
     */
    @Override
    NioLink dial(InetSocketAddress address, Connection owner) throws IOException {
        SocketChannel ch = address.getAddress() instanceof Inet4Address
                ? SocketChannel.open(StandardProtocolFamily.INET) : SocketChannel.open();
        NioLink link = new NioLink(this, ch).attach(owner);
        try {
            link.configure();
            link.watch(link.connect(address) ? 0 : SelectionKey.OP_CONNECT);
        } catch (IOException | RuntimeException e) {
            close(ch, true, false);
            throw e;
        }
        return link;
    }

    /**
     * Closes a connection's channel ({@code null}: nothing): abortively (SO_LINGER 0: a reset), or with a FIN sent
     * at once by shutting the output down, so that bytes written just before (a TLS alert) reach the peer even if
     * the close then finds unread bytes and resets; {@code silent} when both directions already passed their FIN on
     * and the close sends nothing. A channel registered with this loop is closed only once the loop's next select has
     * taken its key out of the selector: closed while registered, the JDK would pre-close it (getsockopt SO_LINGER,
     * then shutdown unless the linger is 0) and close it at that select anyway. The next select does not wait when a
     * close is due; after a silent close it is the ordinary one (at most a tick).
     */
    void close(SocketChannel ch, boolean abortive, boolean silent) {
        if (ch == null) {
            return;
        }
        try {
            if (abortive && ch.isOpen() && ch.isConnected()) {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
            } else if (!abortive && !silent && ch.isOpen() && ch.isConnected()) {
                ch.shutdownOutput();
            }
        } catch (IOException | RuntimeException e) {
            // closing anyway
        }
        SelectionKey key = ch.keyFor(selector);
        if (key != null && running && Thread.currentThread() == thread) {
            key.cancel();
            closing.add(ch);
            closeSoon |= !silent;
        } else {
            closeQuietly(ch);
        }
    }

    /**
     * One select: waiting for readiness up to a tick, or not at all while a close is due; it deregisters the keys
     * cancelled before it, whose channels are then closed (channels closed meanwhile wait for the next one).
     */
    private void select() throws IOException {
        List<SocketChannel> deregistered = closing;
        closing = closingNext;
        closingNext = deregistered;
        boolean now = closeSoon;
        closeSoon = false;
        try {
            if (now) {
                selector.selectNow(handler);
            } else {
                selector.select(handler, TICK_MILLIS); // no iterator per select: no garbage per wake-up
            }
        } finally {
            deregistered.forEach(EventLoop::closeQuietly);
            deregistered.clear();
        }
    }

    @Override
    void await(long nextTick) throws IOException {
        select();
    }

    /** A closed selector cannot select again: the loop is dead. */
    @Override
    boolean fatal(Exception e) {
        return e instanceof ClosedSelectorException;
    }

    @Override
    void afterTasks(long now) {
        if (resumeAcceptNanos != 0 && now - resumeAcceptNanos >= 0) {
            resumeAccepting();
        }
    }

    @Override
    void released() {
        if (reserve != null) {
            closeQuietly(reserve);
        }
        closing.forEach(EventLoop::closeQuietly);
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("closing selector", e);
        }
    }

    private void handle(SelectionKey key) {
        if (key == listenKey) {
            try {
                acceptReady();
            } catch (CancelledKeyException e) {
                // the listener was closed
            } catch (Throwable t) { // e.g. no memory for one more connection: that client is lost, the loop is not
                ctx.counters.internalErrors.increment();
                logFailure("accepting on " + thread.getName() + " failed; continuing", t);
            }
            return;
        }
        NioLink link = (NioLink) key.attachment();
        ready(link.owner, link, key.readyOps());
    }

    // ---- accepting --------------------------------------------------------------------------------------------------

    private void acceptReady() {
        for (int i = 0; i < ACCEPT_BATCH; i++) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                listenKey.cancel();
                return;
            } catch (IOException e) {
                acceptFailed(e);
                return;
            }
            if (ch == null) {
                return; // drained (or another loop sharing the listener took it)
            }
            backoff.succeeded();
            adopt(ch, System.nanoTime());
        }
    }

    /** A freshly accepted client: the admission limits first, then a connection owned by this loop. */
    private void adopt(SocketChannel ch, long acceptedNanos) {
        adopt(new NioLink(this, ch), remoteOf(ch), acceptedNanos);
    }

    /** Out of descriptors (typically): shed one waiting client with the reserve descriptor, pause accepting. */
    private void acceptFailed(IOException e) {
        if (!running || !listener.isOpen()) {
            return;
        }
        shedOneConnection();
        long pauseMillis = backoff.failed(e);
        listenKey.interestOps(0);
        resumeAcceptNanos = System.nanoTime() + pauseMillis * 1_000_000;
        if (resumeAcceptNanos == 0) {
            resumeAcceptNanos = 1;
        }
    }

    private void resumeAccepting() {
        resumeAcceptNanos = 0;
        if (listenKey.isValid()) {
            listenKey.interestOps(SelectionKey.OP_ACCEPT);
        }
    }

    /** Gives the reserve descriptor back, accepts one waiting client and closes it, takes a reserve again. */
    private void shedOneConnection() {
        if (reserve == null) {
            reserve = openReserve();
            return;
        }
        closeQuietly(reserve);
        reserve = null;
        try {
            SocketChannel ch = listener.accept();
            if (ch != null) {
                ctx.counters.accepted.increment();
                refuseAtAccept(new NioLink(this, ch), remoteOf(ch), RefusalReason.DESCRIPTOR_LIMIT,
                        "out of file descriptors");
            }
        } catch (IOException e) {
            // nothing to shed, or still out of descriptors
        }
        reserve = openReserve();
    }

    private static Channel openReserve() {
        try {
            return DatagramChannel.open();
        } catch (IOException e) {
            return null;
        }
    }

    private static void closeQuietly(Channel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private static InetSocketAddress remoteOf(SocketChannel ch) {
        try {
            return (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException e) {
            return new InetSocketAddress(0);
        }
    }
}
