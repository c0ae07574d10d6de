package io.fedlink.sni;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * One direction of a {@link MemoryNetwork} connection, as TCP behaves on loopback: a bounded byte queue (the socket
 * buffers), then the writer's FIN (end of stream after the bytes), or a reset (the bytes already queued are still
 * read, then reads fail with "Connection reset", unless a FIN came first). Once the reader has closed, one write is
 * still taken (and draws the reader's reset, as TCP's does) and the next ones fail. Non-blocking calls serve a
 * {@link MemoryLink}, whose loop is told through {@link #onReadable}/{@link #onWritable}; blocking calls (with a
 * timeout for reads) serve a {@link MemorySocket}. The queue's array grows with what waits in it and is dropped when
 * empty, so an idle connection holds no buffer.
 */
final class MemoryPipe {
    /** Most bytes queued in one direction (what the two socket buffers of a loopback connection hold, roughly). */
    static final int CAPACITY = 256 * 1024;
    private static final int FIRST_ARRAY = 4096;
    private static final Runnable NONE = () -> { };

    private byte[] buf;
    private int head;
    private int count;
    private boolean fin;
    private boolean reset;
    private boolean readerGone;
    private Runnable bounce; // see closeReader(Runnable); guarded by this
    /** Told (outside the lock) when bytes, a FIN or a reset arrive; set once, before the pipe is used. */
    volatile Runnable onReadable = NONE;
    /** Told (outside the lock) when room frees up or the reader goes; set once, before the pipe is used. */
    volatile Runnable onWritable = NONE;

    /** Whether a read would return something now: bytes, the end of the stream, or a reset. */
    synchronized boolean readable() {
        return count > 0 || fin || reset;
    }

    /** Bytes queued to read now. */
    synchronized int available() {
        return count;
    }

    /** Whether a write would do something now: take bytes, or fail. */
    synchronized boolean writable() {
        return count < CAPACITY || readerGone || reset;
    }

    /** Reads what is there: the count, {@code 0} when nothing waits, {@code -1} at the end of the stream. */
    int read(ByteBuffer dst) throws IOException {
        int n;
        synchronized (this) {
            n = readable(dst.remaining());
            if (n <= 0) {
                return n;
            }
            int first = Math.min(n, buf.length - head);
            dst.put(buf, head, first);
            dst.put(buf, 0, n - first);
            consumed(n);
        }
        onWritable.run();
        return n;
    }

    /** Reads at least one byte, waiting up to {@code timeoutMillis} ({@code 0}: no limit); {@code -1} at the end. */
    int read(byte[] b, int off, int len, int timeoutMillis) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n;
        synchronized (this) {
            long end = System.nanoTime() + timeoutMillis * 1_000_000L;
            while ((n = readable(len)) == 0) {
                if (readerGone) {
                    throw new SocketException("Socket closed");
                }
                long left = timeoutMillis == 0 ? 0 : (end - System.nanoTime()) / 1_000_000;
                if (timeoutMillis != 0 && left <= 0) {
                    throw new SocketTimeoutException("Read timed out");
                }
                await(left);
            }
            if (n < 0) {
                return n;
            }
            int first = Math.min(n, buf.length - head);
            System.arraycopy(buf, head, b, off, first);
            System.arraycopy(buf, 0, b, off + first, n - first);
            consumed(n);
        }
        onWritable.run();
        return n;
    }

    /** Bytes that can be read now, or {@code -1} at the end; throws after a reset once the bytes are read. */
    private int readable(int wanted) throws IOException {
        if (count > 0) {
            return Math.min(count, wanted);
        }
        if (fin) {
            return -1; // a FIN that came before a reset is read as the end (a reset after it is what a close with
                       // unread bytes sends, as when the proxy refuses a hello that is still arriving)
        }
        if (reset) {
            throw new SocketException("Connection reset");
        }
        return 0;
    }

    private void consumed(int n) {
        head = (head + n) % buf.length;
        count -= n;
        if (count == 0) {
            buf = null; // an idle connection holds no array
            head = 0;
        }
        notifyAll();
    }

    /** Writes what fits: the count, {@code 0} when the queue is full. */
    int write(ByteBuffer src) throws IOException {
        Runnable back;
        synchronized (this) {
            back = bounce();
        }
        if (back != null) { // taken and dropped: the reset it draws comes back
            int n = src.remaining();
            src.position(src.limit());
            back.run();
            return n;
        }
        int n;
        synchronized (this) {
            n = room(src.remaining());
            if (n == 0) {
                return 0;
            }
            int tail = (head + count) % buf.length;
            int first = Math.min(n, buf.length - tail);
            src.get(buf, tail, first);
            src.get(buf, 0, n - first);
            count += n;
            notifyAll();
        }
        onReadable.run();
        return n;
    }

    /** Writes all of it, waiting for room as long as it takes (a socket write has no timeout). */
    void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n;
            Runnable back;
            synchronized (this) {
                back = bounce();
            }
            if (back != null) {
                back.run();
                return;
            }
            synchronized (this) {
                while ((n = room(len)) == 0) {
                    await(0);
                }
                int tail = (head + count) % buf.length;
                int first = Math.min(n, buf.length - tail);
                System.arraycopy(b, off, buf, tail, first);
                System.arraycopy(b, off + first, buf, 0, n - first);
                count += n;
                notifyAll();
            }
            onReadable.run();
            off += n;
            len -= n;
        }
    }

    /**
     * Under the lock: for a write to a reader that closed gracefully and has not answered a write yet, the reset to
     * send back (once), else {@code null}. TCP takes that first write (the peer's kernel answers it with a reset), so
     * it succeeds here too, its bytes dropped; the writes after it fail.
     */
    private Runnable bounce() {
        Runnable back = readerGone && !fin && !reset ? bounce : null;
        bounce = null;
        return back;
    }

    /** Room for up to {@code wanted} bytes now (the array grown to fit); throws when the write cannot happen. */
    private int room(int wanted) throws IOException {
        if (fin) {
            throw new SocketException("Socket output is shut down");
        }
        if (reset || readerGone) {
            throw new SocketException("Broken pipe (the peer closed or reset the connection)");
        }
        int n = Math.min(wanted, CAPACITY - count);
        if (n > 0 && (buf == null || buf.length - count < n)) {
            grow(count + n);
        }
        return n;
    }

    private void grow(int needed) {
        int size = buf == null ? FIRST_ARRAY : buf.length;
        while (size < needed) {
            size = Math.min(CAPACITY, size * 2);
        }
        byte[] bigger = new byte[size];
        if (count > 0) {
            int first = Math.min(count, buf.length - head);
            System.arraycopy(buf, head, bigger, 0, first);
            System.arraycopy(buf, 0, bigger, first, count - first);
        }
        buf = bigger;
        head = 0;
    }

    private void await(long millis) throws InterruptedIOException {
        try {
            wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** The writer's FIN: the reader gets the end of the stream after the queued bytes. */
    void finish() {
        synchronized (this) {
            if (fin) {
                return;
            }
            fin = true;
            notifyAll();
        }
        onReadable.run();
    }

    /** A reset from the writer's side: the queued bytes are still read, then reads fail. */
    void reset() {
        synchronized (this) {
            if (reset) {
                return;
            }
            reset = true;
            notifyAll();
        }
        onReadable.run();
        onWritable.run();
    }

    /**
     * The reader closed: writes fail from now on and what waited unread is dropped. Returns whether bytes were left
     * unread (TCP then answers with a reset instead of a FIN).
     */
    boolean closeReader() {
        return closeReader(null);
    }

    /**
     * {@link #closeReader()}, with what to do when the writer writes once more: {@code bounce} (the closing side's
     * reset towards the writer), run on that write, once; {@code null}: that write fails too.
     */
    boolean closeReader(Runnable bounce) {
        boolean unread;
        synchronized (this) {
            if (readerGone) {
                return false;
            }
            readerGone = true;
            unread = count > 0;
            this.bounce = unread ? null : bounce; // with bytes unread, the reset went out at the close already
            buf = null;
            head = 0;
            count = 0;
            notifyAll();
        }
        onWritable.run();
        return unread;
    }
}
