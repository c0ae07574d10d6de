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

    /**
     * A tunnel that ends in order (FIN both ways) passes each FIN on with one shutdown and closes its two sockets
     * without the JDK's pre-close (getsockopt SO_LINGER and a second shutdown per socket, made when a channel is
     * closed while still registered with a selector: 4 shutdown and 2 getsockopt calls per tunnel before); every
     * descriptor is released.
     */
    @Test
    void completedTunnelClosesWithoutPreClose() throws Exception {
        assumeTrue(straceWorks(), "strace cannot trace here");
        Loopback.Target echo = keep(Loopback.Target.echo());
        try (Forked f = Forked.start(dir, List.of(), "", "echo=" + echo.port())) {
            Path trace = dir.resolve("proxy.strace");
            Loopback.freshTunnel(f.address(), "a.example"); // classes loaded, files opened
            f.awaitStats("the first tunnel closed", st -> st.routed() == 1 && st.live() == 0);
            long descriptors = descriptors(f.process.pid());
            Process strace = attach(f.process.pid(), trace);
            try {
                byte[] hello = Hellos.jsse("a.example");
                for (int i = 0; i < TUNNELS; i++) {
                    try (Socket s = Loopback.connect(f.address())) {
                        s.getOutputStream().write(hello);
                        s.shutdownOutput();
                        assertArrayEquals(hello, Loopback.readAll(s.getInputStream()), "echoed through tunnel " + i);
                    }
                }
                f.awaitStats(TUNNELS + " tunnels closed", st -> st.routed() == TUNNELS + 1 && st.live() == 0);
                Loopback.await("the proxy's descriptors back to " + descriptors, 30,
                        () -> descriptors(f.process.pid()) <= descriptors);
            } finally {
                strace.destroy(); // strace detaches and writes what it saw
                strace.waitFor(30, TimeUnit.SECONDS);
            }
            List<String> calls = Files.readAllLines(trace);
            assertEquals(0, calls.stream().filter(l -> l.contains("SO_LINGER")).count(),
                    "getsockopt/setsockopt SO_LINGER calls for " + TUNNELS + " tunnels closed in order");
            assertEquals(2 * TUNNELS, calls.stream().filter(l -> l.contains("shutdown(")).count(),
                    "shutdown calls for " + TUNNELS + " tunnels (one FIN passed on each way)");
        }
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
