package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * The accept thread: a blocking {@code accept}, the admission limits checked at once (a refusal costs no loop time),
 * and admitted sockets handed round robin to the loops. Accept failures (out of descriptors) back off
 * ({@link AcceptBackoff}); a reserve descriptor is given up to accept and close one waiting client, so a client over
 * the limit hears a close instead of timing out in the backlog.
 */
final class Acceptor implements Runnable {
    private final ServerSocketChannel channel;
    private final InetSocketAddress address;
    private final ProxyContext ctx;
    private final EventLoop[] loops;
    private final BooleanSupplier closing;
    private final BiConsumer<String, Throwable> died;
    private Channel reserve = openReserve();

    /** {@code died} is told if the accept thread ends of anything but the server closing. */
    Acceptor(ServerSocketChannel channel, InetSocketAddress address, ProxyContext ctx, EventLoop[] loops,
             BooleanSupplier closing, BiConsumer<String, Throwable> died) {
        this.died = died;
        this.channel = channel;
        this.address = address;
        this.ctx = ctx;
        this.loops = loops;
        this.closing = closing;
    }

    @Override
    public void run() {
        try {
            acceptLoop();
        } catch (Throwable t) {
            died.accept(Thread.currentThread().getName(), t);
        } finally {
            if (reserve != null) {
                closeQuietly(reserve);
            }
        }
    }

    private void acceptLoop() {
        int next = 0;
        AcceptBackoff backoff = new AcceptBackoff(address);
        while (!closing.getAsBoolean()) {
            SocketChannel ch;
            try {
                ch = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing.getAsBoolean()) {
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
            ctx.counters.accepted.increment();
            InetSocketAddress remote = remoteOf(ch);
            RefusalReason limit = ctx.admit(remote.getAddress());
            if (limit != null) {
                refuse(ch, remote, limit, "at accept");
                continue;
            }
            loops[next].adopt(ch, remote, now);
            next = (next + 1) % loops.length;
        }
    }

    /** Out of descriptors: gives the reserve back, accepts one waiting client and closes it, takes a reserve again. */
    private void shedOneConnection() {
        if (reserve == null) {
            reserve = openReserve();
            return;
        }
        closeQuietly(reserve);
        reserve = null;
        try {
            SocketChannel ch = channel.accept();
            ctx.counters.accepted.increment();
            refuse(ch, remoteOf(ch), RefusalReason.DESCRIPTOR_LIMIT, "out of file descriptors");
        } catch (IOException e) {
            // nothing to shed, or still out of descriptors
        }
        reserve = openReserve();
    }

    private void refuse(SocketChannel ch, InetSocketAddress remote, RefusalReason reason, String detail) {
        ctx.counters.refused(reason);
        closeQuietly(ch);
        ctx.events.refused(remote, null, reason, detail);
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
