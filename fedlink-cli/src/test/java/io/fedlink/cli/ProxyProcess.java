package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The packaged proxy jar ({@code fedlink-proxy-cli/target/fedlink-proxy.jar}, or another jar) as a real process,
 * its merged output collected line by line, and the helpers the process tests share: ClientHellos, free ports, echo targets.
 */
final class ProxyProcess implements AutoCloseable {
    final Process process;
    /** Standard error, and standard output too unless started with {@link #startSplit}. */
    final List<String> log = new CopyOnWriteArrayList<>();
    /** Standard output when started with {@link #startSplit}. */
    final List<String> out = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private final Thread errReader;

    private ProxyProcess(Process process, boolean split) {
        this.process = process;
        this.reader = read(process.getInputStream(), split ? out : log);
        this.errReader = split ? read(process.getErrorStream(), log) : null;
    }

    private static Thread read(InputStream in, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (IOException e) {
                // process ended
            }
        }, "fedlink-process-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The packaged proxy jar, the one {@code run.sh proxy} starts (built by fedlink-proxy-cli, before this module). */
    static Path jar() {
        Path jar = Path.of("..", "fedlink-proxy-cli", "target", "fedlink-proxy.jar");
        assertTrue(Files.exists(jar), "package fedlink-proxy-cli first: " + jar.toAbsolutePath().normalize());
        return jar;
    }

    /** The packaged full CLI jar, which runs the proxy too. */
    static Path fullJar() {
        Path jar = Path.of("target", "fedlink.jar");
        assertTrue(Files.exists(jar), "package the CLI first: " + jar.toAbsolutePath());
        return jar;
    }

    private static List<String> command(String... args) {
        return command(jar(), args);
    }

    private static List<String> command(Path jar, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    /**
     * Starts {@code java -jar fedlink-proxy.jar ARGS} with SIGHUP as {@code hangup} says: {@code "default"} whatever this
     * JVM inherited (a build started under nohup passes SIGHUP on as ignored), or {@code "ignored"} as under nohup.
     */
    static ProxyProcess startWithHangup(String hangup, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (hangup.equals("default")) {
            cmd.addAll(List.of("env", "--default-signal=HUP"));
        } else {
            cmd.addAll(List.of("sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""));
        }
        cmd.addAll(command(args));
        return new ProxyProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start(), false);
    }

    /** Starts {@code java -jar fedlink-proxy.jar ARGS}. */
    static ProxyProcess start(String... args) throws IOException {
        return start(jar(), args);
    }

    /** Starts {@code java -jar JAR ARGS}. */
    static ProxyProcess start(Path jar, String... args) throws IOException {
        return new ProxyProcess(new ProcessBuilder(command(jar, args)).redirectErrorStream(true).start(), false);
    }

    /** Starts {@code java -jar fedlink-proxy.jar ARGS}, standard output ({@link #out}) apart from standard error. */
    static ProxyProcess startSplit(String... args) throws IOException {
        return new ProxyProcess(new ProcessBuilder(command(args)).start(), true);
    }

    /** Runs {@code java -jar fedlink-proxy.jar ARGS} to its end (at most 60 s): its exit code and merged output. */
    static Cli run(String... args) throws Exception {
        return run(jar(), args);
    }

    /** Runs {@code java -jar JAR ARGS} to its end (at most 60 s): its exit code and merged output. */
    static Cli run(Path jar, String... args) throws Exception {
        try (ProxyProcess p = start(jar, args)) {
            p.process.getOutputStream().close();
            assertTrue(p.process.waitFor(60, TimeUnit.SECONDS), "timed out: fedlink " + String.join(" ", args));
            p.reader.join(10_000); // the pipe ends with the process
            return new Cli(p.process.exitValue(), String.join("\n", p.log), "");
        }
    }

    /**
     * Runs {@code java -jar JAR ARGS} to its end (at most 60 s): its exit code, standard output and standard error
     * apart, each exactly as the process wrote it (line ends normalised to '\n').
     */
    static Cli runSplit(Path jar, String... args) throws Exception {
        try (ProxyProcess p = new ProxyProcess(new ProcessBuilder(command(jar, args)).start(), true)) {
            p.process.getOutputStream().close();
            assertTrue(p.process.waitFor(60, TimeUnit.SECONDS), "timed out: fedlink " + String.join(" ", args));
            p.reader.join(10_000); // the pipes end with the process
            p.errReader.join(10_000);
            return new Cli(p.process.exitValue(), lines(p.out), lines(p.log));
        }
    }

    private static String lines(List<String> lines) {
        return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
    }

    /** Waits until a line contains {@code fragment}; fails if the process exits first or after 30 s. */
    void awaitLog(String fragment) throws InterruptedException {
        awaitLog(l -> l.contains(fragment), "'" + fragment + "'");
    }

    /** Waits until a line matches; fails if the process exits first or after 30 s. */
    void awaitLog(Predicate<String> line, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (log.stream().noneMatch(line)) {
            assertTrue(process.isAlive() || log.stream().anyMatch(line), "process exited: " + log);
            assertTrue(System.nanoTime() - end < 0, "no log line with " + what + " in " + log);
            Thread.sleep(20);
        }
    }

    /** Lines containing {@code fragment}. */
    long count(String fragment) {
        return log.stream().filter(l -> l.contains(fragment)).count();
    }

    /** Stops with SIGTERM (a graceful close), then waits. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A JSSE ClientHello naming {@code name}. */
    static byte[] hello(String name) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine e = ctx.createSSLEngine(name, 443);
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(name)));
        e.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        return Arrays.copyOf(out.array(), out.position());
    }

    /** Ports {@link #closedPort()} holds for the rest of the test JVM. */
    private static final java.util.List<java.net.Socket> HELD = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * A loopback port that refuses connections for the rest of the test JVM: bound without listening, so no other
     * process's listener can take it (a released port can be, on a busy machine, and a "dead" target is then up).
     */
    static int closedPort() throws IOException {
        java.net.Socket s = new java.net.Socket(); // no SO_REUSEADDR: nobody else can bind it while held
        s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        HELD.add(s);
        return s.getLocalPort();
    }

    /** A port free now (bound on loopback, then released). */
    static int freePort() throws IOException {
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return free.getLocalPort();
        }
    }

    /** A target answering every connection with its tag, then closing it. */
    static final class TagTarget implements AutoCloseable {
        final ServerSocket server;

        TagTarget(String tag) throws IOException {
            this(tag, InetAddress.getLoopbackAddress());
        }

        /** A tag target on {@code address} (e.g. 127.0.0.2, a party's own host). */
        TagTarget(String tag, InetAddress address) throws IOException {
            server = new ServerSocket(0, 50, address);
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        s.getOutputStream().write(tag.getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        if (server.isClosed()) {
                            return;
                        }
                    }
                }
            }, "tag-target-" + tag);
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** Sends a ClientHello for {@code name} through the proxy and returns all the target answered. */
    static String ask(int proxyPort, String name) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxyPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(hello(name));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** Replaces {@code file} as operators are told to: a temporary file beside it, renamed over it. */
    static void replace(Path file, String text) throws IOException {
        Path tmp = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Sends SIGHUP to the process. */
    void hangup() throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).redirectErrorStream(true)
                .start();
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -HUP failed: " + out);
    }

    /** A target echoing every byte until EOF, one thread per connection. */
    static final class EchoTarget implements AutoCloseable {
        final ServerSocket server;
        final List<Socket> accepted = new CopyOnWriteArrayList<>();

        EchoTarget() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        accepted.add(s);
                        Thread echo = new Thread(() -> {
                            try (s) {
                                byte[] b = new byte[4096];
                                InputStream in = s.getInputStream();
                                for (int n; (n = in.read(b)) > 0; ) {
                                    s.getOutputStream().write(b, 0, n);
                                }
                            } catch (IOException e) {
                                // the tunnel ended
                            }
                        }, "echo-target");
                        echo.setDaemon(true);
                        echo.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "echo-target-accept");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
