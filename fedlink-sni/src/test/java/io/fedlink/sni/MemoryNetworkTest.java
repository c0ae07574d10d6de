package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.AgentListenerConfig;
import io.fedlink.api.ClientAuth;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.TunnelServer;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The memory network itself, and the in-memory transport under concurrent clients. */
class MemoryNetworkTest {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(Loopback.LOOPBACK, 0);
    @TempDir
    static Path dir;
    static TlsMaterial party10000;
    static TlsMaterial party9999;
    static SSLContext client;
    private final MemoryNetwork net = new MemoryNetwork();

    @BeforeAll
    static void identities() throws Exception {
        TlsMaterial a = TestCerts.identity(dir, "10000.fate.example");
        TlsMaterial b = TestCerts.identity(dir, "9999.fate.example");
        TlsMaterial c = TestCerts.identity(dir, "client.fate.example");
        party10000 = TestCerts.trusting(a, c);
        party9999 = TestCerts.trusting(b, c);
        client = TestCerts.trusting(c, a, b).clientContext(); // trusts both parties: only the name tells them apart
    }

    private static InetSocketAddress address(ServerSocket ss) {
        return (InetSocketAddress) ss.getLocalSocketAddress();
    }

    /** A connected pair with 10 s reads: the connecting side, then the accepted one. */
    private Socket[] pair() throws IOException {
        try (ServerSocket ss = net.listen(ANY_LOOPBACK)) {
            Socket c = net.connect(address(ss));
            Socket a = ss.accept();
            c.setSoTimeout(10_000);
            a.setSoTimeout(10_000);
            return new Socket[] {c, a};
        }
    }

    private static String readAll(Socket s) throws IOException {
        return new String(Loopback.readAll(s.getInputStream()), StandardCharsets.UTF_8);
    }

    private static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Asserts that {@code call} throws {@code type} with a message naming {@code what}. */
    private static <T extends Throwable> void assertNames(Class<T> type, Object what, Executable call) {
        String message = assertThrows(type, call).getMessage();
        assertTrue(message.contains(what.toString()), message);
    }

    /** Connects from a thread of its own; returns once that connect completed or waits for room in the backlog. */
    private CompletableFuture<Socket> connectInBackground(InetSocketAddress to) throws InterruptedException {
        CompletableFuture<Socket> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                done.complete(net.connect(to));
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "test-connect");
        t.start();
        Loopback.await("the connect to complete or wait", 10,
                () -> done.isDone() || t.getState() == Thread.State.TIMED_WAITING);
        return done;
    }

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
            Thread.sleep(300); // the window idle threads must sleep through (their CPU is asserted, not the time)
            long used = acceptors.stream().mapToLong(t -> cpu.getThreadCpuTime(t.getId())).sum() - before;
            assertTrue(used < 100_000_000L, "idle accepts used " + used / 1_000_000 + " ms of CPU in 300 ms");
            assertTrue(acceptors.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        }
    }

    /** Refused connects and taken addresses fail as on loopback, naming the address; port 0 picks distinct ports. */
    @Test
    void refusedConnectsAndTakenAddressesNameTheAddress() throws Exception {
        InetSocketAddress nobody = new InetSocketAddress(Loopback.LOOPBACK, 7);
        assertNames(ConnectException.class, nobody, () -> net.connect(nobody));
        try (ServerSocket a = net.listen(ANY_LOOPBACK); ServerSocket b = net.listen(ANY_LOOPBACK);
             ServerSocket wildcard = net.listen(new InetSocketAddress(InetAddress.getByAddress(new byte[4]), 0))) {
            assertNotEquals(a.getLocalPort(), b.getLocalPort());
            assertNames(BindException.class, address(a), () -> net.listen(address(a)));
            InetSocketAddress underWildcard = new InetSocketAddress(Loopback.LOOPBACK, wildcard.getLocalPort());
            assertNames(BindException.class, underWildcard, () -> net.listen(underWildcard));
            assertNames(BindException.class, address(b), () -> net.start(SniProxy.builder()
                    .bind(address(b)).routes(RouteTable.builder().build()).build()));
        }
    }

    /** shutdownOutput is a FIN read after the bytes sent before it, and the other direction still carries bytes. */
    @Test
    void halfCloseEndsOneDirectionOnly() throws Exception {
        Socket[] p = pair();
        try (Socket c = p[0]; Socket a = p[1]) {
            write(c, "up");
            c.shutdownOutput();
            assertEquals("up", readAll(a));
            write(a, "down");
            a.shutdownOutput();
            assertEquals("down", readAll(c));
        }
    }

    /**
     * A close with bytes left unread is a reset, as on Linux: the peer reads what came before it, then "Connection
     * reset", and its writes fail; with the output shut down first (how the proxy closes), the peer reads the end.
     */
    @Test
    void closeWithUnreadBytesResetsUnlessTheFinWentFirst() throws Exception {
        Socket[] p = pair();
        try (Socket c = p[0]; Socket a = p[1]) {
            write(c, "never read");
            write(a, "last words");
            a.close();
            assertEquals("last words", new String(c.getInputStream().readNBytes(10), StandardCharsets.UTF_8));
            SocketException e = assertThrows(SocketException.class, () -> c.getInputStream().read());
            assertEquals("Connection reset", e.getMessage());
            assertThrows(IOException.class, () -> write(c, "more"));
        }
        Socket[] q = pair();
        try (Socket c = q[0]; Socket a = q[1]) {
            write(c, "never read");
            write(a, "last words");
            a.shutdownOutput();
            a.close();
            assertEquals("last words", readAll(c));
        }
    }

    /**
     * A write to a peer that closed is taken once, as TCP takes it (the peer's kernel answers with a reset), and the
     * next one fails: a client writing right after connecting must not fail because the proxy refused it meanwhile.
     */
    @Test
    void theFirstWriteAfterThePeerClosedIsTakenTheNextFails() throws Exception {
        Socket[] p = pair();
        try (Socket c = p[0]; Socket a = p[1]) {
            a.close();
            write(c, "once");
            assertEquals(-1, c.getInputStream().read(), "the FIN came before the reset");
            assertThrows(IOException.class, () -> write(c, "again"));
        }
    }

    /** setSoLinger(true, 0) makes close a reset: the peer reads the bytes already queued, then "Connection reset". */
    @Test
    void lingerZeroCloseResetsAfterQueuedBytes() throws Exception {
        Socket[] p = pair();
        try (Socket c = p[0]; Socket a = p[1]) {
            write(a, "queued");
            a.setSoLinger(true, 0);
            a.close();
            assertEquals("queued", new String(c.getInputStream().readNBytes(6), StandardCharsets.UTF_8));
            SocketException e = assertThrows(SocketException.class, () -> c.getInputStream().read());
            assertEquals("Connection reset", e.getMessage());
        }
    }

    /** available() counts the bytes queued to read, as a socket's does (0 once they are read or the input is shut). */
    @Test
    void availableCountsQueuedBytes() throws Exception {
        Socket[] p = pair();
        try (Socket c = p[0]; Socket a = p[1]) {
            write(a, "abc");
            assertEquals(3, c.getInputStream().available());
            assertEquals('a', c.getInputStream().read());
            assertEquals(2, c.getInputStream().available());
            c.shutdownInput();
            assertEquals(0, c.getInputStream().available());
        }
    }

    /** A read timeout throws SocketTimeoutException and leaves the socket working both ways. */
    @Test
    void readTimeoutLeavesTheSocketUsable() throws Exception {
        Socket[] p = pair();
        try (Socket c = p[0]; Socket a = p[1]) {
            c.setSoTimeout(50);
            assertThrows(SocketTimeoutException.class, () -> c.getInputStream().read());
            write(a, "x");
            assertEquals('x', c.getInputStream().read());
            write(c, "y");
            assertEquals('y', a.getInputStream().read());
        }
    }

    /** With a backlog of 0 a connect completes only when accept takes it. */
    @Test
    void backlogZeroConnectCompletesAtAccept() throws Exception {
        try (ServerSocket ss = net.listen(ANY_LOOPBACK, 0)) {
            CompletableFuture<Socket> connect = connectInBackground(address(ss));
            assertFalse(connect.isDone(), "connected with nobody accepting");
            ss.setSoTimeout(10_000);
            try (Socket accepted = ss.accept(); Socket connected = connect.get(10, TimeUnit.SECONDS)) {
                assertEquals(connected.getLocalSocketAddress(), accepted.getRemoteSocketAddress());
            }
        }
    }

    /** Connects waiting for room in a backlog fail when the listener closes, naming the address. */
    @Test
    void closingTheListenerFailsWaitingConnects() throws Exception {
        ServerSocket ss = net.listen(ANY_LOOPBACK, 0);
        CompletableFuture<Socket> connect = connectInBackground(address(ss));
        assertFalse(connect.isDone());
        ss.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> connect.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof ConnectException, e.toString());
        assertTrue(e.getCause().getMessage().contains(address(ss).toString()), e.getCause().getMessage());
    }

    /** A backlog of 2 with nobody accepting: two connects complete, a third waits until accept makes room. */
    @Test
    void backlogHoldsThatManyConnects() throws Exception {
        try (ServerSocket ss = net.listen(ANY_LOOPBACK, 2); Socket first = net.connect(address(ss));
             Socket second = net.connect(address(ss))) {
            CompletableFuture<Socket> third = connectInBackground(address(ss));
            assertFalse(third.isDone(), "a third connect beyond a backlog of 2");
            try (Socket accepted = ss.accept()) {
                assertEquals(first.getLocalSocketAddress(), accepted.getRemoteSocketAddress());
                third.get(10, TimeUnit.SECONDS).close();
            }
        }
    }

    /** A TLS server requiring a client certificate: each line answered with the party and the client's subject. */
    private static Loopback.Target.Handler tlsLines(TlsMaterial party, String id) {
        return TestCerts.tlsLines(party.serverContext(ClientAuth.REQUIRED), (s, line) -> id + " "
                + ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName()
                + " " + line);
    }

    /** A JSSE client for {@code name} through {@code proxy}, hostname verification on. */
    private SSLSocket tlsClient(TunnelServer proxy, String name) throws IOException {
        Socket plain = net.connect(proxy.localAddress());
        plain.setSoTimeout(10_000);
        SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket(plain, name, 443, true);
        assertEquals("HTTPS", s.getSSLParameters().getEndpointIdentificationAlgorithm());
        return s;
    }

    /** Mutual TLS 1.3 through a memory proxy; a name routed to another party's server fails the client's handshake. */
    @Test
    void tlsThroughAMemoryProxy() throws Exception {
        try (Loopback.Target t10000 = new Loopback.Target(net.listen(ANY_LOOPBACK), tlsLines(party10000, "10000"));
             Loopback.Target t9999 = new Loopback.Target(net.listen(ANY_LOOPBACK), tlsLines(party9999, "9999"));
             TunnelServer proxy = net.start(SniProxy.builder().bindLoopback(0).routes(RouteTable.builder()
                     .add("10000.fate.example", t10000.endpoint())
                     .add("wrong.fate.example", t9999.endpoint()).build()).build())) {
            try (SSLSocket s = tlsClient(proxy, "10000.fate.example")) {
                s.startHandshake();
                assertEquals("TLSv1.3", s.getSession().getProtocol());
                PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8));
                out.println("ping");
                assertEquals("10000 CN=client.fate.example ping", in.readLine());
            }
            assertEquals(1, proxy.stats().routed());
            try (SSLSocket s = tlsClient(proxy, "wrong.fate.example")) {
                assertThrows(SSLHandshakeException.class, s::startHandshake, "9999's certificate for another name");
            }
        }
    }

    /** start refuses what needs real sockets (party agents, the active health check), saying what to change. */
    @Test
    void startRefusesAgentsAndHealthChecks() {
        AgentListenerConfig agents = AgentListenerConfig.builder(ANY_LOOPBACK).partyDomain("fate.example")
                .tls(ReloadableTlsMaterial.of(party10000)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.start(SniProxy.builder()
                .bindLoopback(0).routes(RouteTable.builder().build()).agents(agents).build()));
        assertTrue(e.getMessage().contains("drop agents(...)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> net.start(SniProxy.builder().bindLoopback(0)
                .routes(RouteTable.builder().build()).healthCheckInterval(Duration.ofSeconds(1)).build()));
        assertTrue(e.getMessage().contains("set it to zero"), e.getMessage());
    }
}
