package io.fedlink.sni;

import io.fedlink.api.CloseReason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;

/**
 * The copy loop of one tunnel: bytes client -> target ({@code up}) and target -> client ({@code down}), blind. Each
 * direction holds at most one buffer, borrowed for a read and returned as soon as it is written, so an idle tunnel
 * holds none and a slow reader stops its writer. A FIN is passed on as a half-close once pending bytes are written; a
 * read or write error ends the tunnel abortively. Runs on the connection's event loop only.
 */
final class CopyLoop {
    /** Fairness: yield to other connections after this many reads of one direction. */
    static final int READS_PER_EVENT = 16;

    /** One end of the tunnel: a socket's {@link Link}, or a pipe pair in tests. */
    interface End {
        int read(ByteBuffer b) throws IOException;

        int write(ByteBuffer b) throws IOException;

        void shutdownOutput() throws IOException;
    }

    /** What the loop tells its connection. */
    interface Owner {
        /** {@code n} bytes were read, from the client when {@code fromClient}. */
        void moved(boolean fromClient, int n);

        /** Bytes moved or drained: the tunnel is not idle. */
        void active();

        /** The budget had no buffer: reads stop until {@link #fed()}. */
        void starved();

        /** The tunnel ended; {@code abortive} closes with a reset. */
        void finished(CloseReason reason, boolean abortive);
    }

    /** One copy direction. */
    private final class Direction {
        final boolean fromClient;
        ByteBuffer pending; // in write mode (flipped) while not null
        boolean eof;        // the source sent FIN
        boolean shut;       // FIN passed on to the destination

        Direction(boolean fromClient) {
            this.fromClient = fromClient;
        }

        End src() {
            return fromClient ? client : target;
        }

        End dst() {
            return fromClient ? target : client;
        }

        boolean wantsRead() {
            return !eof && pending == null && !starving;
        }

        /** The reason when writing to this direction's destination fails. */
        CloseReason dstAborted() {
            return fromClient ? CloseReason.TARGET_ABORTED : CloseReason.CLIENT_ABORTED;
        }
    }

    private final End client;
    private final End target;
    private final BufferPool buffers;
    private final Owner owner;
    private final Direction up = new Direction(true);
    private final Direction down = new Direction(false);
    private boolean starving;
    private boolean done;

    CopyLoop(End client, End target, BufferPool buffers, Owner owner) {
        this.client = client;
        this.target = target;
        this.buffers = buffers;
        this.owner = owner;
    }

    /** Starts with bytes already read from the client (in write mode), sent first. */
    void start(ByteBuffer firstUp) {
        up.pending = firstUp;
        flush(up);
    }

    /** One readiness event of the client's ({@code fromClient}) or the target's socket. */
    void ready(boolean fromClient, boolean writable, boolean readable) {
        if (writable) {
            flush(fromClient ? down : up);
        }
        if (!done && readable) {
            copy(fromClient ? up : down);
        }
    }

    /** Interest ops for the client's socket. */
    int clientOps() {
        return (up.wantsRead() ? SelectionKey.OP_READ : 0) | (down.pending != null ? SelectionKey.OP_WRITE : 0);
    }

    /** Interest ops for the target's socket. */
    int targetOps() {
        return (down.wantsRead() ? SelectionKey.OP_READ : 0) | (up.pending != null ? SelectionKey.OP_WRITE : 0);
    }

    /** Whether the tunnel has ended. */
    boolean done() {
        return done;
    }

    /** Reads may start again (the loop found the budget has room, or will try). */
    void fed() {
        starving = false;
    }

    /** Gives every held buffer back (the tunnel is closing). */
    void release() {
        for (Direction d : new Direction[] {up, down}) {
            if (d.pending != null) {
                buffers.release(d.pending);
                d.pending = null;
            }
        }
    }

    /** Reads from the direction's source and writes straight through; stops when the destination is full. */
    private void copy(Direction d) {
        for (int i = 0; i < READS_PER_EVENT && d.wantsRead(); i++) {
            ByteBuffer b = buffers.borrow();
            if (b == null) {
                starving = true;
                owner.starved();
                return;
            }
            int n;
            try {
                n = d.src().read(b);
            } catch (IOException e) {
                buffers.release(b);
                finish(d.fromClient ? CloseReason.CLIENT_ABORTED : CloseReason.TARGET_ABORTED, true);
                return;
            }
            if (n <= 0) {
                buffers.release(b);
                if (n < 0) {
                    d.eof = true;
                    passFin(d);
                }
                return;
            }
            owner.active();
            owner.moved(d.fromClient, n);
            b.flip();
            d.pending = b;
            flush(d);
            if (done || n < b.capacity()) {
                return; // a short read means the source is drained for now
            }
        }
    }

    /** Writes what the direction holds; returns the buffer when empty and passes a FIN on when due. */
    private void flush(Direction d) {
        ByteBuffer b = d.pending;
        if (b == null) {
            return;
        }
        try {
            d.dst().write(b);
        } catch (IOException e) {
            finish(d.dstAborted(), true);
            return;
        }
        if (!b.hasRemaining()) {
            d.pending = null;
            buffers.release(b);
            owner.active();
            if (d.eof) {
                passFin(d);
            }
        }
    }

    /** After the source's FIN and once every byte is written, half-closes the destination. */
    private void passFin(Direction d) {
        if (d.pending != null || d.shut) {
            return;
        }
        d.shut = true;
        try {
            d.dst().shutdownOutput();
        } catch (IOException e) {
            finish(d.dstAborted(), true);
            return;
        }
        if (up.shut && down.shut) {
            finish(CloseReason.COMPLETED, false);
        }
    }

    private void finish(CloseReason reason, boolean abortive) {
        if (!done) {
            done = true;
            owner.finished(reason, abortive);
        }
    }
}
