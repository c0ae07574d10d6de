package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelStats;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A proxy in its own JVM for the attacks that hurt a whole process (direct memory, descriptors, a stalled log
 * sink). Arguments are {@code key=value}: {@code echo} (port of the loopback echo target routed for
 * {@code a.example}), {@code perClient}, {@code pending}, {@code helloMs}, {@code bufferMemory}. It prints
 * {@code PORT n}, then a {@code STATS} line every 100 ms, and exits when its standard input closes.
 */
final class ForkedProxy {
    private ForkedProxy() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            a.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        TunnelServer p = SniProxy.builder().bindLoopback(0).eventLoops(2)
                .routes(RouteTable.builder().add("a.example", Endpoint.of("127.0.0.1",
                        Integer.parseInt(a.get("echo")))).build())
                .maxHandshakesPerClient(Integer.parseInt(a.getOrDefault("perClient", "100")))
                .maxPendingHandshakes(Integer.parseInt(a.getOrDefault("pending", "1000")))
                .helloTimeout(Duration.ofMillis(Long.parseLong(a.getOrDefault("helloMs", "10000"))))
                .maxBufferMemory(Long.parseLong(a.getOrDefault("bufferMemory", "0")))
                .start();
        System.out.println("PORT " + p.localAddress().getPort());
        System.out.flush();
        Thread stats = new Thread(() -> {
            while (true) {
                TunnelStats s = p.stats();
                System.out.println("STATS pending=" + s.pendingHandshakes() + " live=" + s.liveTunnels() + " routed="
                        + s.routed() + " refused=" + s.refusedTotal() + " ready=" + p.ready());
                System.out.flush();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "stats");
        stats.setDaemon(true);
        stats.start();
        InputStream in = System.in;
        try {
            while (in.read() >= 0) {
                // wait for the parent to close our stdin
            }
        } catch (IOException e) {
            // parent gone
        }
        System.exit(0);
    }
}
