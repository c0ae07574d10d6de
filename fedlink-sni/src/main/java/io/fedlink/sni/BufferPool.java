package io.fedlink.sni;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct copy buffers for one event loop. Borrowed only while bytes are in flight and returned as soon as they are
 * written, so an idle tunnel holds none. Single-threaded: only the owning loop touches it, so no locks. At most
 * {@code maxIdle} free buffers are kept; extra ones are left to the garbage collector.
 */
final class BufferPool {
    private final int size;
    private final int maxIdle;
    private final ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
    private volatile int inUse; // written by the loop only; volatile for monitoring reads

    BufferPool(int size, int maxIdle) {
        this.size = size;
        this.maxIdle = maxIdle;
    }

    ByteBuffer borrow() {
        ByteBuffer b = idle.pollFirst();
        inUse = inUse + 1;
        return b != null ? b : ByteBuffer.allocateDirect(size);
    }

    /** Takes a buffer back; heap buffers and odd sizes (a grown hello buffer) are simply dropped. */
    void release(ByteBuffer b) {
        if (!b.isDirect() || b.capacity() != size) {
            return;
        }
        inUse = inUse - 1;
        if (idle.size() < maxIdle) {
            b.clear();
            idle.addFirst(b);
        }
    }

    int size() {
        return size;
    }

    int inUse() {
        return inUse;
    }

    int idle() {
        return idle.size();
    }
}
