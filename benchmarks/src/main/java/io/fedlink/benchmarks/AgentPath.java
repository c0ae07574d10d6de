package io.fedlink.benchmarks;

import io.fedlink.api.AgentListenerConfig;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.sni.Agent;
import io.fedlink.sni.SniProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;

/**
 * Load harness for party agents: the forward path (proxy connects to the broker) and the agent path (the broker's
 * agent dialled out to the proxy and carries the tunnel) side by side, in alternating rounds of one run, to one
 * broker on 127.0.0.2. Prints, per path: bulk MiB/s (one connection, 1 MiB writes), the proxy's CPU per GB (event
 * loop threads, from the JVM's per-thread CPU time), the round trip p50/p99 of 1-byte ping-pongs on an open tunnel,
 * and new tunnels (connect, ClientHello, first answer byte) p50/p99. Usage: {@code AgentPath [rounds] [seconds]}.
 */
public final class AgentPath {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private AgentPath() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long nanos = (args.length > 1 ? Long.parseLong(args[1]) : 4) * 1_000_000_000L;
        InetAddress partyHost = InetAddress.getByName("127.0.0.2");
        ServerSocket broker = new ServerSocket(0, 1024, partyHost);
        Thread accept = new Thread(() -> serve(broker), "broker");
        accept.setDaemon(true);
        accept.start();
        Endpoint target = Endpoint.of("127.0.0.2", broker.getLocalPort());
        CertificateAuthority ca = CertificateAuthority.builder().commonName("bench CA").create();
        RouteTable routes = RouteTable.of(PartyRoute.of("10000.fate.org", target),
                PartyRoute.builder("10001.fate.org").agent("10001").build());
        try (TunnelServer proxy = SniProxy.builder().bindLoopback(0).eventLoops(1).routes(routes)
                .agents(AgentListenerConfig.builder(new InetSocketAddress("127.0.0.1", 0))
                        .tls(ReloadableTlsMaterial.of(ca.issue(CertificateRequest.server("proxy.fate.org")
                                .ip("127.0.0.1")).tlsMaterial())).partyDomain("fate.org").build()).start();
             Agent agent = Agent.builder().tls(ca.issue(CertificateRequest.party("10001", "fate.org"))
                     .tlsMaterial()).proxy(Endpoint.of("127.0.0.1", proxy.agentAddress().getPort())).target(target)
                     .pool(8).start()) {
            while (proxy.agents().isEmpty() || proxy.agents().get(0).pooled() < 8) {
                Thread.sleep(10);
            }
            InetSocketAddress at = proxy.localAddress();
            String[] names = {"forward", "agent"};
            byte[][] hellos = {ClientHelloParserBenchmark.read("/hellos/curl.bin"), hello("10001.fate.org")};
            double[][] bulk = new double[2][rounds];
            double[][] cpuPerGb = new double[2][rounds];
            long[][] rtt = new long[2][];
            long[][] fresh = new long[2][];
            for (int round = 0; round < rounds; round++) {
                for (int p = 0; p < 2; p++) {
                    long cpu0 = loopCpu();
                    long bytes = bulk(at, hellos[p], nanos);
                    double secs = nanos / 1e9;
                    bulk[p][round] = bytes / secs / 1048576;
                    cpuPerGb[p][round] = (loopCpu() - cpu0) / 1e9 / (bytes / 1e9);
                    rtt[p] = concat(rtt[p], pingPong(at, hellos[p], 2000));
                    fresh[p] = concat(fresh[p], newTunnels(at, hellos[p], 300));
                    System.out.printf("round %d %-7s bulk %6.0f MiB/s  proxy CPU %.3f s/GB%n", round, names[p],
                            bulk[p][round], cpuPerGb[p][round]);
                }
            }
            for (int p = 0; p < 2; p++) {
                Arrays.sort(rtt[p]);
                Arrays.sort(fresh[p]);
                System.out.printf("%-7s bulk mean %6.0f MiB/s, proxy CPU %.3f s/GB, round trip p50 %.1f p99 %.1f us,"
                                + " new tunnel p50 %.1f p99 %.1f us%n", names[p], mean(bulk[p]), mean(cpuPerGb[p]),
                        rtt[p][rtt[p].length / 2] / 1e3, rtt[p][rtt[p].length * 99 / 100] / 1e3,
                        fresh[p][fresh[p].length / 2] / 1e3, fresh[p][fresh[p].length * 99 / 100] / 1e3);
            }
            System.out.printf("agent/forward: bulk %.2f, proxy CPU per GB %.2f, round trip p50 +%.1f us,"
                            + " new tunnel p50 +%.1f us%n", mean(bulk[1]) / mean(bulk[0]),
                    mean(cpuPerGb[1]) / mean(cpuPerGb[0]), (rtt[1][rtt[1].length / 2] - rtt[0][rtt[0].length / 2])
                            / 1e3, (fresh[1][fresh[1].length / 2] - fresh[0][fresh[0].length / 2]) / 1e3);
        }
        broker.close();
    }

    /** The broker: reads the ClientHello record, answers one byte, then echoes (ping-pong) or sinks (bulk). */
    private static void serve(ServerSocket broker) {
        while (!broker.isClosed()) {
            try {
                Socket s = broker.accept();
                Thread t = new Thread(() -> {
                    try (s) {
                        s.setTcpNoDelay(true);
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        byte[] header = in.readNBytes(5);
                        in.readNBytes(((header[3] & 0xff) << 8) | (header[4] & 0xff));
                        out.write(1);
                        byte[] b = new byte[256 * 1024];
                        for (int n; (n = in.read(b)) > 0; ) {
                            if (n == 1) {
                                out.write(b, 0, 1); // ping-pong
                            }
                        }
                    } catch (Exception e) {
                        // ended
                    }
                }, "broker-conn");
                t.setDaemon(true);
                t.start();
            } catch (Exception e) {
                return;
            }
        }
    }

    private static byte[] hello(String name) throws Exception {
        byte[] curl = ClientHelloParserBenchmark.read("/hellos/curl.bin"); // names 10000.fate.org, same length
        String s = new String(curl, java.nio.charset.StandardCharsets.ISO_8859_1).replace("10000.fate.org", name);
        return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static Socket open(InetSocketAddress at, byte[] hello) throws Exception {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(at);
        s.getOutputStream().write(hello);
        if (s.getInputStream().read() != 1) {
            throw new IllegalStateException("no answer through the tunnel");
        }
        return s;
    }

    private static long bulk(InetSocketAddress at, byte[] hello, long nanos) throws Exception {
        try (Socket s = open(at, hello)) {
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[1 << 20];
            long start = System.nanoTime();
            long bytes = 0;
            while (System.nanoTime() - start < nanos) {
                out.write(chunk);
                bytes += chunk.length;
            }
            return bytes;
        }
    }

    private static long[] pingPong(InetSocketAddress at, byte[] hello, int n) throws Exception {
        long[] out = new long[n];
        try (Socket s = open(at, hello)) {
            OutputStream o = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < n; i++) {
                long t = System.nanoTime();
                o.write(7);
                if (in.read() < 0) {
                    throw new IllegalStateException("tunnel closed");
                }
                out[i] = System.nanoTime() - t;
            }
        }
        return out;
    }

    private static long[] newTunnels(InetSocketAddress at, byte[] hello, int n) throws Exception {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            try (Socket s = open(at, hello)) {
                out[i] = System.nanoTime() - t;
            }
        }
        return out;
    }

    /** CPU time of the proxy's event loop threads. */
    private static long loopCpu() {
        long sum = 0;
        for (ThreadInfo t : THREADS.dumpAllThreads(false, false)) {
            if (t.getThreadName().startsWith("fedlink-sni-loop")) {
                sum += THREADS.getThreadCpuTime(t.getThreadId());
            }
        }
        return sum;
    }

    private static long[] concat(long[] a, long[] b) {
        if (a == null) {
            return b;
        }
        long[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(0);
    }
}
