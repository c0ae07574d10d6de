package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.internal.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CertificateAuthorityTest {
    static final CertificateAuthority FATE = CertificateAuthority.builder().commonName("fate.org CA")
            .permitDns("fate.org").create();

    @Test
    void partyCertificateAsTheFateGuideWants() throws Exception {
        IssuedCertificate c = FATE.issue(CertificateRequest.party("10000", "fate.org"));
        X509Certificate x = c.certificate();
        assertEquals("CN=10000.fate.org", x.getSubjectX500Principal().getName());
        assertEquals(List.of(List.of(2, "10000.fate.org")), List.copyOf(x.getSubjectAlternativeNames()));
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), x.getExtendedKeyUsage());
        assertEquals(-1, x.getBasicConstraints());
        boolean[] ku = x.getKeyUsage();
        assertTrue(ku[0] && !ku[2], "EC keys: digitalSignature only");
        assertTrue(x.getSerialNumber().bitLength() >= 64);
        assertTrue(x.getNotBefore().toInstant().isBefore(java.time.Instant.now().minusSeconds(60)), "skew margin");
        assertEquals("SHA256withECDSA", x.getSigAlgName());
        x.verify(FATE.certificate().getPublicKey());
        assertEquals(x, c.tlsMaterial().certificate());
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void profilesSetExactlyTheirKeyUsages(Profile profile) throws Exception {
        CertificateRequest r = CertificateRequest.of(profile).dns("p.fate.org");
        X509Certificate x = FATE.issue(r).certificate();
        List<String> eku = x.getExtendedKeyUsage();
        assertEquals(profile.serverAuth(), eku.contains("1.3.6.1.5.5.7.3.1"), profile + " " + eku);
        assertEquals(profile.clientAuth(), eku.contains("1.3.6.1.5.5.7.3.2"), profile + " " + eku);
    }

    @Test
    void rsaKeysAlsoGetKeyEncipherment() throws Exception {
        X509Certificate x = FATE.issue(CertificateRequest.server("r.fate.org").keyType(KeyType.RSA_2048)).certificate();
        assertTrue(x.getKeyUsage()[0] && x.getKeyUsage()[2]);
        X509Certificate ed = FATE.issue(CertificateRequest.server("e.fate.org").keyType(KeyType.ED25519)).certificate();
        assertFalse(ed.getKeyUsage()[2]);
    }

    @Test
    void nameConstraintsAreEnforcedAndWritten() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FATE.issue(CertificateRequest.server("10000.fate.org", "evil.com")));
        assertEquals("name 'evil.com' is outside this CA's name constraints [fate.org]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FATE.issue(CertificateRequest.server("fate.org.evil.com")));
        assertThrows(IllegalArgumentException.class, () -> FATE.issue(CertificateRequest.client("x.evil.com")));
        assertTrue(FATE.certificate().getCriticalExtensionOIDs().contains("2.5.29.30"));
        Path saved = Files.createTempDirectory("fate-ca");
        FATE.save(saved, null);
        assertEquals(List.of("fate.org"), CertificateAuthority.load(saved).permittedDns(),
                "constraints are read back from the certificate");
    }

    @Test
    void profileRulesNameTheProblem() {
        assertEquals("a server certificate needs at least one DNS name or IP address (clients verify it)",
                assertThrows(IllegalArgumentException.class,
                        () -> FATE.issue(CertificateRequest.of(Profile.SERVER).commonName("x"))).getMessage());
        assertEquals("wildcard DNS name '*.fate.org' is allowed only in server certificates",
                assertThrows(IllegalArgumentException.class,
                        () -> FATE.issue(CertificateRequest.peer("*.fate.org"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateRequest.server("bad_name.fate.org"))
                .getMessage().contains("'bad_name.fate.org'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateRequest.party("10000.x", "fate.org"))
                .getMessage().contains("invalid party id '10000.x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateRequest.server("a.fate.org").ip("1.2.3"))
                .getMessage().contains("invalid IP address '1.2.3'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateRequest.server("a.fate.org").days(0))
                .getMessage().contains("1..3650 days, was 0"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> FATE.issue(CertificateRequest.server("a.fate.org").validity(java.time.Instant.now(),
                        java.time.Instant.now().plus(java.time.Duration.ofDays(20000))))).getMessage()
                .contains("outlives the CA"));
    }

    @Test
    void intermediatesChainAndInheritConstraints() throws Exception {
        CertificateAuthority mid = FATE.intermediate().commonName("fate.org issuing CA").create();
        assertEquals(List.of("fate.org"), mid.permittedDns());
        assertEquals(0, mid.certificate().getBasicConstraints());
        IssuedCertificate c = mid.issue(CertificateRequest.party("9999", "fate.org"));
        assertEquals(2, c.chain().size());
        assertEquals(FATE.certificate(), c.root());
        assertThrows(IllegalArgumentException.class, () -> mid.issue(CertificateRequest.server("x.evil.com")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> mid.intermediate().create()).getMessage()
                .contains("path length 0"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> FATE.intermediate().permitDns("evil.com").create()).getMessage().contains("'evil.com'"));
    }

    @Test
    void saveAndLoadRoundTripWithStrictModes(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("round trip").create();
        IssuedCertificate c = ca.issue(CertificateRequest.server("a.example"));
        ca.revoke(c.serial(), RevocationReason.KEY_COMPROMISE);
        Path folder = dir.resolve("ca");
        ca.save(folder, "s3cret".toCharArray());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder)));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(folder.resolve("ca-key.pem"))));
        assertTrue(Files.readString(folder.resolve("ca-key.pem")).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY"));
        CertificateAuthority back = CertificateAuthority.load(folder, "s3cret".toCharArray());
        assertEquals(ca.certificate(), back.certificate());
        assertEquals(ca.issued(), back.issued());
        assertTrue(back.crl().isRevoked(c.certificate()));
        back.issue(CertificateRequest.server("b.example")).certificate().verify(ca.certificate().getPublicKey());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(folder,
                "wrong".toCharArray())).getMessage().contains("wrong password"));
    }

    @Test
    void damagedFoldersFailClearlyAndStayUntouched(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().create();
        ca.issue(CertificateRequest.server("a.example"));
        ca.save(dir, null);
        Path index = dir.resolve("index.tsv");
        String good = Files.readString(index);
        Files.writeString(index, good + "zz\tnot-a-date\t-\t-\tCN=x\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dir));
        assertTrue(e.getMessage().startsWith(index + ":4: "), e.getMessage());
        Files.writeString(index, good);
        Files.writeString(dir.resolve("ca-key.pem"), PemCodec.privateKey(KeyType.EC_P256.generate().getPrivate()));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dir)).getMessage()
                .contains("does not belong to certificate"));
        Files.delete(dir.resolve("ca-key.pem"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dir)).getMessage()
                .contains("ca-key.pem: not found"));
        assertEquals(good, Files.readString(index), "loading never writes");
    }

    @Test
    void revocationAndCrl() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().create();
        IssuedCertificate a = ca.issue(CertificateRequest.server("a.example"));
        IssuedCertificate b = ca.issue(CertificateRequest.server("b.example"));
        ca.revoke(a.serial(), RevocationReason.SUPERSEDED);
        var crl = ca.crl();
        crl.verify(ca.certificate().getPublicKey());
        assertTrue(crl.isRevoked(a.certificate()));
        assertFalse(crl.isRevoked(b.certificate()));
        assertEquals(crl, PemCodec.readCrl(PemCodec.crl(crl)));
        assertThrows(IllegalArgumentException.class, () -> ca.revoke(java.math.BigInteger.TEN,
                RevocationReason.UNSPECIFIED));
        assertTrue(ca.issued().get(0).revoked());
        assertNull(ca.issued().get(1).revokedAt());
    }

    @Test
    void keysInPemFormsRoundTrip() {
        IssuedCertificate c = FATE.issue(CertificateRequest.client("pem.fate.org").keyType(KeyType.RSA_2048));
        assertEquals(c.privateKey(), Pem.privateKey(c.privateKeyPem(), null));
        String enc = c.encryptedPrivateKeyPem("pw".toCharArray());
        assertEquals(c.privateKey(), Pem.privateKey(enc, "pw".toCharArray()));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Pem.privateKey(enc, null)).getMessage()
                .contains("a password is needed"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Pem.privateKey(c.chainPem(), null))
                .getMessage().contains("no private key block found"));
        assertFalse(c.toString().contains(c.privateKeyPem().substring(30, 60)));
    }
}
