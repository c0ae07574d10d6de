package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.EnrollmentRefusedException;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.RevocationReason;
import io.fedlink.pki.Tools;
import io.fedlink.pki.internal.Keys;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enrollment, renewal and the renewer over real HTTPS on 127.0.0.1. */
class EnrollmentOverHttpsTest {
    @TempDir
    Path caDir;
    @TempDir
    Path partyDir;
    CertificateAuthority ca;
    TlsMaterial caTrust;
    EnrollmentServer server;
    EnrollmentClient client;

    @BeforeEach
    void start() throws Exception {
        ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").permitIp("127.0.0.0/8")
                .create();
        CaFolder.of(caDir, null).create(ca);
        caTrust = TlsMaterial.builder().trust(ca.root()).build(); // what a party is given: the root
        TlsMaterial endpoint = ca.issue(CertificateRequest.server("ca.fate.org").ip("127.0.0.1")).tlsMaterial();
        server = EnrollmentServer.start(EnrollmentAuthority.forFolder(caDir, null, "fate.org",
                Duration.ofHours(1)), endpoint,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client = new EnrollmentClient(URI.create("https://127.0.0.1:" + server.address().getPort()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private TlsMaterial enroll(String party, Duration lifetime) throws Exception {
        String token = CaFolder.of(caDir, null).createToken(party, Duration.ofMinutes(10));
        return client.enroll(caTrust, token, party, "fate.org", KeyType.EC_P256, lifetime);
    }

    @Test
    void enrollWritesTheFilesAndRenewalNeedsAValidUnrevokedCertificate() throws Exception {
        TlsMaterial first = enroll("10000", null);
        PartyFiles files = new PartyFiles(partyDir);
        files.write(first);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                files.current(PartyFiles.KEY))));
        assertTrue(Files.isSymbolicLink(partyDir.resolve(PartyFiles.CURRENT)));
        assertTrue(Files.readString(files.current(PartyFiles.KEY)).startsWith("-----BEGIN PRIVATE KEY-----"));
        Tools.ok(partyDir, "openssl", "verify", "-CAfile", "current/ca.pem", "current/cert.pem");
        assertTrue(Tools.ok(partyDir, "openssl", "x509", "-noout", "-text", "-in", "current/cert.pem")
                .contains("DNS:10000.fate.org"));

        TlsMaterial renewed = client.renew(files.read(), Duration.ofMinutes(30));
        assertNotEquals(first.certificate().getSerialNumber(), renewed.certificate().getSerialNumber());
        assertNotEquals(first.certificate().getPublicKey(), renewed.certificate().getPublicKey(), "a new key");
        files.write(renewed);
        assertEquals(renewed.certificate(), files.read().certificate());

        EnrollmentRefusedException wrong = assertThrows(EnrollmentRefusedException.class,
                () -> client.enroll(caTrust, "fl1.wrong", "10000", "fate.org", KeyType.EC_P256, null));
        assertTrue(wrong.getMessage().contains("not known to this CA"), wrong.getMessage());
        HttpResponse<String> noCert = HttpClient.newBuilder().sslContext(caTrust.clientContext()).build()
                .send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.address().getPort()
                        + EnrollmentServer.RENEW)).POST(HttpRequest.BodyPublishers.ofString(
                        Keys.csr(KeyType.EC_P256.generate(), "10000.fate.org"))).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(403, noCert.statusCode());
        assertTrue(noCert.body().contains("needs the party's current certificate"), noCert.body());

        CaFolder.of(caDir, null).revoke(renewed.certificate().getSerialNumber(), RevocationReason.KEY_COMPROMISE);
        Renewer r = Renewer.builder(client, files).build();
        EnrollmentRefusedException revoked = assertThrows(EnrollmentRefusedException.class, r::renewNow);
        assertTrue(revoked.getMessage().contains("was revoked"), revoked.getMessage());
        assertEquals(renewed.certificate(), files.read().certificate(), "the current files stay");
    }

    @Test
    void aSupersededCertificateAndARemovedPartyCannotRenewAndAFreshTokenWorks() throws Exception {
        TlsMaterial first = enroll("10000", null);
        TlsMaterial second = client.renew(first, null);
        EnrollmentRefusedException superseded = assertThrows(EnrollmentRefusedException.class,
                () -> client.renew(first, null));
        assertTrue(superseded.getMessage().contains("was superseded by a renewal"), superseded.getMessage());

        assertEquals(2, CaFolder.of(caDir, null).revokeParty("10000"));
        EnrollmentRefusedException removed = assertThrows(EnrollmentRefusedException.class,
                () -> client.renew(second, null));
        assertTrue(removed.getMessage().contains("was revoked"), removed.getMessage());
        assertTrue(PemCodec.readCrl(Files.readString(caDir.resolve("crl.pem"))).isRevoked(second.certificate()));

        TlsMaterial back = enroll("10000", null); // the operator's new token lets the party back
        assertNotEquals(second.certificate(), client.renew(back, null).certificate());
    }

    @Test
    void theRenewerRenewsTwiceAndHandsTheNewIdentityToALiveContext() throws Exception {
        PartyFiles files = new PartyFiles(partyDir);
        files.write(enroll("10000", Duration.ofSeconds(3)));
        ReloadableTlsMaterial live = ReloadableTlsMaterial.of(files.read());
        List<BigInteger> serials = new CopyOnWriteArrayList<>();
        CountDownLatch twice = new CountDownLatch(2);
        try (Renewer r = Renewer.builder(client, files).lifetime(Duration.ofSeconds(3)).onRenewed(m -> {
            live.update(m);
            serials.add(m.certificate().getSerialNumber());
            twice.countDown();
        }).build()) {
            r.start();
            assertTrue(twice.await(30, TimeUnit.SECONDS), "two renewals of a 3-second certificate");
        }
        assertTrue(live.generation() >= 2);
        assertEquals(serials.size(), serials.stream().distinct().count());
        assertTrue(serials.contains(files.read().certificate().getSerialNumber()));
        try (var versions = Files.list(partyDir.resolve("versions"))) {
            assertTrue(versions.count() <= 2, "old versions are pruned");
        }
    }

    @Test
    void aFailingRenewalKeepsTheFilesAndBacksOff() throws Exception {
        PartyFiles files = new PartyFiles(partyDir);
        files.write(enroll("10000", Duration.ofSeconds(3)));
        BigInteger serial = files.read().certificate().getSerialNumber();
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        EnrollmentClient nowhere = new EnrollmentClient(URI.create("https://127.0.0.1:" + deadPort));
        try (Renewer r = Renewer.builder(nowhere, files).backoff(Duration.ofMillis(100), Duration.ofMillis(400))
                .build()) {
            assertEquals(Duration.ofMillis(100), r.backoff(1));
            assertEquals(Duration.ofMillis(200), r.backoff(2));
            assertEquals(Duration.ofMillis(400), r.backoff(3));
            assertEquals(Duration.ofMillis(400), r.backoff(30));
            r.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (r.failures() < 3 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(r.failures() >= 3, "retried");
        }
        assertEquals(serial, files.read().certificate().getSerialNumber(), "the old certificate stays");
    }
}
