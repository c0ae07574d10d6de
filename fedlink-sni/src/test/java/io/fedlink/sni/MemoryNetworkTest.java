package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The memory network itself, and the in-memory transport under concurrent clients. */
class MemoryNetworkTest {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(Loopback.LOOPBACK, 0);

    static String threads() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            String n = e.getKey().getName();
            if (n.startsWith("fedlink") || n.startsWith("test-") || n.startsWith("rt-")) {
                b.append('\n').append(n).append(' ').append(e.getKey().getState());
                for (StackTraceElement s : e.getValue()) {
                    b.append("\n    ").append(s);
                }
            }
        }
        return b.toString();
    }

    @Test
    void concurrentRoundTripsLoseNoWakeUp() throws Exception {
        MemoryNetwork net = new MemoryNetwork();
        try (Loopback.Target echo = new Loopback.Target(net.listen(ANY_LOOPBACK), Loopback.Target.ECHO);
             TunnelServer p = net.start(SniProxy.builder().bindLoopback(0).eventLoops(2)
                     .routes(RouteTable.builder().add("a.example", echo.endpoint()).build()).build())) {
            byte[] hello = Hellos.jsse("a.example");
            AtomicInteger done = new AtomicInteger();
            List<CompletableFuture<Void>> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                clients.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 500; i++) {
                        try (Socket s = net.connect(p.localAddress())) {
                            s.setSoTimeout(5_000);
                            s.getOutputStream().write(hello);
                            byte[] back = new byte[hello.length];
                            new DataInputStream(s.getInputStream()).readFully(back);
                            assertArrayEquals(hello, back);
                            done.incrementAndGet();
                        } catch (IOException e) {
                            throw new AssertionError("round trip " + i + " failed: " + e + threads(), e);
                        }
                    }
                }));
            }
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            assertEquals(2000, done.get());
            Loopback.await("every tunnel closed", 10, () -> p.stats().liveTunnels() == 0);
            assertTrue(p.stats().refusedTotal() == 0, p.stats().refused().toString());
        }
    }

    /**
     * Threads waiting in accept on two listeners do not wake each other: an accept once woke every waiter of the
     * network, which woke it back, and two idle targets kept a core busy (and the network's lock from the proxy).
     */
    @Test
    void idleAcceptsDoNotWakeEachOther() throws Exception {
        MemoryNetwork net = new MemoryNetwork();
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        try (java.net.ServerSocket a = net.listen(ANY_LOOPBACK); java.net.ServerSocket b = net.listen(ANY_LOOPBACK)) {
            List<Thread> acceptors = new ArrayList<>();
            for (java.net.ServerSocket ss : List.of(a, b)) {
                Thread t = new Thread(() -> {
                    try {
                        while (true) {
                            ss.accept().close();
                        }
                    } catch (IOException e) {
                        // closed
                    }
                }, "test-acceptor");
                t.start();
                acceptors.add(t);
            }
            net.connect(new InetSocketAddress(Loopback.LOOPBACK, a.getLocalPort())).close();
            Loopback.await("both waiting in accept", 10, () -> acceptors.stream()
                    .allMatch(t -> t.getState() == Thread.State.WAITING));
            long before = acceptors.stream().mapToLong(t -> cpu.getThreadCpuTime(t.getId())).sum();
            Thread.sleep(300); // the window in which idle threads must stay asleep (measured in CPU, not asserted in time)
            long used = acceptors.stream().mapToLong(t -> cpu.getThreadCpuTime(t.getId())).sum() - before;
            assertTrue(used < 100_000_000L, "idle accepts used " + used / 1_000_000 + " ms of CPU in 300 ms");
            assertTrue(acceptors.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        }
    }
}
