package io.fedlink.benchmarks;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.sni.SniProxy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bulk throughput of one connection on loopback, straight to a sink ({@code direct}) or through the SNI proxy
 * ({@code proxy}), in the same run. One op sends 1 MiB; ops/s equals MiB/s. Target: proxy at least 0.9x direct.
 * The sink is a thread that reads and discards into a 256 KiB direct buffer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class CopyThroughputBenchmark {
    @Param({"direct", "proxy"})
    public String path;

    /** The proxy's copy-buffer size in KiB. */
    @Param({"16", "64"})
    public int bufferKiB;

    private ServerSocketChannel sink;
    private Thread sinkThread;
    private TunnelServer proxy;
    private SocketChannel client;
    private final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        sink = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        sinkThread = new Thread(() -> {
            try (SocketChannel s = sink.accept()) {
                ByteBuffer b = ByteBuffer.allocateDirect(256 * 1024);
                while (s.read(b) >= 0) {
                    b.clear();
                }
            } catch (IOException e) {
                // closed at tear-down
            }
        }, "sink");
        sinkThread.setDaemon(true);
        sinkThread.start();
        InetSocketAddress target = (InetSocketAddress) sink.getLocalAddress();
        InetSocketAddress connectTo = target;
        if (path.equals("proxy")) {
            // The captured curl hello below names 10000.fate.org.
            proxy = SniProxy.builder().bindLoopback(0).eventLoops(1).bufferSize(bufferKiB * 1024).routes(RouteTable.builder()
                    .add("10000.fate.org", Endpoint.of("127.0.0.1", target.getPort())).build()).start();
            connectTo = proxy.localAddress();
        }
        client = SocketChannel.open(connectTo);
        client.socket().setTcpNoDelay(true);
        byte[] hello = ClientHelloParserBenchmark.read("/hellos/curl.bin");
        client.write(ByteBuffer.wrap(hello));
        while (chunk.hasRemaining()) {
            chunk.put((byte) chunk.position());
        }
    }

    /** Sends 1 MiB. */
    @Benchmark
    public int sendMebibyte() throws IOException {
        chunk.clear();
        int n = 0;
        while (chunk.hasRemaining()) {
            n += client.write(chunk);
        }
        return n;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close();
        if (proxy != null) {
            proxy.close();
        }
        sink.close();
        sinkThread.join(5000);
    }
}
