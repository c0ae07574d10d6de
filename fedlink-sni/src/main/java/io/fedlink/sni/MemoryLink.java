package io.fedlink.sni;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link Link} over a {@link MemoryEnd}, driven by a {@link MemoryLoop}: readiness is level-triggered as a selector
 * reports it (a link whose interest meets its readiness is handed to its owner again after each round), and the
 * pipes tell the loop when the peer changed something.
 */
final class MemoryLink implements Link {
    private enum Connect { DONE, PENDING, FAILED }

    private final MemoryLoop loop;
    private final MemoryEnd end;
    /** Whether the loop has this link queued (so a burst of signals queues it once). */
    final AtomicBoolean queued = new AtomicBoolean();
    private Connection owner;
    private volatile Connect connect = Connect.DONE;
    private boolean connectReported = true;
    private int interest;
    private boolean watched;
    private boolean closed;

    MemoryLink(MemoryLoop loop, MemoryEnd end) {
        this.loop = loop;
        this.end = end;
        Runnable signal = () -> loop.signal(this);
        end.in.onReadable = signal;
        end.out.onWritable = signal;
    }

    /** A link whose connect waits for the listener to take it ({@link #connected(boolean)} tells the outcome). */
    MemoryLink pending() {
        connect = Connect.PENDING;
        connectReported = false;
        return this;
    }

    /** From any thread: the pending connect completed, or failed (the listener closed). */
    void connected(boolean ok) {
        connect = ok ? Connect.DONE : Connect.FAILED;
        loop.signal(this);
    }

    @Override
    public MemoryLink attach(Connection owner) {
        this.owner = owner;
        return this;
    }

    @Override
    public void watch(int ops) throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        watched = true;
        interest(ops);
        loop.signal(this); // whatever arrived before the link was watched
    }

    @Override
    public void interest(int ops) {
        interest = ops;
        if (watched && !closed && (ops & readyOps()) != 0) {
            loop.signal(this);
        }
    }

    /** The readiness now, in {@link SelectionKey} bits. */
    private int readyOps() {
        int ops = 0;
        if (!connectReported) {
            return connect == Connect.PENDING ? 0 : SelectionKey.OP_CONNECT;
        }
        if (end.in.readable()) {
            ops |= SelectionKey.OP_READ;
        }
        if (end.out.writable()) {
            ops |= SelectionKey.OP_WRITE;
        }
        return ops;
    }

    /** On the loop: hands what is ready and wanted to the owner; queued again while that stays so (level-triggered). */
    void fire() {
        if (closed || !watched || owner == null) {
            return;
        }
        int ops = interest & readyOps();
        if (ops == 0) {
            return;
        }
        loop.ready(owner, this, ops);
        if (!closed && (interest & readyOps()) != 0) {
            loop.signal(this);
        }
    }

    @Override
    public boolean connected() {
        return connect == Connect.DONE && connectReported;
    }

    @Override
    public boolean finishConnect() throws IOException {
        switch (connect) {
            case FAILED -> throw new ConnectException("Connection refused (the listener at " + end.remote
                    + " closed)");
            case PENDING -> {
                return false;
            }
            default -> {
                connectReported = true;
                return true;
            }
        }
    }

    @Override
    public int read(ByteBuffer b) throws IOException {
        return end.in.read(b);
    }

    @Override
    public int write(ByteBuffer b) throws IOException {
        return end.out.write(b);
    }

    @Override
    public void shutdownOutput() {
        end.out.finish();
    }

    @Override
    public InetSocketAddress localAddress() {
        return end.local;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return end.remote;
    }

    @Override
    public void close(boolean abortive, boolean silent) {
        if (closed) {
            return;
        }
        closed = true;
        interest = 0;
        if (!abortive && !silent) {
            end.out.finish(); // the FIN first, as EventLoop.close shuts the output down before it closes
        }
        end.close(abortive);
        if (connect == Connect.PENDING) {
            loop.network.cancel(this);
        }
    }
}
