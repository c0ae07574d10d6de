package io.fedlink.benchmarks;

import com.sun.net.httpserver.HttpServer;
import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.metrics.MetricsServer;
import io.fedlink.metrics.ProxyMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Load harness: {@code /healthz} latency while N clients hold half-sent requests open against the same port, for the
 * old metrics server (the JDK {@code HttpServer} with 4 threads and the 10 s request limit that {@code fedlink proxy}
 * set) and the current {@link MetricsServer} ({@link BoundedHttpServer}), in the same run.
 *
 * <p>The half requests come from 50 loopback addresses (127.0.0.2 on, under the per-source cap, as 50 slow
 * clients would) and are kept at N: one the server cuts is opened again at once. Probes are sequential
 * {@code GET /healthz} from 127.0.0.1, each with a deadline; one past it counts as a timeout at the deadline. The
 * process needs about 2N + 100 open files. Usage: {@code HealthUnderHalfRequests [n] [probes] [deadline-ms]}
 * (default 1,000, 400, 1,000).
 */
public final class HealthUnderHalfRequests {
    private static final byte[] HALF = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            .getBytes(StandardCharsets.US_ASCII);
    private static final int SOURCES = 50;

    private HealthUnderHalfRequests() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int probes = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        Duration deadline = Duration.ofMillis(args.length > 2 ? Long.parseLong(args[2]) : 1000);
        System.out.printf("/healthz under %d half requests from %d addresses; %d probes, deadline %d ms%n", n,
                SOURCES, probes, deadline.toMillis());

        System.setProperty("sun.net.httpserver.maxReqTime", "10"); // as fedlink proxy set it for the JDK server
        System.setProperty("sun.net.httpserver.maxRspTime", "10");
        HttpServer jdk = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        ExecutorService four = Executors.newFixedThreadPool(4);
        jdk.setExecutor(four);
        jdk.createContext("/healthz", ex -> {
            byte[] ok = "ok\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, ok.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(ok);
            }
        });
        jdk.start();
        run("before (JDK HttpServer, 4 threads)", jdk.getAddress(), n, Math.min(probes, 20), deadline);
        jdk.stop(0);
        four.shutdownNow();

        MetricsServer bounded = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0),
                ProxyMetrics.watching(new RouteHolder(RouteTable.empty())));
        run("after (BoundedHttpServer)", bounded.address(), 0, probes, deadline);
        run("after (BoundedHttpServer)", bounded.address(), n, probes, deadline);
        bounded.close();
    }

    private static void run(String what, InetSocketAddress at, int n, int probes, Duration deadline)
            throws Exception {
        try (Load load = new Load(at, n)) {
            load.awaitOpen();
            long[] micros = new long[probes];
            int timeouts = 0;
            int failures = 0;
            for (int i = 0; i < probes; i++) {
                long start = System.nanoTime();
                try {
                    BoundedHttpServer.Answer a = BoundedHttpServer.exchange(at, "GET /healthz HTTP/1.1\r\nHost:"
                            + " 127.0.0.1\r\nConnection: close\r\n\r\n", deadline, 4096);
                    failures += a.status() == 200 ? 0 : 1;
                    micros[i] = (System.nanoTime() - start) / 1000;
                } catch (IOException e) {
                    timeouts++;
                    micros[i] = deadline.toMillis() * 1000;
                }
            }
            Arrays.sort(micros);
            System.out.printf("%-36s %5d half requests (%d reopened): p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms"
                    + "  timeouts %d/%d  non-200 %d%n", what, n, load.reopened, micros[probes / 2] / 1000.0,
                    micros[Math.min(probes - 1, (int) Math.ceil(probes * 0.99) - 1)] / 1000.0,
                    micros[probes - 1] / 1000.0, timeouts, probes, failures);
        }
    }

    /** Keeps {@code n} half requests open: one the server answers or closes is replaced at once. */
    private static final class Load implements Runnable, AutoCloseable {
        private final InetSocketAddress at;
        private final int n;
        private final Selector selector = Selector.open();
        private final Thread thread = new Thread(this, "half-requests");
        private volatile boolean open = true;
        private volatile boolean ready;
        volatile int reopened;
        private int next;

        Load(InetSocketAddress at, int n) throws IOException {
            this.at = at;
            this.n = n;
            thread.setDaemon(true);
            thread.start();
        }

        private void openOne() throws IOException {
            SocketChannel ch = SocketChannel.open();
            int source = next++ % SOURCES;
            ch.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (2 + source)}), 0));
            ch.connect(at);
            ch.write(ByteBuffer.wrap(HALF));
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
        }

        void awaitOpen() throws InterruptedException {
            while (!ready) {
                Thread.sleep(10);
            }
        }

        @Override
        public void run() {
            ByteBuffer sink = ByteBuffer.allocate(4096);
            try {
                for (int i = 0; i < n; i++) {
                    openOne();
                }
                ready = true;
                while (open) {
                    selector.select(100);
                    for (SelectionKey k : selector.selectedKeys()) {
                        SocketChannel ch = (SocketChannel) k.channel();
                        int r;
                        try {
                            r = ch.read(sink.clear());
                        } catch (IOException e) {
                            r = -1;
                        }
                        if (r < 0) { // cut by the server: replace it
                            k.cancel();
                            ch.close();
                            openOne();
                            reopened++;
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException e) {
                ready = true;
                throw new IllegalStateException("half requests: " + e, e);
            }
        }

        @Override
        public void close() throws IOException {
            open = false;
            selector.wakeup();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
            selector.close();
        }
    }
}
