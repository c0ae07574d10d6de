package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.PemCodec;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.Tools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CA rollover under continuous traffic: a JSSE service (party 10000) and its client (party 9999), both on
 * {@link ReloadableTlsMaterial} fed by their {@link Renewer}s, open a new TLS connection (full handshake, mutual
 * TLS, hostname verification) back to back while the CA rolls over, both parties renew under the new root (first
 * the client, so for a while the service trusts only the old root), the old root retires, and both renew again.
 * No connection attempt may fail; at the end every new handshake shows certificates of the new root only.
 */
class CaRolloverTest {
    @TempDir
    Path dir;
    Path caDir;
    EnrollmentAuthority authority;
    EnrollmentServer server;
    EnrollmentClient client;
    final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void start() throws Exception {
        caDir = dir.resolve("ca");
        CaFolder.of(caDir, null).create(CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .permitIp("127.0.0.0/8").create());
        authority = EnrollmentAuthority.forFolder(caDir, null, "fate.org", Duration.ofHours(1));
        server = EnrollmentServer.start(authority, CertificateRequest.server("ca.fate.org").ip("127.0.0.1").days(30),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Duration.ofMillis(100));
        client = new EnrollmentClient(URI.create("https://127.0.0.1:" + server.address().getPort()));
    }

    @AfterEach
    void stop() {
        server.close();
        pool.shutdownNow();
    }

    private PartyFiles enroll(String party) throws Exception {
        String token = CaFolder.of(caDir, null).createToken(party, Duration.ofMinutes(10));
        TlsMaterial trust = TlsMaterial.builder().trust(PemCodec.readCertificates(
                Files.readString(caDir.resolve("ca.pem")))).build();
        PartyFiles files = new PartyFiles(dir.resolve(party));
        files.write(client.enroll(trust, token, party, "fate.org", KeyType.EC_P256, null));
        return files;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    /** One handshake's view: the chain the service presented and the chain the client presented. */
    private record Seen(List<X509Certificate> serverChain, List<X509Certificate> clientChain) {}

    private static List<X509Certificate> chain(Certificate[] certs) {
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : certs) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    @Test
    void rolloverRenewRetireRenewUnderTrafficWithoutAFailedConnection() throws Exception {
        PartyFiles serviceFiles = enroll("10000");
        PartyFiles clientFiles = enroll("9999");
        X509Certificate oldRoot = CaFolder.of(caDir, null).load().root();
        X509Certificate oldServiceLeaf = serviceFiles.read().certificate();
        X509Certificate oldClientLeaf = clientFiles.read().certificate();
        ReloadableTlsMaterial serviceLive = ReloadableTlsMaterial.of(serviceFiles.read());
        ReloadableTlsMaterial clientLive = ReloadableTlsMaterial.of(clientFiles.read());
        Renewer serviceRenewer = Renewer.builder(client, serviceFiles).onRenewed(serviceLive::update).build();
        Renewer clientRenewer = Renewer.builder(client, clientFiles).onRenewed(clientLive::update).build();
        ConcurrentLinkedQueue<List<X509Certificate>> clientChains = new ConcurrentLinkedQueue<>();

        try (SSLServerSocket ss = (SSLServerSocket) serviceLive.serverContext(ClientAuth.REQUIRED)
                .getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            serveEcho(ss, clientChains);
            int port = ss.getLocalPort();
            SSLContext clientContext = clientLive.clientContext();
            Conn longLived = Conn.open(clientContext, port);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong attempts = new AtomicLong();
            AtomicLong failures = new AtomicLong();
            AtomicReference<Throwable> firstFailure = new AtomicReference<>();
            AtomicReference<Seen> last = new AtomicReference<>();
            Future<?> traffic = pool.submit(() -> {
                for (long i = 0; !stop.get(); i++) {
                    attempts.incrementAndGet();
                    try (Conn c = Conn.open(clientContext, port)) {
                        assertEquals("n" + i, c.echo("n" + i));
                        assertEquals("l" + i, longLived.echo("l" + i));
                        last.set(new Seen(chain(c.socket.getSession().getPeerCertificates()), null));
                    } catch (Throwable t) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, t);
                    }
                }
            });
            List<String> phases = new ArrayList<>();
            long[] mark = {0};
            Runnable phase = () -> {
                long now = attempts.get();
                phases.add((now - mark[0]) + "");
                mark[0] = now;
            };
            await("traffic runs", () -> attempts.get() >= 20);
            phase.run();

            // 1. rollover: the new root issues, the enrollment server follows (its own certificate and trust)
            X509Certificate newRoot = CaFolder.of(caDir, null).rollover(null, null, 3650);
            assertEquals("CN=fate.org CA G2", newRoot.getSubjectX500Principal().getName());
            assertEquals(List.of(newRoot, oldRoot), bundle());
            await("the enrollment server follows the rollover", () -> server.identityGeneration() >= 1);
            assertTrue(signedBy(server.certificate(), newRoot), "the endpoint's certificate is of the new root");
            long before = attempts.get();
            await("traffic after the rollover", () -> attempts.get() >= before + 20);
            phase.run();

            // 2. the client renews first: the service still trusts only the old root (the cross signature carries it)
            TlsMaterial clientNew = clientRenewer.renewNow();
            assertTrue(signedBy(clientNew.certificate(), newRoot));
            assertEquals(List.of(newRoot, oldRoot), clientNew.trustAnchors(), "the party's CA file is the bundle");
            assertEquals(2, PemCodec.readCertificates(Files.readString(clientFiles.current(PartyFiles.CA))).size());
            long b2 = attempts.get();
            await("traffic after the client's renewal", () -> attempts.get() >= b2 + 20
                    && clientChains.stream().anyMatch(c -> signedBy(c.get(0), newRoot)));
            phase.run();

            // 3. the service renews (a certificate of the old root authenticates it)
            TlsMaterial serviceNew = serviceRenewer.renewNow();
            assertTrue(signedBy(serviceNew.certificate(), newRoot));
            long b3 = attempts.get();
            await("traffic after the service's renewal", () -> attempts.get() >= b3 + 20
                    && signedBy(last.get().serverChain().get(0), newRoot));
            phase.run();

            // openssl during the overlap: leaves of both roots verify against the bundle
            Path bundle = caDir.resolve(CaFolder.BUNDLE);
            Path oldPem = write("old-leaf.pem", oldServiceLeaf);
            Path newPem = write("new-leaf.pem", serviceNew.certificate());
            Tools.ok(dir, "openssl", "verify", "-CAfile", bundle.toString(), oldPem.toString());
            Tools.ok(dir, "openssl", "verify", "-CAfile", bundle.toString(), newPem.toString());
            Tools.ok(dir, "openssl", "verify", "-CAfile", write("old-root.pem", oldRoot).toString(), "-untrusted",
                    caDir.resolve(CaFolder.PREVIOUS).resolve("cross-signed.pem").toString(), newPem.toString());

            // 4. retire: refused while the first certificates are valid and unrevoked, naming them
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> CaFolder.of(caDir, null).retire(false, false, Instant.now()));
            assertTrue(refused.getMessage().contains(oldServiceLeaf.getSerialNumber().toString(16))
                    && refused.getMessage().contains(oldClientLeaf.getSerialNumber().toString(16))
                    && refused.getMessage().contains("CN=10000.fate.org"), refused.getMessage());
            assertFalse(refused.getMessage().contains("CN=ca.fate.org"), "the server revoked its superseded "
                    + "certificate: " + refused.getMessage());
            assertTrue(Files.isRegularFile(caDir.resolve(CaFolder.PREVIOUS).resolve(CaFolder.CERT_FILE)), "a refusal changes nothing");
            List<String> retired = CaFolder.of(caDir, null).retire(true, false, Instant.now());
            assertEquals(2, retired.stream().filter(l -> l.startsWith("==> Revoked ")).count(), retired.toString());
            assertFalse(Files.isRegularFile(caDir.resolve(CaFolder.PREVIOUS).resolve(CaFolder.CERT_FILE)));
            Path keptIn;
            try (var kept = Files.list(caDir.resolve(CaFolder.RETIRED))) {
                keptIn = kept.findFirst().orElseThrow();
            }
            assertTrue(retired.get(retired.size() - 2).contains("kept in " + keptIn), retired.toString());
            assertFalse(Files.exists(keptIn.resolve("ca-key.pem")), "the retired key is gone");
            assertTrue(Files.exists(keptIn.resolve("index.tsv")));
            assertEquals(List.of(newRoot), bundle());
            assertEquals(List.of(newRoot), PemCodec.readCertificates(Files.readString(bundle)));
            await("the enrollment server follows the retirement", () -> server.identityGeneration() >= 2);
            Tools.ok(dir, "openssl", "verify", "-CAfile", bundle.toString(), newPem.toString());
            assertNotEquals(0, Tools.run(dir, "openssl", "verify", "-CAfile", bundle.toString(), oldPem.toString())
                    .code(), "a leaf of the retired root no longer verifies");
            long b4 = attempts.get();
            await("traffic after the retirement", () -> attempts.get() >= b4 + 20);
            phase.run();

            // 5. both renew again: the bundle without the old root, leaves without the cross signature
            TlsMaterial clientLast = clientRenewer.renewNow();
            TlsMaterial serviceLast = serviceRenewer.renewNow();
            assertEquals(List.of(newRoot), clientLast.trustAnchors());
            assertEquals(List.of(newRoot), serviceLast.trustAnchors());
            assertEquals(1, serviceLast.certificateChain().size(), "no cross-signed certificate after retirement");
            long b5 = attempts.get();
            await("traffic after the last renewals", () -> attempts.get() >= b5 + 20
                    && last.get().serverChain().get(0).equals(serviceLast.certificate()));
            phase.run();
            stop.set(true);
            traffic.get(30, TimeUnit.SECONDS);

            // every certificate in use on a new handshake chains to the new root alone
            clientChains.clear();
            try (Conn fresh = Conn.open(clientContext, port)) {
                assertEquals("x", fresh.echo("x"));
                List<X509Certificate> serverChain = chain(fresh.socket.getSession().getPeerCertificates());
                assertEquals(List.of(serviceLast.certificate()), serverChain);
                await("the service saw the client's chain", () -> !clientChains.isEmpty());
                assertEquals(List.of(clientLast.certificate()), clientChains.peek());
                for (X509Certificate c : List.of(serverChain.get(0), clientChains.peek().get(0))) {
                    assertTrue(signedBy(c, newRoot));
                    assertFalse(c.getIssuerX500Principal().equals(oldRoot.getSubjectX500Principal()));
                }
            }
            assertTrue(signedBy(server.certificate(), newRoot));
            assertEquals("still", longLived.echo("still"), "the connection opened before the rollover lives on");
            longLived.close();
            System.out.println("rollover under traffic: " + attempts.get() + " connection attempts (per phase "
                    + phases + "), " + failures.get() + " failed");
            assertEquals(0, failures.get(), "failed connection attempts: " + failures.get() + ", first: "
                    + firstFailure.get());
        }
    }

    private static boolean signedBy(X509Certificate c, X509Certificate issuer) {
        try {
            c.verify(issuer.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** The trust bundle parties are handed: the folder's ca-bundle.pem. */
    private List<X509Certificate> bundle() throws IOException {
        return PemCodec.readCertificates(Files.readString(caDir.resolve(CaFolder.BUNDLE)));
    }

    private Path write(String name, X509Certificate c) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, PemCodec.certificates(List.of(c)));
        return p;
    }

    /** A client connection with a line echo. */
    private static final class Conn implements AutoCloseable {
        final SSLSocket socket;
        final PrintWriter out;
        final BufferedReader in;

        private Conn(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.out = new PrintWriter(socket.getOutputStream(), false, StandardCharsets.UTF_8);
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        static Conn open(SSLContext context, int port) throws IOException {
            Socket plain = new Socket();
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, "10000.fate.org", port, true);
            s.setSoTimeout(10_000);
            s.startHandshake();
            return new Conn(s);
        }

        synchronized String echo(String line) throws IOException {
            out.println(line);
            out.flush();
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Accepts, records the client's chain, echoes lines until closed. */
    private void serveEcho(SSLServerSocket ss, ConcurrentLinkedQueue<List<X509Certificate>> clientChains) {
        pool.submit(() -> {
            while (!ss.isClosed()) {
                Socket s;
                try {
                    s = ss.accept();
                } catch (IOException e) {
                    return;
                }
                pool.submit(() -> {
                    try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.UTF_8)); var out = new PrintWriter(s.getOutputStream(), true,
                            StandardCharsets.UTF_8)) {
                        ((SSLSocket) s).startHandshake();
                        clientChains.add(chain(((SSLSocket) s).getSession().getPeerCertificates()));
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            out.println(line);
                        }
                    } catch (IOException e) {
                        // the client went away
                    }
                });
            }
        });
    }
}
