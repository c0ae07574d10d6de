package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.CertificateAuthority.IndexEntry;
import io.fedlink.pki.internal.Keys;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What the CA records about each certificate (the party and profile, from what it knows, never from the subject),
 * and the operations that select by those records: supersede, {@link EnrollmentAuthority#revokeParty} and
 * {@code ca retire --revoke-superseded}.
 */
class PartyRecordsTest extends EnrollmentFixture {
    private IssuedCertificate enroll(EnrollmentAuthority a, String party, String cn) throws IOException {
        String token = CaFolder.of(a.caDir(), null).createToken(party, Duration.ofHours(1));
        return a.enroll(token, Keys.csr(KeyType.EC_P256.generate(), cn), null);
    }

    private static IssuedCertificate renew(EnrollmentAuthority a, IssuedCertificate from, String cn)
            throws IOException {
        return a.renew(from.chain(), Keys.csr(KeyType.EC_P256.generate(), cn), null);
    }

    private static IndexEntry entry(Path caDir, BigInteger serial) throws IOException {
        return CertificateAuthority.load(caDir).entry(serial);
    }

    private static List<BigInteger> listed(X509CRL crl) {
        return crl.getRevokedCertificates() == null ? List.of() : crl.getRevokedCertificates().stream()
                .map(r -> r.getSerialNumber()).collect(Collectors.toList());
    }

    @Test
    void theIndexRecordsTheTokensPartyAndTheRenewedCertificatesPartyNotTheSubject() throws Exception {
        IssuedCertificate first = enroll(authority, "10000", "10000.fate.org");
        IssuedCertificate renewed = renew(authority, first, "10000.fate.org");
        for (IssuedCertificate c : List.of(first, renewed)) {
            IndexEntry e = entry(dir, c.serial());
            assertEquals("10000", e.party());
            assertEquals("peer", e.profile());
        }
        assertTrue(Files.readString(dir.resolve("index.tsv")).lines().anyMatch(l -> l.startsWith(
                renewed.serial().toString(16) + "\t") && l.endsWith("\t10000\tpeer")));
        IssuedCertificate operator = ca.issue(CertificateRequest.client("operator"));
        ca.saveIndex(dir);
        assertNull(entry(dir, operator.serial()).party());
        assertEquals("client", entry(dir, operator.serial()).profile());
    }

    @Test
    void theSupersededCertificateIsRevokedAfterTheOverlap() throws Exception {
        IssuedCertificate first = enroll(authority, "10000", "10000.fate.org");
        Instant before = Instant.now();
        IssuedCertificate second = renew(authority, first, "10000.fate.org");
        IndexEntry e = entry(dir, first.serial());
        assertEquals(RevocationReason.SUPERSEDED, e.reason());
        Duration overlap = Duration.between(before, e.revokedAt());
        assertTrue(overlap.compareTo(Duration.ofMinutes(9)) > 0 && overlap.compareTo(Duration.ofMinutes(11)) < 0,
                overlap.toString());
        assertFalse(listed(CertificateAuthority.load(dir).crl()).contains(first.serial()), "still in its overlap");

        authority.renewalRules(new RenewalRules(Duration.ZERO, 6, Duration.ofHours(1)));
        renew(authority, second, "10000.fate.org");
        assertTrue(listed(CertificateAuthority.load(dir).crl()).contains(second.serial()), "overlap over");
    }

    @Test
    void anIndexOfFiveColumnsLoadsAndItsPartyCertificatesRenewOnceFromTheirDnsName() throws Exception {
        IssuedCertificate old = enroll(authority, "10000", "10000.fate.org");
        IssuedCertificate operator = ca.issue(CertificateRequest.client("operator"));
        ca.saveIndex(dir);
        // the index as an earlier version wrote it: 5 columns, no party
        Path index = dir.resolve("index.tsv");
        Files.writeString(index, "# serial\tnot_after\trevoked_at\treason\tsubject\n# crl_number\t0\n"
                + ca.issued().stream().map(x -> x.serial().toString(16) + "\t" + x.notAfter() + "\t-\t-\t"
                        + x.subject() + "\n").collect(Collectors.joining()));
        CertificateAuthority loaded = CertificateAuthority.load(dir);
        assertNull(loaded.entry(old.serial()).party());
        assertEquals(2, loaded.issued().size());

        EnrollmentAuthority upgraded = new EnrollmentAuthority(loaded, dir, authority.policy());
        IssuedCertificate renewed = renew(upgraded, old, "10000.fate.org");
        assertEquals("10000", entry(dir, renewed.serial()).party(), "derived once from its DNS name, then recorded");
        EnrollmentRefusedException again = assertThrows(EnrollmentRefusedException.class,
                () -> renew(upgraded, old, "10000.fate.org"));
        assertTrue(again.getMessage().contains("superseded"), again.getMessage());
        EnrollmentRefusedException role = assertThrows(EnrollmentRefusedException.class,
                () -> upgraded.renew(operator.chain(), Keys.csr(KeyType.EC_P256.generate(),
                        "10000.fate.org"), null));
        assertTrue(role.getMessage().contains("is not a party certificate"), role.getMessage());
    }

    @Test
    void revokingAPartyRevokesAllItsCertificatesItsTokensAndPublishesTheCrl() throws Exception {
        IssuedCertificate first = enroll(authority, "10000", "10000.fate.org");
        IssuedCertificate second = renew(authority, first, "10000.fate.org"); // first: superseded, in its overlap
        IssuedCertificate other = enroll(authority, "9999", "9999.fate.org");
        String unused = CaFolder.of(dir, null).createToken("10000", Duration.ofHours(1));

        assertEquals(2, CaFolder.of(dir, null).revokeParty("10000"));
        X509CRL crl = PemCodec.readCrl(Files.readString(dir.resolve("crl.pem")));
        crl.verify(ca.certificate().getPublicKey());
        assertTrue(listed(crl).containsAll(List.of(first.serial(), second.serial())), listed(crl).toString());
        assertFalse(listed(crl).contains(other.serial()));
        assertEquals(RevocationReason.CESSATION_OF_OPERATION, entry(dir, second.serial()).reason());

        EnrollmentRefusedException renewal = assertThrows(EnrollmentRefusedException.class,
                () -> renew(authority, second, "10000.fate.org"));
        assertTrue(renewal.getMessage().contains("was revoked"), renewal.getMessage());
        EnrollmentRefusedException token = assertThrows(EnrollmentRefusedException.class,
                () -> authority.enroll(unused, Keys.csr(KeyType.EC_P256.generate(), "10000.fate.org"),
                        null));
        assertTrue(token.getMessage().contains("expired at"), token.getMessage());
        renew(authority, other, "9999.fate.org"); // another party is untouched

        IssuedCertificate back = enroll(authority, "10000", "10000.fate.org"); // a new token lets it back
        renew(authority, back, "10000.fate.org");
        assertEquals(0, CaFolder.of(dir, null).revokeParty("unknown-party"));
        assertThrows(IllegalArgumentException.class, () -> CaFolder.of(dir, null).revokeParty("../x"));
    }

    @Test
    void aPartyRequestIsRecordedAsItsCanonicalPartyAndNoOtherRequestIs() throws Exception {
        IssuedCertificate party = ca.issue(CertificateRequest.party("ABC", "Fate.org"));
        IssuedCertificate named = ca.issue(CertificateRequest.peer("abc.fate.org")); // the same name, not a party's
        ca.saveIndex(dir);
        assertEquals("abc", entry(dir, party.serial()).party(), "canonical, as tokens and renewals record it");
        assertNull(entry(dir, named.serial()).party());
        assertEquals(1, CaFolder.of(dir, null).revokeParty("abc"));
        assertTrue(entry(dir, party.serial()).revoked());
        assertFalse(entry(dir, named.serial()).revoked(), "selected by the record, never by the name");
    }

    @Test
    void retireRevokesSupersededCertificatesByRecordedPartyNotBySubjectText() throws Exception {
        Path caDir = dir.resolve("ca");
        CertificateAuthority old = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create();
        old.saveNew(caDir, null);
        IssuedCertificate victim = old.issue(CertificateRequest.party("9999", "fate.org"));
        // party 10000's certificate whose subject text is party 9999's (what an unchecked CN used to allow)
        CertificateRequest lookalike = CertificateRequest.party("10000", "fate.org").commonName("9999.fate.org");
        IssuedCertificate mimic = old.issue(lookalike);
        old.saveIndex(caDir);
        CaRollover.start(caDir, null, null, null, 3650);
        CertificateAuthority next = CertificateAuthority.load(caDir);
        IssuedCertificate renewed = next.issue(lookalike); // party 10000 renewed: same subject text
        next.saveIndex(caDir);
        assertEquals(victim.certificate().getSubjectX500Principal(), renewed.certificate().getSubjectX500Principal());

        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> CaRollover.retire(caDir, true, false, Instant.now()));
        assertTrue(refused.getMessage().contains("serial " + victim.serial().toString(16)), refused.getMessage());
        Path previous = caDir.resolve(CaRollover.PREVIOUS);
        assertFalse(entry(previous, victim.serial()).revoked(), "never selected by its subject text");
        assertEquals(RevocationReason.SUPERSEDED, entry(previous, mimic.serial()).reason(), "its own party renewed");
    }
}
