package io.fedlink.sni;

import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelStats;
import io.fedlink.benchmarks.ClientHelloParserBenchmark;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * One whole connection through a real proxy in a {@link MemoryNetwork} (issue 24): the client connects, writes the
 * captured 1,922-byte Chromium ClientHello and 512 bytes, reads the target's 4 KiB answer, shuts its output, reads
 * to the end and closes. The proxy (one event loop) runs the same {@code Connection} as the nio transport on a
 * {@code MemoryLoop}; the target is a plain blocking server on {@link MemoryNetwork#listen}, one thread per
 * benchmark thread. So the figure is the connection core plus the hand-offs between the client thread, the loop
 * and the target thread (park/unpark, monitors); no socket, system call or kernel is involved. With
 * {@code -prof gc} the allocation per op counts every thread's (the loop's and the target's included).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MemoryProxyBenchmark {
    private static final String NAME = "10000.fate.org";
    private static final int TIMEOUT_MILLIS = 10_000;

    private byte[] request;
    private final byte[] answer = new byte[4096];
    private MemoryNetwork network;
    private ServerSocket targetSocket;
    private TunnelServer proxy;
    private InetSocketAddress proxyAddress;
    private final List<Thread> targets = new ArrayList<>();
    private final AtomicLong served = new AtomicLong();
    private final AtomicReference<String> targetFailure = new AtomicReference<>();

    /** Starts the network, the target's threads and the proxy, and checks one connection's bytes both ways. */
    @Setup
    public void setUp(BenchmarkParams params) throws IOException, InterruptedException {
        byte[] hello = ClientHelloParserBenchmark.read("/hellos/chromium.bin");
        request = Arrays.copyOf(hello, hello.length + 512);
        for (int i = hello.length; i < request.length; i++) {
            request[i] = (byte) i;
        }
        for (int i = 0; i < answer.length; i++) {
            answer[i] = (byte) (i * 31 + 7);
        }
        network = new MemoryNetwork();
        targetSocket = network.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        for (int i = 0; i < params.getThreads(); i++) {
            Thread t = new Thread(this::serveAll, "memory-bench-target-" + i);
            t.setDaemon(true);
            t.start();
            targets.add(t);
        }
        proxy = network.start(SniProxy.builder().bindLoopback(0).eventLoops(1)
                .routes(RouteTable.builder().add(NAME, Endpoint.of("127.0.0.1", targetSocket.getLocalPort())).build())
                .build());
        proxyAddress = proxy.localAddress();
        byte[] back = new byte[answer.length];
        try (Socket s = network.connect(proxyAddress)) {
            s.setSoTimeout(TIMEOUT_MILLIS);
            s.getOutputStream().write(request);
            readFully(s.getInputStream(), back);
            s.shutdownOutput();
            long more = drain(s.getInputStream(), new byte[1]);
            if (!Arrays.equals(answer, back) || more != 0) {
                throw new IllegalStateException("the answer came back changed through the proxy (" + more
                        + " bytes beyond it)");
            }
        }
        awaitQuiet();
    }

    /** Waits for the last tunnels to end, checks the proxy's counters, and stops everything. */
    @TearDown
    public void tearDown() throws Exception {
        try {
            awaitQuiet();
            TunnelStats s = proxy.stats();
            System.out.println("\nproxy: " + s.accepted() + " accepted, " + s.routed() + " routed, "
                    + s.closed(CloseReason.COMPLETED) + " completed, " + s.refusedTotal() + " refused; target served "
                    + served.get());
            if (s.refusedTotal() != 0 || s.routed() != s.accepted() || s.routed() != served.get()
                    || s.closed(CloseReason.COMPLETED) != s.routed()) {
                throw new IllegalStateException("the proxy did not carry every connection: " + s);
            }
        } finally {
            proxy.close();
            targetSocket.close();
            for (Thread t : targets) {
                t.join(TIMEOUT_MILLIS);
            }
        }
    }

    /** A benchmark thread's buffer for the answer, so the client allocates nothing per connection itself. */
    @State(Scope.Thread)
    public static class Client {
        final byte[] back = new byte[4096];
    }

    /** Connect, hello and request up, the answer down, a half-close each way, close; returns the bytes read. */
    @Benchmark
    public long life(Client c) throws IOException {
        try (Socket s = network.connect(proxyAddress)) {
            s.setSoTimeout(TIMEOUT_MILLIS);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            readFully(in, c.back);
            s.shutdownOutput();
            return c.back.length + drain(in, c.back);
        }
    }

    /** One target thread: accepts and serves connections one after the other until the listener closes. */
    private void serveAll() {
        byte[] got = new byte[request.length];
        while (true) {
            try (Socket s = targetSocket.accept()) {
                s.setSoTimeout(TIMEOUT_MILLIS);
                InputStream in = s.getInputStream();
                readFully(in, got);
                if (!Arrays.equals(request, got)) {
                    throw new IOException("the hello and request arrived changed");
                }
                s.getOutputStream().write(answer);
                s.shutdownOutput();
                if (drain(in, got) != 0) {
                    throw new IOException("bytes beyond the request");
                }
                served.incrementAndGet();
            } catch (SocketException e) {
                if (targetSocket.isClosed()) {
                    return;
                }
                targetFailure.compareAndSet(null, e.toString());
            } catch (IOException e) {
                targetFailure.compareAndSet(null, e.toString());
            }
        }
    }

    /** Waits until every accepted connection has ended in the proxy and at the target; fails on a target error. */
    private void awaitQuiet() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
        while (true) {
            if (targetFailure.get() != null) {
                throw new IllegalStateException("the target failed: " + targetFailure.get());
            }
            TunnelStats s = proxy.stats();
            if (served.get() >= s.routed() && s.liveTunnels() == 0 && s.pendingHandshakes() == 0
                    && s.closed(CloseReason.COMPLETED) + s.refusedTotal() >= s.accepted()) {
                return;
            }
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException("the proxy did not settle: " + s + ", target served " + served.get());
            }
            Thread.sleep(1);
        }
    }

    /** Reads to the end of the stream into {@code scratch}; returns how many bytes came. */
    private static long drain(InputStream in, byte[] scratch) throws IOException {
        long total = 0;
        for (int n; (n = in.read(scratch)) >= 0; ) {
            total += n;
        }
        return total;
    }

    private static void readFully(InputStream in, byte[] b) throws IOException {
        if (in.readNBytes(b, 0, b.length) != b.length) {
            throw new EOFException("the connection ended before " + b.length + " bytes");
        }
    }
}
