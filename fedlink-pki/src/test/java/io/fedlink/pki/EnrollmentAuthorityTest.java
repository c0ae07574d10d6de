package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA side's enrollment policy: what it signs, and each refusal leaving the index and tokens unchanged. */
class EnrollmentAuthorityTest {
    @TempDir
    Path dir;
    CertificateAuthority ca;
    EnrollmentAuthority authority;

    @BeforeEach
    void makeCa() throws IOException {
        ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").create();
        ca.saveNew(dir, null);
        authority = new EnrollmentAuthority(ca, dir, EnrollmentPolicy.of("fate.org").withMaxLifetime(Duration.ofHours(1)));
    }

    private static String csr(String name) {
        return EnrollmentClient.csr(KeyType.EC_P256.generate(), name);
    }

    /** Runs a refused request; checks the message and that nothing was issued or changed on disk. */
    private void refused(String expected, RefusedCall call) throws IOException {
        int issued = ca.issued().size();
        String index = Files.readString(dir.resolve("index.tsv"));
        Path tokens = dir.resolve(EnrollmentTokens.FILE);
        String tokenText = Files.exists(tokens) ? Files.readString(tokens) : "";
        long refusals = authority.refusals();
        EnrollmentRefusedException e = assertThrows(EnrollmentRefusedException.class, call::run);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(issued, ca.issued().size(), "nothing issued");
        assertEquals(index, Files.readString(dir.resolve("index.tsv")), "index.tsv unchanged");
        assertEquals(tokenText, Files.exists(tokens) ? Files.readString(tokens) : "", "tokens unchanged");
        assertEquals(refusals + 1, authority.refusals(), "counted");
    }

    @FunctionalInterface
    interface RefusedCall {
        void run() throws Exception;
    }

    @Test
    void aTokenEnrollsItsPartyOnceAndTheCertificateRenews() throws Exception {
        String token = EnrollmentAuthority.createToken(dir, "10000", Duration.ofHours(1));
        assertTrue(token.startsWith("fl1.") && token.length() > 40, token);
        Path tokens = dir.resolve(EnrollmentTokens.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokens)));
        assertTrue(!Files.readString(tokens).contains(token.substring(4)), "stored hashed only");

        IssuedCertificate first = authority.enroll(token, csr("10000.fate.org"), Duration.ofMinutes(10));
        X509Certificate leaf = first.certificate();
        assertEquals(List.of(List.of(2, "10000.fate.org")), leaf.getSubjectAlternativeNames().stream()
                .map(l -> List.<Object>copyOf(l)).toList());
        assertTrue(Duration.between(Instant.now(), leaf.getNotAfter().toInstant()).compareTo(Duration.ofMinutes(10)) <= 0);
        assertTrue(Files.readString(dir.resolve("index.tsv")).contains(first.serial().toString(16)));
        assertTrue(Files.readString(tokens).contains("\t10000\t"));

        IssuedCertificate renewed = authority.renew(first.chain(), csr("broker.10000.fate.org"), null);
        assertEquals(2, ca.issued().size());
        assertTrue(Duration.between(Instant.now(), renewed.certificate().getNotAfter().toInstant())
                .compareTo(Duration.ofMinutes(59)) > 0, "the policy's maximum when none is asked");
        Files.writeString(dir.resolve("leaf.pem"), renewed.chainPem());
        Tools.ok(dir, "openssl", "verify", "-CAfile", "ca.pem", "leaf.pem");
    }

    @Test
    void refusalsOfFirstEnrollments() throws Exception {
        String token = EnrollmentAuthority.createToken(dir, "10000", Duration.ofHours(1));
        refused("not known to this CA", () -> authority.enroll("fl1.wrong", csr("10000.fate.org"), null));
        refused("not known to this CA", () -> authority.enroll(null, csr("10000.fate.org"), null));
        refused("a name of another party", () -> authority.enroll(token, csr("9999.fate.org"), null));
        refused("outside the federation's domain fate.org",
                () -> authority.enroll(token, csr("10000.evil.com"), null));
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        refused("RSA of 1024 bits", () -> authority.enroll(token, EnrollmentClient.csr(rsa.generateKeyPair(),
                "10000.fate.org"), null));
        KeyPair carried = KeyType.EC_P256.generate();
        KeyPair signer = KeyType.EC_P256.generate();
        String forged = Pem.csrPem(new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=10000.fate.org"),
                carried.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        refused("signature does not verify", () -> authority.enroll(token, forged, null));
        refused("at most PT1H", () -> authority.enroll(token, csr("10000.fate.org"), Duration.ofHours(2)));
        refused("expected a CERTIFICATE REQUEST block", () -> authority.enroll(token, "not a CSR", null));

        authority.enroll(token, csr("10000.fate.org"), null);
        refused("already used", () -> authority.enroll(token, csr("10000.fate.org"), null));

        String late = EnrollmentAuthority.createToken(dir, "9999", Duration.ofMinutes(5));
        EnrollmentAuthority later = new EnrollmentAuthority(ca, dir, authority.policy(),
                Clock.fixed(Instant.now().plus(Duration.ofMinutes(6)), ZoneOffset.UTC));
        authority = later;
        refused("expired at", () -> later.enroll(late, csr("9999.fate.org"), null));
    }

    @Test
    void refusalsOfRenewals() throws Exception {
        Instant now = Instant.now();
        IssuedCertificate expired = ca.issue(CertificateRequest.party("10000", "fate.org")
                .validity(now.minus(Duration.ofHours(2)), now.minus(Duration.ofHours(1))));
        ca.saveIndex(dir);
        refused("expired at", () -> authority.renew(expired.chain(), csr("10000.fate.org"), null));

        IssuedCertificate revoked = ca.issue(CertificateRequest.party("10000", "fate.org"));
        ca.revoke(revoked.serial(), RevocationReason.KEY_COMPROMISE);
        ca.saveIndex(dir);
        refused("was revoked", () -> authority.renew(revoked.chain(), csr("10000.fate.org"), null));

        IssuedCertificate elsewhere = ca.issue(CertificateRequest.party("10000", "fate.org"));
        ca.saveIndex(dir);
        CertificateAuthority cli = CertificateAuthority.load(dir); // another process: 'fedlink pki revoke'
        cli.revoke(elsewhere.serial(), RevocationReason.KEY_COMPROMISE);
        cli.saveIndex(dir);
        refused("was revoked", () -> authority.renew(elsewhere.chain(), csr("10000.fate.org"), null));

        IssuedCertificate valid = ca.issue(CertificateRequest.party("10000", "fate.org"));
        ca.saveIndex(dir);
        refused("a name of another party", () -> authority.renew(valid.chain(), csr("9999.fate.org"), null));
        CertificateAuthority other = CertificateAuthority.builder().commonName("other CA").create();
        refused("not issued by this CA", () -> authority.renew(
                other.issue(CertificateRequest.party("10000", "fate.org")).chain(), csr("10000.fate.org"), null));
        refused("needs the party's current certificate", () -> authority.renew(List.of(), csr("10000.fate.org"),
                null));
    }
}
