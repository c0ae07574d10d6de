package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Plain-TCP loopback peers and condition waits for the proxy tests. */
final class Loopback {
    private Loopback() {}

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** Waits until {@code condition} holds, failing after {@code seconds}. */
    static void await(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    /** Ports {@link #closedPort()} holds, until a {@link Target} takes one. */
    private static final Map<Integer, Socket> HELD = new ConcurrentHashMap<>();

    /**
     * A loopback port that refuses connections: bound without listening and held until a {@link Target} takes it (or
     * the test JVM ends). A port merely bound and released is not safe on a busy machine: another process's listener
     * may take it, and a connect or health check to the "closed" port then succeeds; a held port cannot be bound by
     * anyone else, nor chosen as the local port of an outgoing connection.
     */
    static int closedPort() throws IOException {
        Socket s = new Socket(); // no SO_REUSEADDR: nobody else can bind the port while this holds it
        s.bind(new InetSocketAddress(LOOPBACK, 0));
        HELD.put(s.getLocalPort(), s);
        return s.getLocalPort();
    }

    /** A free port for another process to listen on (bound, then released: it may race, which only fails loudly). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    /** Connects to the proxy with a read timeout so a stuck test fails instead of hanging. */
    static Socket connect(InetSocketAddress proxy) throws IOException {
        Socket s = new Socket();
        s.connect(proxy, 10_000);
        s.setSoTimeout(20_000);
        return s;
    }

    /** Reads until EOF (bounded by the socket timeout). */
    static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    /**
     * The check after every attack: a fresh tunnel through {@code proxy} for {@code name} (routed to an echo target)
     * carries 1 MiB of random bytes both ways, SHA-256 equal.
     */
    static void freshTunnel(InetSocketAddress proxy, String name) throws Exception {
        freshTunnel(connect(proxy), name);
    }

    /** {@link #freshTunnel(InetSocketAddress, String)} over {@code s}, connected to the proxy already. */
    static void freshTunnel(Socket connected, String name) throws Exception {
        byte[] hello = Hellos.jsse(name);
        byte[] payload = new byte[1 << 20];
        new java.util.Random(name.hashCode()).nextBytes(payload);
        try (Socket s = connected) {
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(hello);
                    s.getOutputStream().write(payload);
                    s.shutdownOutput();
                } catch (IOException e) {
                    // the reader sees the short stream
                }
            }, "fresh-tunnel-writer");
            writer.start();
            byte[] back = readAll(s.getInputStream());
            writer.join(20_000);
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            sent.update(hello);
            sent.update(payload);
            assertEquals(hello.length + payload.length, back.length, "bytes echoed through the tunnel for " + name);
            assertArrayEquals(sent.digest(), MessageDigest.getInstance("SHA-256").digest(back), "SHA-256 for " + name);
        }
    }

    /**
     * A thread-per-connection TCP server. Each accepted socket is handed to the handler; every socket is recorded so
     * tests can inspect what arrived.
     */
    static final class Target implements AutoCloseable {
        interface Handler {
            void handle(Socket s) throws IOException;
        }

        final ServerSocket server;
        final List<Socket> accepted = new CopyOnWriteArrayList<>();
        private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-target");
            t.setDaemon(true);
            return t;
        });

        Target(InetAddress address, Handler handler) throws IOException {
            this(address, 0, handler);
        }

        /** A target on {@code port} of {@code address} (0: a free port), e.g. one coming back where it was. */
        Target(InetAddress address, int port, Handler handler) throws IOException {
            this(listen(address, port), handler);
        }

        /** A loopback server socket on {@code port} of {@code address} (0: a free port), a held closed port freed. */
        static ServerSocket listen(InetAddress address, int port) throws IOException {
            Socket held = HELD.remove(port);
            if (held != null) {
                held.close(); // a closed port coming back to life
            }
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(address, port), 2048);
            return server;
        }

        /** A target accepting on {@code server} (loopback, or in a {@link MemoryNetwork}). */
        Target(ServerSocket server, Handler handler) {
            this.server = server;
            pool.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        s.setSoTimeout(60_000);
                        accepted.add(s);
                        pool.execute(() -> {
                            try (s) {
                                handler.handle(s);
                            } catch (IOException e) {
                                // peer went away
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        Target(Handler handler) throws IOException {
            this(LOOPBACK, handler);
        }

        /** Echoes every byte until EOF, then closes. */
        static Target echo() throws IOException {
            return echo(0);
        }

        /** An echo target on {@code port} of the loopback address (0: a free port). */
        static Target echo(int port) throws IOException {
            return new Target(LOOPBACK, port, ECHO);
        }

        /** Echoes every byte until EOF, then shuts its output. */
        static final Handler ECHO = s -> {
            byte[] b = new byte[16384];
            InputStream in = s.getInputStream();
            for (int n; (n = in.read(b)) > 0; ) {
                s.getOutputStream().write(b, 0, n);
            }
            s.shutdownOutput();
        };

        int port() {
            return server.getLocalPort();
        }

        io.fedlink.api.Endpoint endpoint() {
            return io.fedlink.api.Endpoint.of(server.getInetAddress().getHostAddress(), port());
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : accepted) {
                s.close();
            }
            pool.shutdownNow();
        }
    }
}
