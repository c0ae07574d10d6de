package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.NameResolver;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8: the proxy as a whole process under hostile load on loopback. Each test reproduces one finding, and after
 * every attack a fresh 1 MiB tunnel must still pass with SHA-256 equality. Attacks that hurt a whole JVM (direct
 * memory, descriptors, a stalled log sink) run the proxy in a forked JVM ({@link ForkedProxy}); the measurements
 * they print ({@code MEASURE ...}) feed the before/after table. The attacks on the connection core run in
 * memory too ({@link HostileLoadInMemoryIT}); those on the process or the NIO selector need real sockets.
 */
class HostileLoadIT extends ProxyFixture {
    @TempDir
    Path dir;


    private List<Socket> attackers(InetSocketAddress proxy, int n, byte[] firstBytes) throws IOException {
        List<Socket> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket s = keep(net.connect(proxy));
            if (firstBytes.length > 0) {
                s.getOutputStream().write(firstBytes);
            }
            out.add(s);
        }
        return out;
    }

    private static void closeAll(List<Socket> sockets) throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
    }

    // ---- finding 1: a Throwable in a loop ------------------------------------------------------------------------

    /** An Error while serving one connection closes that connection, counted; the loop goes on serving. */
    @Test
    void anErrorServingOneConnectionSparesTheLoop() throws Exception {
        Loopback.Target echo = keep(net.echo());
        AtomicBoolean thrown = new AtomicBoolean();
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.listener(new TunnelListener() {
                    @Override
                    public void tunnelOpened(Tunnel t) {
                        if (thrown.compareAndSet(false, true)) {
                            throw new OutOfMemoryError("Cannot reserve 16384 bytes of direct buffer memory (test)");
                        }
                    }
                }));
        try (Socket s = net.connect(p.localAddress())) {
            s.getOutputStream().write(Hellos.jsse("a.example"));
            s.getInputStream().readAllBytes();
        } catch (java.net.SocketException e) {
            // reset by the proxy: the failed tunnel is closed abortively
        }
        Loopback.await("the failure counted", 10, () -> p.stats().liveTunnels() == 0);
        for (int i = 0; i < 4; i++) { // the kernel spreads them over both loops' sockets: both must still serve
            net.freshTunnel(p.localAddress(), "a.example");
        }
        assertTrue(p.ready());
    }

    /** If a loop thread dies anyway, the server stops accepting and reports not ready. */
    @Test
    void aDeadLoopStopsAcceptingAndReportsNotReady() throws Exception {
        net.assumeReal("it closes an event loop's selector");
        Loopback.Target echo = keep(Loopback.Target.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(), b -> { });
        assertTrue(p.ready());
        var loops = LoopServer.class.getDeclaredField("loops");
        loops.setAccessible(true);
        var selector = EventLoop.class.getDeclaredField("selector");
        selector.setAccessible(true);
        ((Selector) selector.get(((Object[]) loops.get(p))[0])).close(); // the loop's next select fails for good
        Loopback.await("not ready", 10, () -> !p.ready());
        assertThrowsOnConnect(p.localAddress());
    }

    private static void assertThrowsOnConnect(InetSocketAddress proxy) {
        try (Socket s = new Socket()) {
            s.connect(proxy, 2_000);
            s.setSoTimeout(5_000);
            s.getOutputStream().write(Hellos.jsse("a.example"));
            assertEquals(-1, s.getInputStream().read(), "a dead server must not keep accepting");
        } catch (IOException e) {
            // refused: not accepting
        }
    }

    /** Direct memory runs out in a forked JVM: before, both loops died with OutOfMemoryError. */
    @Test
    void directMemoryExhaustionAppliesBackpressure() throws Exception {
        net.assumeReal("a forked proxy process");
        Loopback.Target echo = keep(Loopback.Target.echo());
        try (Forked f = Forked.start(dir, List.of("-XX:MaxDirectMemorySize=2m"), "", "echo=" + echo.port(),
                "perClient=10000", "pending=10000", "helloMs=3000")) {
            List<Socket> attack = attackers(f.address(), 300, Arrays.copyOf(Hellos.jsse("a.example"), 5));
            f.awaitStats("300 accepted", s -> s.pending() + s.refused() >= 300);
            Thread.sleep(500); // let the loops read what the attackers sent (measurement only)
            long errors = f.logLines("OutOfMemoryError");
            System.out.printf("MEASURE oom: rssKiB=%d oomLogLines=%d ready=%s%n", f.rssKiB(), errors,
                    f.last().ready());
            closeAll(attack);
            f.awaitStats("attack reaped", s -> s.pending() == 0);
            Loopback.freshTunnel(f.address(), "a.example");
            assertEquals(0, errors, "no OutOfMemoryError reached the log");
        }
    }

    // ---- finding 2: EMFILE --------------------------------------------------------------------------------------

    /** Out of descriptors in a forked JVM: each loop's accept backs off (low CPU, few log lines) and recovers. */
    @Test
    void outOfDescriptorsBacksOffAndRecovers() throws Exception {
        net.assumeReal("a forked proxy process");
        Loopback.Target echo = keep(Loopback.Target.echo());
        try (Forked f = Forked.start(dir, List.of(), "ulimit -n 96 && ", "echo=" + echo.port(), "perClient=10000",
                "pending=10000", "helloMs=60000")) {
            // Warm up first: this JVM loads classes from a directory, one descriptor per class file, and a class whose
            // initialisation fails for want of a descriptor stays broken (a packaged jar is opened once).
            Loopback.freshTunnel(f.address(), "a.example");
            new Socket(InetAddress.getLoopbackAddress(), f.port).close();
            f.awaitStats("the warm-up refusal", s -> s.refused() == 1);
            List<Socket> attack = attackers(f.address(), 200, new byte[0]);
            f.awaitLog("the first accept failure", "accept");
            long cpu0 = f.cpuMillis();
            long lines0 = f.logLines("accept");
            long t0 = System.nanoTime();
            Thread.sleep(2_000); // the measurement window: what the process does while descriptors are exhausted
            long wall = (System.nanoTime() - t0) / 1_000_000;
            long cpu = f.cpuMillis() - cpu0;
            long lines = f.logLines("accept") - lines0;
            System.out.printf("MEASURE emfile: cpuPercent=%d acceptLogLinesIn2s=%d rssKiB=%d%n", 100 * cpu / wall,
                    lines, f.rssKiB());
            closeAll(attack);
            Loopback.await("recovery: a fresh 1 MiB tunnel passes", 30, () -> passes(f.address()));
            assertTrue(lines <= 10, lines + " accept log lines in 2 s");
            assertTrue(cpu < wall / 2, "a loop spins on accept: " + cpu + " ms CPU in " + wall + " ms");
        }
    }

    /** Whether a fresh tunnel passes now (a client shed while descriptors are still short fails, and retries). */
    private static boolean passes(InetSocketAddress proxy) {
        try {
            Loopback.freshTunnel(proxy, "a.example");
            return true;
        } catch (Exception | AssertionError e) {
            return false;
        }
    }

    // ---- finding 3: a stalled resolver ---------------------------------------------------------------------------

    /** Lookups that never answer are bounded: IP routes work during the attack, other names right after it. */
    @Test
    void aStalledNameServerStarvesNobody() throws Exception {
        Loopback.Target echo = keep(net.echo());
        CountDownLatch never = new CountDownLatch(1);
        keep(never::countDown);
        NameResolver names = host -> {
            if (host.equals("good.internal")) {
                return InetAddress.getLoopbackAddress();
            }
            if (host.endsWith(".stall.internal")) {
                try {
                    never.await(); // a name server that never answers
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            throw new UnknownHostException(host);
        };
        TunnelServer p = proxy(RouteTable.builder()
                .add(PartyRoute.builder("*.stall.example").target("$1.stall.internal", echo.port()).build())
                .add("good.example", io.fedlink.api.Endpoint.of("good.internal", echo.port()))
                .add("ip.example", echo.endpoint()).build(),
                b -> b.resolver(names).connectTimeout(Duration.ofSeconds(1)).helloTimeout(Duration.ofSeconds(2))
                        .maxHandshakesPerClient(10_000).maxPendingHandshakes(10_000));
        List<Socket> attack = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            attack.addAll(attackers(p.localAddress(), 1, Hellos.jsse("n" + i + ".stall.example")));
        }
        net.freshTunnel(p.localAddress(), "ip.example"); // during the attack
        Loopback.await("attack refused", 20, () -> p.stats().pendingHandshakes() == 0);
        closeAll(attack);
        int good = 0;
        for (int i = 0; i < 8; i++) {
            try {
                net.freshTunnel(p.localAddress(), "good.example");
                good++;
            } catch (AssertionError | IOException e) {
                // counted below
            }
        }
        System.out.printf("MEASURE resolver: goodAfterAttack=%d/8 refused=%s%n", good, p.stats().refused());
        assertEquals(8, good, "DNS-named route after the attack");
    }

    // ---- finding 4: the tunnel limit -------------------------------------------------------------------------------

    /** Connections still in their hello phase never push the live tunnels past maxTunnels. */
    @Test
    void theTunnelLimitHoldsWithManyPendingHellos() throws Exception {
        Loopback.Target echo = keep(net.echo());
        AtomicInteger open = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.maxTunnels(5).listener(new TunnelListener() {
                    @Override
                    public void tunnelOpened(Tunnel t) {
                        most.accumulateAndGet(open.incrementAndGet(), Math::max);
                    }

                    @Override
                    public void tunnelClosed(Tunnel t) {
                        open.decrementAndGet();
                    }
                }));
        byte[] h = Hellos.jsse("a.example");
        List<Socket> clients = attackers(p.localAddress(), 40, Arrays.copyOf(h, 10));
        Loopback.await("40 pending hellos", 10, () -> p.stats().pendingHandshakes() == 40);
        for (Socket s : clients) {
            s.getOutputStream().write(h, 10, h.length - 10);
        }
        Loopback.await("every hello handled", 10, () -> p.stats().routed() + p.stats().refusedTotal() == 40);
        System.out.printf("MEASURE tunnels: mostLive=%d limit=5 refusedTunnelLimit=%d%n", most.get(),
                p.stats().refused(RefusalReason.TUNNEL_LIMIT));
        assertTrue(most.get() <= 5, most.get() + " live tunnels over a limit of 5");
        assertEquals(35, p.stats().refused(RefusalReason.TUNNEL_LIMIT));
        closeAll(clients);
        Loopback.await("tunnels closed", 10, () -> p.stats().liveTunnels() == 0);
        net.freshTunnel(p.localAddress(), "a.example");
    }

    // ---- finding 7: a stalled log sink ---------------------------------------------------------------------------

    /** With the proxy's stderr never read, tunnels keep flowing (log events are dropped, counted). */
    @Test
    void aStalledLogSinkDoesNotFreezeTheProxy() throws Exception {
        net.assumeReal("a forked proxy process");
        Loopback.Target echo = keep(Loopback.Target.echo());
        try (Forked f = Forked.startUnreadStderr(dir, "echo=" + echo.port())) {
            byte[] h = Hellos.jsse("a.example");
            int done = 0;
            for (int i = 0; i < 1500; i++) {
                try (Socket s = new Socket()) {
                    s.connect(f.address(), 5_000);
                    s.setSoTimeout(5_000);
                    s.getOutputStream().write(h);
                    s.shutdownOutput();
                    if (s.getInputStream().readAllBytes().length != h.length) {
                        break;
                    }
                    done++;
                } catch (IOException e) {
                    break;
                }
            }
            System.out.printf("MEASURE logsink: tunnelsBeforeFreeze=%d/1500%n", done);
            assertEquals(1500, done, "the proxy froze after " + done + " tunnels");
            Loopback.freshTunnel(f.address(), "a.example");
        }
    }

    // ---- finding 8: one address floods ---------------------------------------------------------------------------

    /** A flood from 127.0.0.1 within the hello limit leaves room for clients from 127.0.0.2. */
    @Test
    void aFloodFromOneAddressDoesNotStarveOthers() throws Exception {
        Loopback.Target echo = keep(net.echo());
        TunnelServer p = proxy(RouteTable.builder().add("a.example", echo.endpoint()).build(),
                b -> b.maxPendingHandshakes(200));
        List<Socket> flood = attackers(p.localAddress(), 200, new byte[] {22});
        Loopback.await("flood accepted", 10, () -> p.stats().accepted() == 200);
        InetAddress other = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
        byte[] h = Hellos.jsse("a.example");
        int ok = 0;
        for (int i = 0; i < 20; i++) {
            try (Socket s = net.connect(p.localAddress(), other)) {
                s.getOutputStream().write(h);
                s.shutdownOutput();
                if (s.getInputStream().readAllBytes().length == h.length) {
                    ok++;
                }
            }
        }
        System.out.printf("MEASURE flood: legitimate=%d/20 refused=%s%n", ok, p.stats().refused());
        assertEquals(20, ok, "legitimate clients from another address");
        closeAll(flood);
        Loopback.await("flood reaped", 10, () -> p.stats().pendingHandshakes() == 0);
        net.freshTunnel(p.localAddress(), "a.example");
    }

    // ---- the forked proxy ------------------------------------------------------------------------------------------

    /** What a STATS line said. */
    record Stats(long pending, long live, long routed, long refused, boolean ready) {
        static Stats parse(String line) {
            String[] f = line.split(" ");
            return new Stats(value(f[1]), value(f[2]), value(f[3]), value(f[4]),
                    Boolean.parseBoolean(f[5].substring(f[5].indexOf('=') + 1)));
        }

        private static long value(String kv) {
            return Long.parseLong(kv.substring(kv.indexOf('=') + 1));
        }
    }

    /** A {@link ForkedProxy} process: class path from this JVM, stderr to a file (or a pipe nobody reads). */
    static final class Forked implements AutoCloseable {
        final Process process;
        final Path stderr;
        final int port;
        volatile Stats last = new Stats(0, 0, 0, 0, true);

        private Forked(Process process, Path stderr) throws IOException, InterruptedException {
            this.process = process;
            this.stderr = stderr;
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = out.readLine();
            assertTrue(first != null && first.startsWith("PORT "), "forked proxy said " + first + "; log "
                    + (stderr == null ? "" : Files.readString(stderr)));
            this.port = Integer.parseInt(first.substring(5).strip());
            Thread reader = new Thread(() -> {
                try {
                    for (String line; (line = out.readLine()) != null; ) {
                        if (line.startsWith("STATS ")) {
                            last = Stats.parse(line);
                        }
                    }
                } catch (IOException e) {
                    // process gone
                }
            }, "forked-proxy-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        static Forked start(Path dir, List<String> jvmOptions, String shellPrefix, String... args)
                throws IOException, InterruptedException {
            Path err = dir.resolve("proxy-stderr.log");
            ProcessBuilder pb = new ProcessBuilder(command(jvmOptions, shellPrefix, args));
            pb.redirectError(err.toFile());
            return new Forked(pb.start(), err);
        }

        /** Stderr is a pipe this test never reads: once its buffer is full, every write to it blocks. */
        static Forked startUnreadStderr(Path dir, String... args) throws IOException, InterruptedException {
            return new Forked(new ProcessBuilder(command(List.of(), "", args)).start(), null);
        }

        private static List<String> command(List<String> jvmOptions, String shellPrefix, String... args) {
            List<String> java = new ArrayList<>();
            java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            java.add("-Xmx128m");
            java.addAll(jvmOptions);
            java.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
            java.add("-cp");
            java.add(System.getProperty("java.class.path"));
            java.add(ForkedProxy.class.getName());
            java.addAll(List.of(args));
            if (shellPrefix.isEmpty()) {
                return java;
            }
            StringBuilder cmd = new StringBuilder(shellPrefix).append("exec");
            for (String w : java) {
                cmd.append(" '").append(w.replace("'", "'\\''")).append('\'');
            }
            return List.of("bash", "-c", cmd.toString());
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        }

        Stats last() {
            return last;
        }

        void awaitStats(String what, java.util.function.Predicate<Stats> condition) throws InterruptedException {
            try {
                Loopback.await(what, 30, () -> {
                    assertTrue(process.isAlive(), () -> "the forked proxy exited with " + process.exitValue());
                    return condition.test(last);
                });
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; the proxy said " + last, e);
            }
        }

        void awaitLog(String what, String text) throws InterruptedException {
            Loopback.await(what, 30, () -> logLines(text) > 0);
        }

        long logLines(String text) {
            try (var lines = Files.lines(stderr, StandardCharsets.UTF_8)) {
                return lines.filter(l -> l.contains(text)).count();
            } catch (IOException | java.io.UncheckedIOException e) {
                return 0;
            }
        }

        long cpuMillis() {
            return process.info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
        }

        long rssKiB() throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
