package io.fedlink.sni;

import io.fedlink.api.AccessLogFormat;
import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.Tunnels;
import io.fedlink.benchmarks.ClientHelloParserBenchmark;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One connection's life in the transport-neutral core, no sockets (issue 24): a trusted PROXY v1 header and a
 * captured 1,922-byte Chromium ClientHello fed to {@link Front}, the route {@link Routing} decides, the target
 * {@link Attempts} picks, then {@link CopyLoop} relays the hello, a 512-byte request and a 4 KiB answer between
 * two in-memory ends with a half-close each way. What is left of a new connection's cost beyond this is the
 * transport's: system calls, the selector and the kernel.
 * It lives in the {@code io.fedlink.sni} package because the core is package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ConnectionCoreBenchmark {
    private static final String NAME = "10000.fate.org";

    private byte[] proxyAndHello;
    private final byte[] request = new byte[512];
    private final byte[] answer = new byte[4096];
    private RouteHolder holder;
    private RouteTable table;
    private TargetHealth health;
    private TunnelEvents events;
    private BufferPool buffers;
    private final MemoryEnd clientEnd = new MemoryEnd();
    private final MemoryEnd targetEnd = new MemoryEnd();
    private final Done done = new Done();

    @Setup
    public void setUp() {
        byte[] hello = ClientHelloParserBenchmark.read("/hellos/chromium.bin");
        byte[] header = "PROXY TCP4 10.1.2.3 127.0.0.1 40000 443\r\n"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        proxyAndHello = new byte[header.length + hello.length];
        System.arraycopy(header, 0, proxyAndHello, 0, header.length);
        System.arraycopy(hello, 0, proxyAndHello, header.length, hello.length);
        table = RouteTable.of(PartyRoute.builder(NAME).addTarget(Endpoint.of("127.0.0.2", 6651))
                .addTarget(Endpoint.of("127.0.0.3", 6651)).build(),
                PartyRoute.of("9999.fate.org", Endpoint.of("127.0.0.4", 6651)));
        holder = new RouteHolder(table);
        events = new TunnelEvents(TunnelListener.NONE, "core-benchmark-log", AccessLogFormat.TEXT, null);
        health = new TargetHealth(Tunnels.server().routes(holder).connectTimeout(Duration.ofSeconds(5)).build(),
                events, holder::current);
        buffers = new BufferPool(16 * 1024, 64, new BufferPool.Budget(64L << 20));
        String name = life();
        if (!NAME.equals(name) || clientEnd.written != answer.length || !done.completed) {
            throw new IllegalStateException("the core did not carry one connection: " + name + ", "
                    + clientEnd.written + " bytes to the client");
        }
    }

    @TearDown
    public void tearDown() {
        events.stop();
    }

    /** PROXY header and hello, route, target, relay both ways with half-closes; returns the routed name. */
    @Benchmark
    public String life() {
        Front front = new Front(16 * 1024, true);
        ByteBuffer b = buffers.borrow();
        b.limit(front.limit(b.capacity()));
        b.put(proxyAndHello);
        if (front.feed(b) != Front.Step.PROXY_HEADER || front.feed(b) != Front.Step.HELLO) {
            throw new IllegalStateException(front.detail());
        }
        InetSocketAddress announced = front.announced();
        Routing.Decision d = Routing.decide(table, front.serverName(), announced.getAddress());
        long now = System.nanoTime();
        Attempts attempts = new Attempts(health.of(table, d.route(), false), front.serverName(),
                now + TimeUnit.SECONDS.toNanos(5));
        Attempts.Attempt a = attempts.next(now);
        attempts.succeeded();
        clientEnd.reset(request);
        targetEnd.reset(answer);
        done.completed = false;
        CopyLoop copy = new CopyLoop(clientEnd, targetEnd, buffers, done);
        b.flip();
        copy.start(b);
        while (!copy.done()) {
            copy.ready(true, true, true);
            copy.ready(false, true, true);
        }
        attempts.release();
        return a.target() != null ? front.serverName() : null;
    }

    /** An end that gives its bytes, then EOF, and takes whatever is written. */
    static final class MemoryEnd implements CopyLoop.End {
        private byte[] source;
        private int offset;
        long written;
        boolean shut;

        void reset(byte[] bytes) {
            source = bytes;
            offset = 0;
            written = 0;
            shut = false;
        }

        @Override
        public int read(ByteBuffer b) {
            if (offset == source.length) {
                return -1;
            }
            int n = Math.min(b.remaining(), source.length - offset);
            b.put(source, offset, n);
            offset += n;
            return n;
        }

        @Override
        public int write(ByteBuffer b) {
            int n = b.remaining();
            b.position(b.limit());
            written += n;
            return n;
        }

        @Override
        public void shutdownOutput() {
            shut = true;
        }
    }

    /** The owner: records the end. */
    static final class Done implements CopyLoop.Owner {
        boolean completed;

        @Override
        public void moved(boolean fromClient, int n) {
        }

        @Override
        public void active() {
        }

        @Override
        public void starved() {
            throw new IllegalStateException("the buffer budget ran out");
        }

        @Override
        public void finished(CloseReason reason, boolean abortive) {
            completed = reason == CloseReason.COMPLETED && !abortive;
        }
    }
}
