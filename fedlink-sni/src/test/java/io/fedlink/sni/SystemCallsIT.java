package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fedlink.sni.HostileLoadIT.Forked;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system calls a tunnel costs, counted by strace attached to a proxy in its own JVM ({@link ForkedProxy}):
 * skipped where strace is missing or may not trace. Calls are counted by name, so the figures do not depend on
 * timing or load.
 */
class SystemCallsIT extends ProxyFixture {
    private static final int TUNNELS = 40;

    @TempDir
    Path dir;
    private Forked proxy; // the proxy being traced

    /**
     * A tunnel that ends in order (FIN both ways) passes each FIN on with one shutdown and closes its two sockets
     * without the JDK's pre-close (getsockopt SO_LINGER and a second shutdown per socket, made when a channel is
     * closed while still registered with a selector: 4 shutdown and 2 getsockopt calls per tunnel before); every
     * descriptor is released.
     */
    @Test
    void completedTunnelClosesWithoutPreClose() throws Exception {
        byte[] hello = Hellos.jsse("a.example");
        List<String> calls = traced(TUNNELS + 1, () -> {
            for (int i = 0; i < TUNNELS; i++) {
                try (Socket s = Loopback.connect(proxy.address())) {
                    s.getOutputStream().write(hello);
                    s.shutdownOutput();
                    assertArrayEquals(hello, Loopback.readAll(s.getInputStream()), "echoed through tunnel " + i);
                }
            }
        });
        assertEquals(0, count(calls, "SO_LINGER"), "SO_LINGER calls for " + TUNNELS + " tunnels closed in order");
        assertEquals(2 * TUNNELS, count(calls, "shutdown("),
                "shutdown calls for " + TUNNELS + " tunnels (one FIN passed on each way)");
    }

    /**
     * A refused connection hears its alert, then a FIN from one shutdown (before: getsockopt SO_LINGER, then the
     * JDK's shutdown), and its descriptor is released.
     */
    @Test
    void refusalSendsAlertAndFinWithOneShutdown() throws Exception {
        byte[] hello = Hellos.jsse("unknown.example");
        List<String> calls = traced(1, () -> {
            for (int i = 0; i < TUNNELS; i++) {
                try (Socket s = Loopback.connect(proxy.address())) {
                    s.getOutputStream().write(hello);
                    assertArrayEquals(new byte[] {21, 3, 3, 0, 2, 2, 112}, Loopback.readAll(s.getInputStream()),
                            "alert unrecognized_name, then EOF, for connection " + i);
                }
            }
            proxy.awaitStats(TUNNELS + " refused", st -> st.refused() == TUNNELS);
        });
        assertEquals(0, count(calls, "SO_LINGER"), "SO_LINGER calls for " + TUNNELS + " refusals");
        assertEquals(TUNNELS, count(calls, "shutdown("), "shutdown calls for " + TUNNELS + " refusals");
    }

    /** What runs while strace counts. */
    private interface Work {
        void run() throws Exception;
    }

    /**
     * Starts a forked proxy routing {@code a.example} to an echo target, opens one tunnel (classes loaded, files
     * opened), attaches strace, runs {@code work}, waits for {@code routed} tunnels routed and none open and for the
     * proxy's descriptors to be back where they were, and returns the traced calls.
     */
    private List<String> traced(int routed, Work work) throws Exception {
        assumeTrue(straceWorks(), "strace cannot trace here");
        Loopback.Target echo = keep(Loopback.Target.echo());
        try (Forked f = Forked.start(dir, List.of(), "", "echo=" + echo.port())) {
            proxy = f;
            Path trace = dir.resolve("proxy.strace");
            Loopback.freshTunnel(f.address(), "a.example");
            f.awaitStats("the first tunnel closed", st -> st.routed() == 1 && st.live() == 0);
            long descriptors = descriptors(f.process.pid());
            Process strace = attach(f.process.pid(), trace);
            try {
                work.run();
                f.awaitStats(routed + " tunnels routed, none open", st -> st.routed() == routed && st.live() == 0);
                Loopback.await("the proxy's descriptors back to " + descriptors, 30,
                        () -> descriptors(f.process.pid()) <= descriptors);
            } finally {
                strace.destroy(); // strace detaches and writes what it saw
                strace.waitFor(30, TimeUnit.SECONDS);
            }
            return Files.readAllLines(trace);
        }
    }

    private static long count(List<String> calls, String text) {
        return calls.stream().filter(l -> l.contains(text)).count();
    }

    private static boolean straceWorks() {
        try {
            Process p = new ProcessBuilder("strace", "-o", "/dev/null", "true").redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** strace following every thread of {@code pid}, once it says it is attached. */
    private static Process attach(long pid, Path out) throws IOException {
        Process p = new ProcessBuilder("strace", "-f", "-p", Long.toString(pid), "-o", out.toString(),
                "-e", "trace=shutdown,getsockopt,setsockopt").redirectErrorStream(true).start();
        BufferedReader said = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = said.readLine()) != null; ) {
            if (line.contains("attached")) {
                return p;
            }
        }
        throw new IOException("strace ended without attaching to " + pid);
    }

    private static long descriptors(long pid) {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}
