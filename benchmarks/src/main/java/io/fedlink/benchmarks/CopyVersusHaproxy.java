package io.fedlink.benchmarks;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.sni.SniProxy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Load harness: one bulk connection on loopback, sent straight to a sink, through HAProxy (TCP mode, started by
 * {@code haproxy-compare.sh}) and through the fedlink proxy, in alternating rounds of the same run. Prints MiB/s
 * and the ratios. Usage: {@code CopyVersusHaproxy <sinkPort> <haproxyPort> [rounds] [seconds]}.
 */
public final class CopyVersusHaproxy {
    private CopyVersusHaproxy() {}

    public static void main(String[] args) throws Exception {
        int sinkPort = Integer.parseInt(args[0]);
        int haproxyPort = Integer.parseInt(args[1]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        long nanos = (args.length > 3 ? Long.parseLong(args[3]) : 4) * 1_000_000_000L;
        ServerSocketChannel sink = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", sinkPort));
        Thread acceptor = new Thread(() -> {
            while (sink.isOpen()) {
                try {
                    SocketChannel s = sink.accept();
                    Thread reader = new Thread(() -> {
                        ByteBuffer b = ByteBuffer.allocateDirect(256 * 1024);
                        try (s) {
                            while (s.read(b) >= 0) {
                                b.clear();
                            }
                        } catch (Exception e) {
                            // connection ended
                        }
                    }, "sink");
                    reader.setDaemon(true);
                    reader.start();
                } catch (Exception e) {
                    return;
                }
            }
        }, "sink-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        byte[] hello = ClientHelloParserBenchmark.read("/hellos/curl.bin"); // SNI 10000.fate.org
        double[] sum = new double[3];
        String[] names = {"direct", "haproxy", "fedlink"};
        try (TunnelServer proxy = SniProxy.builder().bindLoopback(0).eventLoops(1).routes(RouteTable.builder()
                .add("10000.fate.org", Endpoint.of("127.0.0.1", sinkPort)).build()).start()) {
            int[] ports = {sinkPort, haproxyPort, proxy.localAddress().getPort()};
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < 3; i++) {
                    try (SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", ports[i]))) {
                        c.socket().setTcpNoDelay(true);
                        c.write(ByteBuffer.wrap(hello));
                        long start = System.nanoTime();
                        long bytes = 0;
                        while (System.nanoTime() - start < nanos) {
                            chunk.clear();
                            while (chunk.hasRemaining()) {
                                bytes += c.write(chunk);
                            }
                        }
                        double mibs = bytes / ((System.nanoTime() - start) / 1e9) / 1048576;
                        sum[i] += mibs;
                        System.out.printf("round %d  %-8s %8.0f MiB/s%n", round, names[i], mibs);
                    }
                }
            }
        }
        sink.close();
        System.out.printf("mean: direct %.0f, haproxy %.0f, fedlink %.0f MiB/s; fedlink/direct %.2f, "
                        + "haproxy/direct %.2f, fedlink/haproxy %.2f%n", sum[0] / rounds, sum[1] / rounds,
                sum[2] / rounds, sum[2] / sum[0], sum[1] / sum[0], sum[2] / sum[1]);
    }
}
