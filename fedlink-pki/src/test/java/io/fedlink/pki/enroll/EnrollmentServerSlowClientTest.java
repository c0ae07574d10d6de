package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow clients (connected and silent, or sending their headers one byte at a time) hold no worker of the
 * enrollment server: enrollment and renewal get through while they are connected, and each is cut off after the
 * request timeout and counted once.
 */
class EnrollmentServerSlowClientTest {
    private static final int SILENT = 4;
    private static final int DRIPPING = 4;
    /** The slow clients' address: 8 connections, the per-address cap, so enrollment comes from 127.0.0.1. */
    private static final InetSocketAddress SLOW_SOURCE = new InetSocketAddress("127.0.0.2", 0);

    @TempDir
    Path caDir;

    @Test
    void slowClientsAreCutOffAndDoNotBlockEnrollment() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .permitIp("127.0.0.0/8").create();
        CaFolder.of(caDir, null).create(ca);
        TlsMaterial caTrust = TlsMaterial.builder().trust(ca.root()).build(); // what a party is given: the root
        TlsMaterial endpoint = ca.issue(CertificateRequest.server("ca.fate.org").ip("127.0.0.1")).tlsMaterial();
        ExecutorService pool = Executors.newCachedThreadPool();
        List<Socket> slow = new ArrayList<>();
        try (EnrollmentServer server = EnrollmentServer.start(EnrollmentAuthority.forFolder(caDir, null,
                "fate.org", null), endpoint, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofSeconds(3))) {
            int port = server.address().getPort();
            for (int i = 0; i < SILENT; i++) { // TCP only: the server waits for a ClientHello
                Socket s = new Socket();
                s.bind(SLOW_SOURCE);
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
                slow.add(s);
            }
            List<Future<?>> drips = new ArrayList<>();
            for (int i = 0; i < DRIPPING; i++) { // TLS done, then the request one byte every 100 ms
                Socket plain = new Socket();
                plain.bind(SLOW_SOURCE);
                plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
                SSLSocket s = (SSLSocket) caTrust.clientContext().getSocketFactory()
                        .createSocket(plain, "127.0.0.1", port, true);
                s.startHandshake();
                slow.add(s);
                drips.add(pool.submit(() -> {
                    byte[] request = "POST /v1/enroll HTTP/1.1\r\nHost: ca\r\nContent-Length: 10\r\n\r\n"
                            .repeat(100).getBytes(StandardCharsets.US_ASCII);
                    OutputStream out = s.getOutputStream();
                    for (byte b : request) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(100);
                    }
                    return null;
                }));
            }

            // a normal enrollment and renewal while the slow clients are connected (more than the old 2 workers)
            EnrollmentClient client = new EnrollmentClient(URI.create("https://127.0.0.1:" + port));
            String token = CaFolder.of(caDir, null).createToken("10000", Duration.ofMinutes(10));
            TlsMaterial enrolled = client.enroll(caTrust, token, "10000", "fate.org", KeyType.EC_P256,
                    null);
            TlsMaterial renewed = client.renew(enrolled, Duration.ofMinutes(30));
            assertFalse(renewed.certificate().equals(enrolled.certificate()));

            // every slow client is cut off: its read ends (EOF or reset), not by its own 60 s timeout
            for (Socket s : slow) {
                s.setSoTimeout(60_000);
                InputStream in = s.getInputStream();
                try {
                    assertEquals(-1, in.read(), "the server closed the slow connection");
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("a slow client was never cut off", e);
                } catch (IOException closed) {
                    // reset or TLS close: cut off
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (server.timeouts() < SILENT + DRIPPING && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(SILENT + DRIPPING, server.timeouts(), "each slow client counted once");
            assertEquals(0, server.refusedBusy());
            for (Future<?> d : drips) {
                try {
                    d.get(30, TimeUnit.SECONDS);
                    throw new AssertionError("a dripping client could send its whole request");
                } catch (java.util.concurrent.ExecutionException expected) {
                    assertTrue(expected.getCause() instanceof IOException, expected.getCause().toString());
                }
            }
            // and the server still serves
            String second = CaFolder.of(caDir, null).createToken("9999", Duration.ofMinutes(10));
            client.enroll(caTrust, second, "9999", "fate.org", KeyType.EC_P256, null);
            assertEquals(SILENT + DRIPPING, server.timeouts());
        } finally {
            for (Socket s : slow) {
                s.close();
            }
            pool.shutdownNow();
        }
    }
}
