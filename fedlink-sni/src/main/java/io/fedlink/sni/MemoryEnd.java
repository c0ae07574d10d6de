package io.fedlink.sni;

import java.net.InetSocketAddress;

/**
 * One side of a {@link MemoryNetwork} connection: the pipe it reads, the pipe it writes, and both addresses. Closing
 * follows TCP: a close sends a FIN, or a reset when bytes were left unread; an abortive close (linger 0) drops what
 * waited unread here and sends a reset. The peer still reads the bytes already queued to it, then the end if a FIN
 * came first, else "Connection reset".
 */
final class MemoryEnd {
    final MemoryPipe in;
    final MemoryPipe out;
    final InetSocketAddress local;
    final InetSocketAddress remote;

    MemoryEnd(MemoryPipe in, MemoryPipe out, InetSocketAddress local, InetSocketAddress remote) {
        this.in = in;
        this.out = out;
        this.local = local;
        this.remote = remote;
    }

    /** The two ends of a new connection from {@code from} to {@code to}: the connecting side first. */
    static MemoryEnd[] pair(InetSocketAddress from, InetSocketAddress to) {
        MemoryPipe up = new MemoryPipe();
        MemoryPipe down = new MemoryPipe();
        return new MemoryEnd[] {new MemoryEnd(down, up, from, to), new MemoryEnd(up, down, to, from)};
    }

    /**
     * Closes this side: {@code abortive} with a reset; otherwise a FIN, or, when bytes were left unread, a reset (after
     * the FIN if the output was shut down before, so the peer then reads the end: how the proxy closes, see
     * {@link EventLoop#close}).
     */
    void close(boolean abortive) {
        boolean unread = in.closeReader(abortive ? null : out::reset); // a write after a close draws a reset
        if (abortive || unread) {
            out.reset();
        } else {
            out.finish();
        }
    }
}
