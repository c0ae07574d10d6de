package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.internal.Keys;
import io.fedlink.pki.internal.Pem;
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
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

/** The CA side's enrollment policy: what it signs, and each refusal leaving the index and tokens unchanged. */
class EnrollmentAuthorityTest extends EnrollmentFixture {
    private static String csr(String name) {
        return Keys.csr(KeyType.EC_P256.generate(), name);
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
        String token = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));
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

        IssuedCertificate renewed = authority.renew(first.chain(), csr("10000.fate.org"), null);
        assertEquals(2, ca.issued().size());
        assertTrue(Duration.between(Instant.now(), renewed.certificate().getNotAfter().toInstant())
                .compareTo(Duration.ofMinutes(59)) > 0, "the policy's maximum when none is asked");
        Files.writeString(dir.resolve("leaf.pem"), renewed.chainPem());
        Tools.ok(dir, "openssl", "verify", "-CAfile", "ca.pem", "leaf.pem");
    }

    @Test
    void refusalsOfFirstEnrollments() throws Exception {
        String token = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));
        refused("not known to this CA", () -> authority.enroll("fl1.wrong", csr("10000.fate.org"), null));
        refused("not known to this CA", () -> authority.enroll(null, csr("10000.fate.org"), null));
        refused("party 10000 may have only CN=10000.fate.org", () -> authority.enroll(token, csr("9999.fate.org"),
                null));
        refused("asks for subject 'CN=10000.evil.com'", () -> authority.enroll(token, csr("10000.evil.com"), null));
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        refused("RSA 1024", () -> authority.enroll(token, Keys.csr(rsa.generateKeyPair(),
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

        String late = CaFolder.of(dir, null).createToken("9999", Duration.ofMinutes(5));
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
        refused("party 10000 may have only", () -> authority.renew(valid.chain(), csr("9999.fate.org"), null));
        CertificateAuthority other = CertificateAuthority.builder().commonName("other CA").create();
        refused("not issued by this CA", () -> authority.renew(
                other.issue(CertificateRequest.party("10000", "fate.org")).chain(), csr("10000.fate.org"), null));
        refused("needs the party's current certificate", () -> authority.renew(List.of(), csr("10000.fate.org"),
                null));
    }

    /** A CSR with {@code subject} (RFC 4514, may be empty) and these SANs, for a new P-256 key. */
    static String csrFor(String subject, GeneralName... sans) throws Exception {
        return csrFor(KeyType.EC_P256.generate(), subject, sans);
    }

    static String csrFor(KeyPair pair, String subject, GeneralName... sans) throws Exception {
        var b = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), pair.getPublic());
        if (sans.length > 0) {
            ExtensionsGenerator ext = new ExtensionsGenerator();
            ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
        }
        return Pem.csrPem(b.build(new JcaContentSignerBuilder(Keys.signatureAlgorithmFor(pair.getPublic()))
                .setProvider(Pem.BC).build(pair.getPrivate())));
    }

    static GeneralName dns(String name) {
        return new GeneralName(GeneralName.dNSName, name);
    }

    /** What 'fedlink pki cert create --party ID' issues: subject, SANs and extended key usage. */
    private List<Object> identityOf(X509Certificate c) throws Exception {
        return List.of(c.getSubjectX500Principal().getName(), c.getSubjectAlternativeNames().stream()
                .map(l -> List.<Object>copyOf(l)).toList(), c.getExtendedKeyUsage());
    }

    @Test
    void enrollmentAndRenewalIssueExactlyThePartysCanonicalIdentity() throws Exception {
        List<Object> canonical = identityOf(ca.issue(CertificateRequest.party("10000", "fate.org")).certificate());
        assertEquals("CN=10000.fate.org", canonical.get(0));
        String token = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));
        IssuedCertificate blank = authority.enroll(token, csrFor(""), null);
        assertEquals(canonical, identityOf(blank.certificate()), "an empty CSR gets the canonical identity");
        // each renewal from the newest certificate (a renewal supersedes the one it was made with)
        IssuedCertificate cn = authority.renew(blank.chain(), csrFor("CN=10000.fate.org"), null);
        assertEquals(canonical, identityOf(cn.certificate()), "the canonical CN alone");
        IssuedCertificate san = authority.renew(cn.chain(), csrFor("", dns("10000.fate.org")), null);
        assertEquals(canonical, identityOf(san.certificate()), "the canonical SAN alone");
        assertEquals(canonical, identityOf(authority.renew(san.chain(), csrFor("CN=10000.FATE.ORG",
                dns("10000.Fate.Org")), null).certificate()), "names compare as DNS names do, without case");
    }

    @Test
    void aCsrAskingForAnythingButThePartysOwnIdentityIsRefused() throws Exception {
        String token = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));
        GeneralName own = dns("10000.fate.org");
        String may = "party 10000 may have only CN=10000.fate.org and DNS:10000.fate.org";
        refused("asks for subject 'CN=root'", () -> authority.enroll(token, csrFor("CN=root", own), null));
        refused(may, () -> authority.enroll(token, csrFor("CN=root", own), null));
        refused("'CN=9999.fate.org'", () -> authority.enroll(token, csrFor("CN=9999.fate.org", own), null));
        refused("'CN=operator'", () -> authority.enroll(token, csrFor("CN=operator"), null));
        refused("'CN=10000.fate.org,O=anything'", () -> authority.enroll(token, csrFor("O=anything,CN=10000.fate.org",
                own), null));
        refused("'OU=x'", () -> authority.enroll(token, csrFor("OU=x"), null));
        refused("'OU=x+CN=10000.fate.org'", () -> authority.enroll(token, csrFor("CN=10000.fate.org+OU=x"), null));
        refused("DNS:broker.10000.fate.org", () -> authority.enroll(token, csrFor("CN=10000.fate.org", own,
                dns("broker.10000.fate.org")), null));
        refused("DNS:9999.fate.org", () -> authority.enroll(token, csrFor("", dns("9999.fate.org")), null));
        refused("DNS:root", () -> authority.enroll(token, csrFor("", own, dns("root")), null));
        refused("IP:127.0.0.1", () -> authority.enroll(token, csrFor("", own, new GeneralName(GeneralName.iPAddress,
                new DEROctetString(new byte[] {127, 0, 0, 1}))), null));
        refused("URI:spiffe://fate.org/root", () -> authority.enroll(token, csrFor("", own,
                new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://fate.org/root")), null));
        refused("email", () -> authority.enroll(token, csrFor("", own,
                new GeneralName(GeneralName.rfc822Name, "root@fate.org")), null));
        assertTrue(Files.readString(dir.resolve(EnrollmentTokens.FILE)).contains("\t-\n"), "the token is unused");

        IssuedCertificate mine = authority.enroll(token, csrFor(""), null);
        refused("'CN=root'", () -> authority.renew(mine.chain(), csrFor("CN=root", own), null));
        refused("'CN=9999.fate.org'", () -> authority.renew(mine.chain(), csrFor("CN=9999.fate.org"), null));
        refused("DNS:9999.fate.org", () -> authority.renew(mine.chain(), csrFor("", own, dns("9999.fate.org")), null));
    }

    /** What a CSR asked for is the requester's text: quoted with control characters escaped, never a new log line. */
    @Test
    void aRefusalQuotesTheRequestersNames() throws Exception {
        String token = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));
        String why = assertThrows(EnrollmentRefusedException.class, () -> authority.enroll(token, csrFor("",
                dns("10000.fate.org"), dns("x.fate.org\nINFO forged line")), null)).getMessage();
        assertFalse(why.contains("\n"), why);
        assertTrue(why.contains("'DNS:x.fate.org\\u000aINFO forged line'"), why);
    }

    @Test
    void onlyPartyCertificatesRenewAndOnlyIntoPartyCertificates() throws Exception {
        // the README's etcd operator identity, and the same with the party's name: neither is a party certificate
        IssuedCertificate operator = ca.issue(CertificateRequest.client("operator"));
        IssuedCertificate clientNamedLikeAParty = ca.issue(CertificateRequest.of(Profile.CLIENT)
                .commonName("10000.fate.org").dns("10000.fate.org"));
        IssuedCertificate serverOnly = ca.issue(CertificateRequest.server("10000.fate.org"));
        IssuedCertificate extraNames = ca.issue(CertificateRequest.peer("10000.fate.org", "x.10000.fate.org"));
        IssuedCertificate rootCn = ca.issue(CertificateRequest.peer("10000.fate.org").commonName("root"));
        ca.saveIndex(dir);
        for (IssuedCertificate c : List.of(operator, clientNamedLikeAParty, serverOnly, extraNames, rootCn)) {
            // refused by its recorded role (client, server) or, recorded as a peer, by what it names
            String why = assertThrows(EnrollmentRefusedException.class,
                    () -> authority.renew(c.chain(), csrFor(""), null)).getMessage();
            assertTrue(why.contains("is not a party certificate") || why.contains("only peer certificates renew"),
                    why);
        }
        IssuedCertificate party = ca.issue(CertificateRequest.party("10000", "fate.org"));
        ca.saveIndex(dir);
        assertEquals("10000", authority.partyOf(party.certificate()));
    }

    @Test
    void partyIdsAreCaseInsensitiveAndReservedNamesAreRefused() throws Exception {
        String token = CaFolder.of(dir, null).createToken("ABC", Duration.ofHours(1));
        assertTrue(Files.readString(dir.resolve(EnrollmentTokens.FILE)).contains("\tabc\t"), "recorded canonical");
        IssuedCertificate c = authority.enroll(token, Keys.csr(KeyType.EC_P256.generate(), "ABC.fate.org"),
                null);
        assertEquals("CN=abc.fate.org", c.certificate().getSubjectX500Principal().getName());
        for (String reserved : List.of("root", "Operator", "proxy", "etcdctl")) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> CaFolder.of(dir, null).createToken(
                    reserved, Duration.ofHours(1))).getMessage().contains("reserved"));
        }
        assertThrows(IllegalArgumentException.class, () -> CertificateRequest.party("root", "fate.org"));
    }

    @Test
    void aPartyNamedLikeTheCaIsRefused() throws Exception {
        CertificateAuthority named = CertificateAuthority.builder().commonName("7.fate.org").create();
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        named.saveNew(other, null);
        ca = named;
        dir = other;
        authority = new EnrollmentAuthority(named, other, EnrollmentPolicy.of("fate.org"));
        String token = CaFolder.of(other, null).createToken("7", Duration.ofHours(1));
        refused("a name of this CA", () -> authority.enroll(token, csrFor(""), null));
    }

    @Test
    void keysOutsideThePolicyAreRefusedAndTheRealCurveIsIssued() throws Exception {
        String token = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));
        for (String curve : List.of("secp256k1", "secp112r1", "brainpoolP256r1")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", Pem.BC);
            g.initialize(new java.security.spec.ECGenParameterSpec(curve));
            String weak = csrFor(g.generateKeyPair(), "");
            refused("EC " + curve, () -> authority.enroll(token, weak, null));
            refused(KeyType.ACCEPTED, () -> authority.enroll(token, weak, null));
        }
        IssuedCertificate p521 = authority.enroll(token, csrFor(KeyType.EC_P521.generate(), ""), null);
        assertEquals("EC P-521", Keys.describe(p521.certificate().getPublicKey()));
    }
}
