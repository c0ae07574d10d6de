package io.fedlink.sni;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct copy buffers for one event loop. Borrowed only while bytes are in flight and returned as soon as they are
 * written, so an idle tunnel holds none. Single-threaded: only the owning loop touches it, so no locks. At most
 * {@code maxIdle} free buffers are kept; extra ones are left to the garbage collector. Every buffer allocated counts
 * against a {@link Budget} shared by all loops: when it is spent (or the JVM refuses direct memory),
 * {@link #borrow()} returns {@code null} and the caller stops reading until buffers come back.
 */
final class BufferPool {
    private final int size;
    private final int maxIdle;
    private final Budget budget;
    private final ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
    private volatile int inUse; // written by the loop only; volatile for monitoring reads

    /** Bytes of direct buffers all pools together may hold. Thread-safe. */
    static final class Budget {
        private final long limit;
        private final AtomicLong used = new AtomicLong();

        Budget(long limit) {
            this.limit = limit;
        }

        /** A budget of {@code configured} bytes, or half the JVM's direct-memory limit when {@code 0}. */
        static Budget of(long configured) {
            return new Budget(configured > 0 ? configured : jvmDirectMemoryLimit() / 2);
        }

        boolean reserve(int bytes) {
            long now;
            do {
                now = used.get();
                if (now + bytes > limit) {
                    return false;
                }
            } while (!used.compareAndSet(now, now + bytes));
            return true;
        }

        void release(int bytes) {
            used.addAndGet(-bytes);
        }

        long limit() {
            return limit;
        }

        long used() {
            return used.get();
        }

        private static long jvmDirectMemoryLimit() {
            try {
                String v = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                        .getVMOption("MaxDirectMemorySize").getValue();
                long n = Long.parseLong(v);
                if (n > 0) {
                    return n;
                }
            } catch (RuntimeException | LinkageError e) {
                // not HotSpot: the JDK's default below
            }
            return Runtime.getRuntime().maxMemory(); // the JDK's default direct-memory limit
        }
    }

    /**
     * The pool of one of {@code loops} event loops sharing {@code budget}: it keeps at most 64 idle buffers, and never
     * more than a share that leaves half the budget to the other loops, so buffers one loop got back after a burst
     * (an attack) cannot starve a connection on another loop.
     */
    static BufferPool forLoop(int size, Budget budget, int loops) {
        long share = budget.limit() / size / (2L * loops);
        return new BufferPool(size, (int) Math.max(1, Math.min(64, share)), budget);
    }

    BufferPool(int size, int maxIdle, Budget budget) {
        this.size = size;
        this.maxIdle = maxIdle;
        this.budget = budget;
    }

    /** A cleared buffer, or {@code null} when the budget is spent. */
    ByteBuffer borrow() {
        ByteBuffer b = idle.pollFirst();
        if (b == null) {
            if (!budget.reserve(size)) {
                return null;
            }
            try {
                b = ByteBuffer.allocateDirect(size);
            } catch (OutOfMemoryError e) { // the JVM's own limit came first: same answer as a spent budget
                budget.release(size);
                return null;
            }
        }
        inUse = inUse + 1;
        return b;
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
        } else {
            budget.release(size);
        }
    }

    int size() {
        return size;
    }

    int inUse() {
        return inUse;
    }
}
