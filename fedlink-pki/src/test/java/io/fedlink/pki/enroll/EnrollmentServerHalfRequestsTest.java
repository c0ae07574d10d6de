package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 half-requests (TCP connections that send part of a TLS ClientHello, or complete TLS and send part of an HTTP
 * request, then stall) held open against {@code pki serve}'s port, from one address and from eight: an enrollment
 * from another address (127.0.0.1) still answers, and its latency is measured idle and under that load in the same
 * run. The count can be lowered with {@code -Dfedlink.halfRequests=N} where the file-descriptor limit is small
 * (the test holds N client sockets; {@code ulimit -n} must exceed N plus a few hundred).
 */
class EnrollmentServerHalfRequestsTest {
    private static final int HALF_REQUESTS = Integer.getInteger("fedlink.halfRequests", 1000);
    private static final int ENROLLMENTS = 30;
    /** The default limits with long deadlines, so the load stays in place while enrollments are measured. */
    private static final EnrollmentServer.Limits LONG = EnrollmentServer.Limits.DEFAULT.withTimeouts(
            Duration.ofMinutes(2), Duration.ofMinutes(2), Duration.ofMinutes(2));

    @TempDir
    Path caDir;

    @Test
    void halfRequestsFromOneAddressDoNotBlockEnrollment() throws Exception {
        run(List.of("127.0.0.2"), LONG);
    }

    /** With the per-address cap lifted, the server itself holds all of them: an idle connection costs no thread. */
    @Test
    void halfRequestsHeldByTheServerItselfDoNotBlockEnrollment() throws Exception {
        run(List.of("127.0.0.2"), LONG.withConnections(HALF_REQUESTS, HALF_REQUESTS + 64));
    }

    @Test
    void halfRequestsFromEightAddressesDoNotBlockEnrollment() throws Exception {
        List<String> sources = new ArrayList<>();
        for (int i = 2; i <= 9; i++) {
            sources.add("127.0.0." + i);
        }
        run(sources, LONG);
    }

    private void run(List<String> sources, EnrollmentServer.Limits limits) throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .permitIp("127.0.0.0/8").create();
        CaFolder.of(caDir, null).create(ca);
        TlsMaterial caTrust = TlsMaterial.builder().trust(ca.root()).build(); // what a party is given: the root
        TlsMaterial endpoint = ca.issue(CertificateRequest.server("ca.fate.org").ip("127.0.0.1")).tlsMaterial();
        List<Socket> held = new ArrayList<>();
        try (EnrollmentServer server = EnrollmentServer.start(EnrollmentAuthority.forFolder(caDir, null,
                "fate.org", null), endpoint, new InetSocketAddress("127.0.0.1", 0), limits)) {
            InetSocketAddress target = server.address();
            EnrollmentClient client = new EnrollmentClient(URI.create("https://127.0.0.1:" + target.getPort()));
            double[] idle = enrollments(ca, client, "1");

            byte[] partialHello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03, 7, 7, 7};
            byte[] partialRequest = "POST /v1/enroll HTTP/1.1\r\nHost: ca.fate.org\r\nContent-Le"
                    .getBytes(StandardCharsets.US_ASCII);
            int tlsDone = 0;
            for (int i = 0; i < HALF_REQUESTS; i++) {
                Socket s = new Socket();
                held.add(s);
                s.bind(new InetSocketAddress(sources.get(i % sources.size()), 0));
                s.connect(target, 10_000);
                try {
                    if (i % 4 == 0 && i < 200) { // a complete handshake, then part of the request
                        SSLSocket tls = (SSLSocket) caTrust.clientContext().getSocketFactory()
                                .createSocket(s, "127.0.0.1", target.getPort(), true);
                        tls.setSoTimeout(10_000);
                        tls.startHandshake();
                        held.set(held.size() - 1, tls);
                        tls.getOutputStream().write(partialRequest);
                        tls.getOutputStream().flush();
                        tlsDone++;
                    } else {
                        OutputStream out = s.getOutputStream();
                        out.write(partialHello);
                        out.flush();
                    }
                } catch (IOException refused) {
                    // over the per-address cap: the server closed it at once, as it should
                }
            }
            int perAddress = limits.maxPerAddress();
            int expectedHeld = Math.min(HALF_REQUESTS, perAddress * sources.size());
            await("the server to hold " + expectedHeld + " half-requests and refuse the rest",
                    () -> server.openConnections() == expectedHeld
                            && server.refusals().perAddress() == HALF_REQUESTS - expectedHeld);

            double[] loaded = enrollments(ca, client, "2");
            // (plus, for a moment, the last enrollment's connection, until its client closes it)
            assertTrue(server.openConnections() >= expectedHeld, "the half-requests were still held while measuring");
            System.out.printf("half-requests: %d held open from %d address(es) (%d held by the server, %d refused by "
                            + "the per-address cap of %d, %d with TLS done); enrollment from 127.0.0.1 over %d runs: "
                            + "idle p50 %.1f ms p99 %.1f ms, under load p50 %.1f ms p99 %.1f ms%n", HALF_REQUESTS,
                    sources.size(), expectedHeld, server.refusals().perAddress(), perAddress, tlsDone, ENROLLMENTS,
                    percentile(idle, 50), percentile(idle, 99), percentile(loaded, 50), percentile(loaded, 99));
            assertEquals(0, server.refusals().busy());
            assertEquals(0, server.refusals().overloaded());
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** Enrolls {@link #ENROLLMENTS} parties one after the other; each must succeed. Milliseconds each, sorted. */
    private double[] enrollments(CertificateAuthority ca, EnrollmentClient client, String prefix) throws Exception {
        TlsMaterial caTrust = TlsMaterial.builder().trust(ca.root()).build();
        double[] ms = new double[ENROLLMENTS];
        for (int i = 0; i < ENROLLMENTS; i++) {
            String party = prefix + String.format("%04d", i);
            String token = CaFolder.of(caDir, null).createToken(party, Duration.ofMinutes(10));
            long t0 = System.nanoTime();
            TlsMaterial m = client.enroll(caTrust, token, party, "fate.org", KeyType.EC_P256, null);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            assertTrue(m.certificate().getSubjectX500Principal().getName().contains(party));
        }
        Arrays.sort(ms);
        return ms;
    }

    private static double percentile(double[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
