package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.BoundedHttpServer.Limits;
import io.fedlink.api.BoundedHttpServer.Refusal;
import io.fedlink.api.BoundedHttpServer.Response;
import io.fedlink.api.BoundedHttpServer.Tls;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared HTTP server's TLS stage against real JSSE clients: the handshake inside its deadline (silent and
 * stalled clients cut and counted), the client's certificate chain handed to the handler, plain HTTP to the TLS port
 * refused cleanly, and the size limits answered over TLS.
 */
class BoundedHttpServerTlsTest {
    /** The first bytes of a ClientHello (a record announcing 512 bytes), then nothing. */
    private static final byte[] PARTIAL_HELLO = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03};

    @TempDir
    static Path dir;
    static TlsMaterial server;
    static TlsMaterial client;
    static TlsMaterial anonymous;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void makeCertificates() throws Exception {
        KeyStore s = TlsMaterialTest.keytool(dir, "server", "10000.fate.org", "EC");
        KeyStore c = TlsMaterialTest.keytool(dir, "client", "9999.fate.org", "EC");
        X509Certificate serverCert = (X509Certificate) s.getCertificate("server");
        X509Certificate clientCert = (X509Certificate) c.getCertificate("client");
        server = TlsMaterial.builder().identity((PrivateKey) s.getKey("server", TlsMaterialTest.PW), serverCert)
                .trust(clientCert).build();
        client = TlsMaterial.builder().identity((PrivateKey) c.getKey("client", TlsMaterialTest.PW), clientCert)
                .trust(serverCert).build();
        anonymous = TlsMaterial.builder().trust(serverCert).build();
    }

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    /** Answers with the client certificate's subject (or "anonymous") and the body. */
    private BoundedHttpServer serve(Limits limits, ClientAuth auth, Duration handshake) throws IOException {
        BoundedHttpServer s = BoundedHttpServer.start("tls-test", new InetSocketAddress("127.0.0.1", 0), limits,
                new Tls(server.serverContext(auth), auth, handshake), r -> Response.of(200, "text/plain",
                        (r.clientCertificates().isEmpty() ? "anonymous"
                                : r.clientCertificates().get(0).getSubjectX500Principal().getName()) + " "
                                + new String(r.body(), StandardCharsets.UTF_8)), log::add);
        closing.add(s);
        return s;
    }

    private Socket connect(BoundedHttpServer s) throws IOException {
        Socket plain = new Socket();
        closing.add(plain);
        plain.connect(s.address(), 10_000);
        plain.setSoTimeout(20_000);
        return plain;
    }

    /** Sends {@code request} over TLS as {@code as} and reads the answer to the server's close. */
    private String https(BoundedHttpServer s, TlsMaterial as, String request) throws IOException {
        Socket plain = connect(s);
        try (SSLSocket c = (SSLSocket) as.clientContext().getSocketFactory().createSocket(plain, "10000.fate.org",
                plain.getPort(), true)) {
            c.setSoTimeout(20_000);
            c.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** Reads until the server closes (EOF or reset); fails if it does not within the socket's timeout. */
    private static String readUntilClosed(Socket s) throws IOException {
        StringBuilder got = new StringBuilder();
        try {
            InputStream in = s.getInputStream();
            for (int b; (b = in.read()) >= 0; ) {
                got.append((char) b);
            }
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("the server never closed the connection", e);
        } catch (IOException reset) {
            // closed with a reset: closed all the same
        }
        return got.toString();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void theClientCertificateChainReachesTheHandler() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT, ClientAuth.OPTIONAL, Duration.ofSeconds(10));
        String mutual = https(s, client, "POST /renew HTTP/1.1\r\nContent-Length: 3\r\n\r\nCSR");
        assertTrue(mutual.startsWith("HTTP/1.1 200 "), mutual);
        assertTrue(mutual.endsWith("CN=9999.fate.org CSR"), mutual);
        String first = https(s, anonymous, "POST /enroll HTTP/1.1\r\nContent-Length: 3\r\n\r\nCSR");
        assertTrue(first.endsWith("anonymous CSR"), first);

        BoundedHttpServer required = serve(Limits.DEFAULT, ClientAuth.REQUIRED, Duration.ofSeconds(10));
        assertTrue(https(required, client, "GET / HTTP/1.1\r\n\r\n").endsWith("CN=9999.fate.org "));
        assertThrows(IOException.class, () -> https(required, anonymous, "GET / HTTP/1.1\r\n\r\n"));
        await("the refused handshake to be counted", () -> required.refused(Refusal.HANDSHAKE_FAILED) == 1);
    }

    @Test
    void silentAndStalledHandshakesAreCutAtTheHandshakeDeadline() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT.withRequestDeadline(Duration.ofMinutes(1)), ClientAuth.OPTIONAL,
                Duration.ofSeconds(1));
        Socket silent = connect(s);
        Socket stalled = connect(s);
        stalled.getOutputStream().write(PARTIAL_HELLO);
        Socket plain = connect(s); // a finished handshake, then half a request: held to the request deadline
        SSLSocket done = (SSLSocket) anonymous.clientContext().getSocketFactory().createSocket(plain,
                "10000.fate.org", plain.getPort(), true);
        closing.add(done);
        done.startHandshake();
        done.getOutputStream().write("GET / HTTP/1.1\r\nHost: 1".getBytes(StandardCharsets.US_ASCII));
        done.getOutputStream().flush();

        assertEquals("", readUntilClosed(silent));
        assertEquals("", readUntilClosed(stalled));
        await("both handshakes to be counted", () -> s.refused(Refusal.HANDSHAKE_TIMEOUT) == 2);
        await("the other connections to be closed", () -> s.openConnections() == 1);
        assertEquals(0, s.refused(Refusal.REQUEST_TIMEOUT), "the finished handshake is not cut at its deadline");
        assertTrue(https(s, client, "GET / HTTP/1.1\r\n\r\n").startsWith("HTTP/1.1 200 "));
        assertTrue(log.stream().anyMatch(l -> l.contains("refused handshake_timeout")), log.toString());
    }

    @Test
    void plainHttpToTheTlsPortIsRefusedCleanly() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT, ClientAuth.OPTIONAL, Duration.ofSeconds(10));
        Socket plain = connect(s);
        plain.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        String got = readUntilClosed(plain);
        assertFalse(got.contains("HTTP/1.1"), got);
        await("the refusal to be counted", () -> s.refused(Refusal.HANDSHAKE_FAILED) == 1);
        await("the connection to be closed", () -> s.openConnections() == 0);
        assertTrue(log.stream().anyMatch(l -> l.contains("refused handshake_failed")), log.toString());
        assertTrue(https(s, client, "GET / HTTP/1.1\r\n\r\n").startsWith("HTTP/1.1 200 "));
    }

    @Test
    void sizeLimitsAreAnsweredOverTlsBeforeTheClose() throws Exception {
        BoundedHttpServer s = serve(Limits.DEFAULT.withMaxBodyBytes(10), ClientAuth.OPTIONAL, Duration.ofSeconds(10));
        String body = https(s, client, "POST / HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + "x".repeat(200_000));
        assertTrue(body.startsWith("HTTP/1.1 413 "), body);
        String headers = https(s, client, "GET / HTTP/1.1\r\nX: " + "b".repeat(17_000) + "\r\n\r\n");
        assertTrue(headers.startsWith("HTTP/1.1 431 "), headers);
        String line = https(s, client, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n");
        assertTrue(line.startsWith("HTTP/1.1 414 "), line);
        assertEquals(1, s.refused(Refusal.BODY_TOO_LARGE));
        assertEquals(1, s.refused(Refusal.HEADERS_TOO_LARGE));
        assertEquals(1, s.refused(Refusal.REQUEST_LINE_TOO_LONG));
    }
}
