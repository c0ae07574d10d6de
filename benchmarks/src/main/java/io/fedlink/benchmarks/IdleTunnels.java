package io.fedlink.benchmarks;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.sni.SniProxy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Load harness: N idle tunnels through the proxy. Shows that the direct-buffer pool stays flat (idle tunnels hold
 * no copy buffer) and what one idle tunnel costs in heap.
 *
 * <p>The proxy runs in this JVM; the clients and the target run in a child JVM, so each process stays under the
 * open-file limit (the proxy needs two descriptors per tunnel). Usage: {@code IdleTunnels [n]} (default 9,000).
 */
public final class IdleTunnels {
    private IdleTunnels() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--peer")) {
            peer(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            return;
        }
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 9_000;
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        TunnelServer proxy = SniProxy.builder().bindLoopback(0).eventLoops(2).maxTunnels(n + 10)
                .maxPendingHandshakes(n + 10).routes(RouteTable.empty()).start();
        long heapBefore = settledHeap();
        long directBefore = direct.getMemoryUsed();
        long directCountBefore = direct.getCount();

        Process peer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), IdleTunnels.class.getName(), "--peer",
                String.valueOf(n), String.valueOf(proxy.localAddress().getPort())).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader fromPeer = new BufferedReader(new InputStreamReader(peer.getInputStream(),
                StandardCharsets.US_ASCII));
        int targetPort = Integer.parseInt(fromPeer.readLine().strip());
        proxy.routes(RouteTable.builder().add("*.fate.org", Endpoint.of("127.0.0.1", targetPort)).build());
        peer.getOutputStream().write('\n'); // go
        peer.getOutputStream().flush();
        String done = fromPeer.readLine();
        long start = System.nanoTime();
        while (proxy.stats().liveTunnels() < n && System.nanoTime() - start < 120_000_000_000L) {
            Thread.sleep(50);
        }
        long live = proxy.stats().liveTunnels();
        long heapAfter = settledHeap();
        long directAfter = direct.getMemoryUsed();
        System.out.printf("peer: %s%n", done);
        System.out.printf("idle tunnels: %d%n", live);
        System.out.printf("direct buffers: %d bytes in %d buffers before, %d bytes in %d buffers with %d idle tunnels"
                + " (delta %d bytes)%n", directBefore, directCountBefore, directAfter, direct.getCount(), live,
                directAfter - directBefore);
        System.out.printf("heap: %.1f MiB before, %.1f MiB after; %.0f bytes per idle tunnel%n",
                heapBefore / 1048576.0, heapAfter / 1048576.0, (heapAfter - heapBefore) / (double) Math.max(1, live));
        peer.getOutputStream().close();
        peer.waitFor();
        proxy.close();
    }

    private static long settledHeap() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
            Runtime rt = Runtime.getRuntime();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    /** The child: a target that accepts and holds, and n clients that each send one hello and go idle. */
    private static void peer(int n, int proxyPort) throws Exception {
        ServerSocketChannel target = ServerSocketChannel.open().bind(new InetSocketAddress(
                InetAddress.getLoopbackAddress(), 0), 4096);
        System.out.println(((InetSocketAddress) target.getLocalAddress()).getPort());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        in.readLine();
        List<SocketChannel> held = new ArrayList<>();
        Thread acceptor = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    held.add(target.accept());
                }
            } catch (Exception e) {
                e.printStackTrace();
            }
        });
        acceptor.start();
        byte[] hello = ClientHelloParserBenchmark.read("/hellos/curl.bin"); // SNI 10000.fate.org
        List<SocketChannel> clients = new ArrayList<>();
        InetSocketAddress proxy = new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort);
        for (int i = 0; i < n; i++) {
            SocketChannel c = SocketChannel.open(proxy);
            c.write(ByteBuffer.wrap(hello));
            clients.add(c);
        }
        acceptor.join();
        System.out.println(n + " clients connected, " + held.size() + " accepted at the target");
        System.out.flush();
        in.readLine(); // until the parent closes stdin
        for (SocketChannel c : clients) {
            c.close();
        }
    }
}
