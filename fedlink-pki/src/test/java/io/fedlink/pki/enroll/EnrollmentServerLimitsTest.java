package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Oversized request lines, headers and bodies are answered 414, 431 and 413 and the connection closed; with every
 * worker busy and the queue full, a complete request is answered 503 rather than left in silence. Each is counted.
 */
class EnrollmentServerLimitsTest {
    @TempDir
    Path caDir;
    CertificateAuthority ca;
    TlsMaterial caTrust;
    EnrollmentServer server;

    @BeforeEach
    void start() throws Exception {
        ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").permitIp("127.0.0.0/8")
                .create();
        CaFolder.of(caDir, null).create(ca);
        caTrust = TlsMaterial.builder().trust(ca.root()).build(); // what a party is given: the root
        TlsMaterial endpoint = ca.issue(CertificateRequest.server("ca.fate.org").ip("127.0.0.1")).tlsMaterial();
        server = EnrollmentServer.start(EnrollmentAuthority.forFolder(caDir, null, "fate.org", null), endpoint,
                new InetSocketAddress("127.0.0.1", 0), EnrollmentServer.Limits.DEFAULT.withWorkers(1, 1));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private SSLSocket send(String request) throws Exception {
        SSLSocket s = (SSLSocket) caTrust.clientContext().getSocketFactory().createSocket("127.0.0.1",
                server.address().getPort());
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** The whole answer, read to the end: reading to EOF shows the server closed the connection. */
    private static String answer(SSLSocket s) throws Exception {
        try (s) {
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void oversizedRequestsAreAnsweredAndClosed() throws Exception {
        String line = answer(send("POST /" + "a".repeat(3000) + " HTTP/1.1\r\nHost: ca\r\n\r\n"));
        assertTrue(line.startsWith("HTTP/1.1 414 "), line);
        String headers = answer(send("POST /v1/enroll HTTP/1.1\r\n" + ("X-Padding: " + "b".repeat(100) + "\r\n")
                .repeat(90) + "\r\n"));
        assertTrue(headers.startsWith("HTTP/1.1 431 "), headers);
        assertTrue(headers.contains("over 8192 bytes"), headers);
        String body = answer(send("POST /v1/enroll HTTP/1.1\r\nContent-Length: 20000\r\n\r\n"));
        assertTrue(body.startsWith("HTTP/1.1 413 "), body);
        assertEquals(3, server.refusals().oversized());
        assertTrue(answer(send("GET /v1/enroll HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 405 "));
    }

    @Test
    void fullWorkersAnswer503() throws Exception {
        String request = "POST /v1/enroll HTTP/1.1\r\nAuthorization: Bearer nope\r\nContent-Length: 4\r\n\r\nnope";
        SSLSocket first;
        SSLSocket second;
        try (java.io.Closeable lock = CaFolder.of(caDir, null).lock()) { // the one worker waits for the CA folder
            first = send(request);
            EnrollmentServerHalfRequestsTest.await("the worker to be busy", () -> server.busyWorkers() == 1);
            second = send(request);
            EnrollmentServerHalfRequestsTest.await("a request to be queued", () -> server.busyWorkers() == 2);
            String third = answer(send(request));
            assertTrue(third.startsWith("HTTP/1.1 503 "), third);
            assertTrue(third.contains("Retry-After: 5"), third);
            assertEquals(1, server.refusals().overloaded());
        }
        assertTrue(answer(first).startsWith("HTTP/1.1 403 "), "served once the folder is free");
        assertTrue(answer(second).startsWith("HTTP/1.1 403 "));
    }
}
