package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.BoundedHttpServer.Answer;
import io.fedlink.api.BoundedHttpServer.Limits;
import io.fedlink.api.BoundedHttpServer.Refusal;
import io.fedlink.api.BoundedHttpServer.Response;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control plane's HTTP server against real sockets: every limit answered, closed, counted and logged. */
class BoundedHttpServerTest {
    private static final String GET = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private BoundedHttpServer serve(Limits limits, BoundedHttpServer.Handler handler) throws IOException {
        BoundedHttpServer s = BoundedHttpServer.start("test", new InetSocketAddress("127.0.0.1", 0), limits, handler,
                log::add);
        closing.add(s);
        return s;
    }

    private static BoundedHttpServer.Handler ok() {
        return r -> Response.of(200, "text/plain", "ok " + r.method() + " " + r.path() + " " + r.rawQuery() + " "
                + new String(r.body(), StandardCharsets.UTF_8));
    }

    private static Answer send(SocketAddress at, String request) throws IOException {
        return BoundedHttpServer.exchange(at, request, Duration.ofSeconds(20), 1 << 16);
    }

    /** A connection from {@code source} that sent {@code start} and then nothing. */
    private Socket half(BoundedHttpServer s, String source, String start) throws IOException {
        Socket c = new Socket();
        closing.add(c);
        c.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        c.connect(s.address(), 10_000);
        c.setSoTimeout(20_000);
        c.getOutputStream().write(start.getBytes(StandardCharsets.US_ASCII));
        return c;
    }

    private static String readToEnd(Socket c) throws IOException {
        return new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }

    @Test
    void answersARequestWithItsPartsAndClosesTheConnection() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT, ok());
        Answer a = send(s.address(), "POST /p?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody");
        assertEquals(200, a.status());
        assertEquals("ok POST /p q=1 body", a.body());
        assertTrue(a.raw().contains("\r\nConnection: close\r\n"), a.raw());
        Answer head = send(s.address(), "HEAD /h HTTP/1.0\r\n\r\n");
        assertEquals(200, head.status());
        assertEquals("", head.body());
    }

    @Test
    void oversizedAndMalformedRequestsAreRefusedClosedAndCounted() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT.withMaxBodyBytes(10), ok());
        assertEquals(414, send(s.address(), "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n").status());
        assertEquals(431, send(s.address(), "GET / HTTP/1.1\r\nX: " + "b".repeat(17_000) + "\r\n\r\n").status());
        assertEquals(413, send(s.address(), "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n").status());
        assertEquals(411, send(s.address(), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").status());
        assertEquals(400, send(s.address(), "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .status());
        assertEquals(400, send(s.address(), "GET / HTTP/1.1\r\n folded: x\r\n\r\n").status());
        assertEquals(400, send(s.address(), "\u0016\u0003\u0001 TLS? \r\n\r\n").status());
        assertEquals(1, s.refused(Refusal.REQUEST_LINE_TOO_LONG));
        assertEquals(1, s.refused(Refusal.HEADERS_TOO_LARGE));
        assertEquals(1, s.refused(Refusal.BODY_TOO_LARGE));
        assertEquals(1, s.refused(Refusal.LENGTH_REQUIRED));
        assertEquals(3, s.refused(Refusal.MALFORMED));
        assertEquals(200, send(s.address(), GET).status());
        // Rate-limited: three malformed requests in a row make one line.
        assertEquals(1, log.stream().filter(l -> l.contains("refused malformed")).count(), log.toString());
    }

    @Test
    void a413IsReadByAClientThatGoesOnSendingItsBody() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT.withMaxBodyBytes(10), ok());
        byte[] more = new byte[256 * 1024];
        Socket c = half(s, "127.0.0.1", "POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (s.refused(Refusal.BODY_TOO_LARGE) < 1) { // the server answered and shut its side
            assertTrue(System.nanoTime() < end, "no 413");
            Thread.sleep(10);
        }
        c.getOutputStream().write(more); // unread by the server: must not turn its close into a reset
        c.shutdownOutput();
        assertTrue(readToEnd(c).startsWith("HTTP/1.1 413 "));
    }

    @Test
    void aHalfRequestIsCutAtTheDeadlineWith408() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT.withRequestDeadline(Duration.ofSeconds(1)), ok());
        Socket c = half(s, "127.0.0.1", "GET /x HTTP/1.1\r\nHost: 1");
        long start = System.nanoTime();
        assertTrue(readToEnd(c).startsWith("HTTP/1.1 408 "));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15));
        assertEquals(1, s.refused(Refusal.REQUEST_TIMEOUT));
    }

    @Test
    void oneSourceIsCappedWith503AndOthersAreStillServed() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT.withMaxConnectionsPerSource(4), ok());
        for (int i = 0; i < 4; i++) {
            half(s, "127.0.0.2", "GET /");
        }
        Socket fifth = half(s, "127.0.0.2", "");
        assertTrue(readToEnd(fifth).startsWith("HTTP/1.1 503 "));
        assertEquals(1, s.refused(Refusal.PER_SOURCE_LIMIT));
        assertEquals(200, send(s.address(), GET).status()); // from 127.0.0.1
    }

    @Test
    void busyWorkersAndAFullQueueAnswer503AtOnce() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        BoundedHttpServer s = serve(new Limits(8192, 16384, 0, Duration.ofSeconds(30), 100, 100, 1, 1), r -> {
            entered.countDown();
            release.await(30, TimeUnit.SECONDS);
            return Response.of(200, "text/plain", "late");
        });
        CompletableFuture<Answer> running = CompletableFuture.supplyAsync(() -> sendUnchecked(s.address()));
        assertTrue(entered.await(20, TimeUnit.SECONDS));
        List<CompletableFuture<Answer>> more = new ArrayList<>();
        for (int i = 0; i < 3; i++) { // one worker busy, one queue slot: two of these three are refused at once
            more.add(CompletableFuture.supplyAsync(() -> sendUnchecked(s.address())));
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (more.stream().filter(CompletableFuture::isDone).count() < 2) { // before the handler is released
            assertTrue(System.nanoTime() < end, "no 503 while the worker is busy and the queue full");
            Thread.sleep(10);
        }
        release.countDown();
        assertEquals(200, running.get(20, TimeUnit.SECONDS).status());
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<Answer> f : more) {
            statuses.add(f.get(20, TimeUnit.SECONDS).status());
        }
        statuses.sort(null);
        assertEquals(List.of(200, 503, 503), statuses);
        assertEquals(2, s.refused(Refusal.OVERLOADED));
    }

    private static Answer sendUnchecked(SocketAddress at) {
        try {
            return send(at, GET);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aFailingHandlerIsAnswered500AndTheServerGoesOn() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT, r -> {
            if (r.path().equals("/boom")) {
                throw new IllegalStateException("boom");
            }
            return Response.of(200, "text/plain", "fine");
        });
        assertEquals(500, send(s.address(), "GET /boom HTTP/1.1\r\n\r\n").status());
        assertEquals(200, send(s.address(), GET).status());
        assertTrue(log.stream().anyMatch(l -> l.contains("GET /boom failed") && l.contains("boom")), log.toString());
    }

    @Test
    void handlerRefusalsAreCountedLikeTheServersOwn() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT, r -> Response.refusal(Refusal.UNAUTHORIZED, "text/plain", "no")
                .withHeader("WWW-Authenticate", "Bearer"));
        Answer a = send(s.address(), GET);
        assertEquals(401, a.status());
        assertTrue(a.raw().contains("\r\nWWW-Authenticate: Bearer\r\n"), a.raw());
        assertEquals(1, s.refused(Refusal.UNAUTHORIZED));
    }

    @Test
    void servesAUnixSocket() throws Exception {
        UnixDomainSocketAddress at = UnixDomainSocketAddress.of(dir.resolve("s.sock"));
        BoundedHttpServer s = BoundedHttpServer.start("unix", at, Limits.DEFAULT,
                r -> Response.of(200, "text/plain", String.valueOf(r.remote() instanceof UnixDomainSocketAddress)),
                log::add);
        closing.add(s);
        assertEquals("true", send(at, GET).body());
        assertEquals(dir.resolve("s.sock").toString(), BoundedHttpServer.describe(s.address()));
    }
}
