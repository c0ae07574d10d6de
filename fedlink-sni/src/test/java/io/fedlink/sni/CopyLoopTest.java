package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.CloseReason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The copy loop over non-blocking {@link Pipe}s: no sockets, no threads, every step driven by the test. */
class CopyLoopTest {
    /** One tunnel end: what the peer writes arrives on {@code in}; what the loop writes leaves on {@code out}. */
    static final class PipeEnd implements CopyLoop.End {
        final Pipe in;
        final Pipe out;

        PipeEnd() throws IOException {
            in = Pipe.open();
            out = Pipe.open();
            in.source().configureBlocking(false);
            out.sink().configureBlocking(false);
            out.source().configureBlocking(false);
        }

        @Override
        public int read(ByteBuffer b) throws IOException {
            return in.source().read(b);
        }

        @Override
        public int write(ByteBuffer b) throws IOException {
            return out.sink().write(b);
        }

        @Override
        public void shutdownOutput() throws IOException {
            out.sink().close();
        }

        /** The peer sends. */
        void send(String s) throws IOException {
            in.sink().write(ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII)));
        }

        /** The peer receives what is there now ({@code null} at end of stream). */
        String receive() throws IOException {
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            int n = out.source().read(b);
            return n < 0 ? null : new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
        }
    }

    /** Records what the loop reports. */
    static final class Recorder implements CopyLoop.Owner {
        long up;
        long down;
        int starved;
        CloseReason finished;
        boolean abortive;

        @Override
        public void moved(boolean fromClient, int n) {
            if (fromClient) {
                up += n;
            } else {
                down += n;
            }
        }

        @Override
        public void active() {
        }

        @Override
        public void starved() {
            starved++;
        }

        @Override
        public void finished(CloseReason reason, boolean abortive) {
            this.finished = reason;
            this.abortive = abortive;
        }
    }

    private final Recorder owner = new Recorder();

    private static BufferPool pool(long budget) {
        return new BufferPool(1024, 4, new BufferPool.Budget(budget));
    }

    @Test
    void copiesBothWaysAfterTheFirstBytesAndPassesFinsOn() throws Exception {
        PipeEnd client = new PipeEnd();
        PipeEnd target = new PipeEnd();
        BufferPool buffers = pool(1 << 20);
        CopyLoop loop = new CopyLoop(client, target, buffers, owner);
        loop.start(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("hello", target.receive(), "the first bytes go first");
        client.send("question");
        loop.ready(true, false, true);
        assertEquals("question", target.receive());
        target.send("answer");
        loop.ready(false, false, true);
        assertEquals("answer", client.receive());
        assertEquals(8, owner.up);
        assertEquals(6, owner.down);
        client.in.sink().close(); // client FIN
        loop.ready(true, false, true);
        assertNull(target.receive(), "the FIN reached the target");
        assertNull(owner.finished, "half-closed: the other direction still flows");
        target.send("late");
        loop.ready(false, false, true);
        assertEquals("late", client.receive());
        target.in.sink().close();
        loop.ready(false, false, true);
        assertEquals(CloseReason.COMPLETED, owner.finished);
        assertFalse(owner.abortive);
        assertEquals(0, buffers.inUse(), "no buffer held after the tunnel");
    }

    @Test
    void aFullDestinationStopsReadingTheSource() throws Exception {
        PipeEnd client = new PipeEnd();
        PipeEnd target = new PipeEnd();
        BufferPool buffers = pool(1 << 20);
        CopyLoop loop = new CopyLoop(client, target, buffers, owner);
        byte[] chunk = new byte[1000];
        while (target.out.sink().write(ByteBuffer.wrap(chunk)) > 0) {
            // fill the pipe toward the target until it takes nothing more
        }
        client.send("x".repeat(500));
        loop.ready(true, false, true);
        assertEquals(0, loop.clientOps() & SelectionKey.OP_READ, "no read while a buffer waits");
        assertEquals(SelectionKey.OP_WRITE, loop.targetOps() & SelectionKey.OP_WRITE);
        assertEquals(1, buffers.inUse(), "exactly one buffer held by the stalled direction");
        while (target.out.source().read(ByteBuffer.allocate(1 << 16)) > 0) {
            // the target reads everything
        }
        loop.ready(false, true, false);
        assertEquals(0, buffers.inUse());
        assertEquals(SelectionKey.OP_READ, loop.clientOps() & SelectionKey.OP_READ);
    }

    @Test
    void aSpentBudgetStarvesInsteadOfAllocating() throws Exception {
        PipeEnd client = new PipeEnd();
        PipeEnd target = new PipeEnd();
        CopyLoop loop = new CopyLoop(client, target, pool(0), owner);
        client.send("data");
        loop.ready(true, false, true);
        assertEquals(1, owner.starved);
        assertEquals(0, loop.clientOps(), "reads stop until fed");
        loop.fed();
        assertEquals(SelectionKey.OP_READ, loop.clientOps());
    }

    @Test
    void aWriteErrorAbortsTheTunnel() throws Exception {
        PipeEnd client = new PipeEnd();
        PipeEnd target = new PipeEnd();
        CopyLoop loop = new CopyLoop(client, target, pool(1 << 20), owner);
        target.out.source().close();
        target.out.sink().close();
        client.send("data");
        loop.ready(true, false, true);
        assertEquals(CloseReason.TARGET_ABORTED, owner.finished);
        assertTrue(owner.abortive);
        assertTrue(loop.done());
    }

    @Test
    void bufferPoolKeepsAtMostMaxIdleAndHonoursTheBudget() {
        BufferPool.Budget budget = new BufferPool.Budget(3 * 1024);
        BufferPool p = new BufferPool(1024, 1, budget);
        ByteBuffer a = p.borrow();
        ByteBuffer b = p.borrow();
        ByteBuffer c = p.borrow();
        assertNull(p.borrow(), "the budget holds three buffers");
        assertEquals(3 * 1024, budget.used());
        p.release(a);
        p.release(b); // beyond maxIdle: dropped and given back to the budget
        assertEquals(2 * 1024, budget.used());
        assertEquals(1, p.inUse());
        p.release(ByteBuffer.allocate(1024)); // heap buffers are not the pool's
        p.release(c);
        assertEquals(0, p.inUse());
    }

    /** Buffers one loop got back after a burst do not starve another loop sharing the budget (failed with 64 idle). */
    @Test
    void buffersALoopGotBackLeaveTheOtherLoopsTheirShare() {
        BufferPool.Budget budget = new BufferPool.Budget(64 * 1024);
        BufferPool a = BufferPool.forLoop(1024, budget, 2);
        BufferPool b = BufferPool.forLoop(1024, budget, 2);
        java.util.List<java.nio.ByteBuffer> burst = new java.util.ArrayList<>();
        for (java.nio.ByteBuffer x; (x = a.borrow()) != null; ) {
            burst.add(x);
        }
        assertEquals(64, burst.size(), "one loop may use the whole budget while it needs it");
        assertNull(b.borrow(), "spent");
        burst.forEach(a::release);
        java.util.List<java.nio.ByteBuffer> other = new java.util.ArrayList<>();
        for (java.nio.ByteBuffer x; (x = b.borrow()) != null; ) {
            other.add(x);
        }
        assertTrue(other.size() >= 32, "the other loop gets at least half the budget back: " + other.size());
    }
}
