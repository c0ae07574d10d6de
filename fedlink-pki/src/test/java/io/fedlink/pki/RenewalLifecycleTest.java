package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.internal.Keys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Renewal as a lifecycle: only from the party's newest certificate, which it supersedes; a lost response retried
 * with the same key gets the same certificate; a per-party rate limit; and an index file whose last append was cut
 * short still loads.
 */
class RenewalLifecycleTest extends EnrollmentFixture {
    private IssuedCertificate enroll(String party) throws IOException {
        String token = CaFolder.of(dir, null).createToken(party, Duration.ofHours(1));
        return authority.enroll(token, Keys.csr(KeyType.EC_P256.generate(), party + ".fate.org"), null);
    }

    private IssuedCertificate renew(IssuedCertificate from, KeyPair key) throws IOException {
        return authority.renew(from.chain(), Keys.csr(key, "10000.fate.org"), null);
    }

    private String refusal(Call call) throws IOException {
        String index = Files.readString(dir.resolve("index.tsv"));
        long refusals = authority.refusals();
        EnrollmentRefusedException e = assertThrows(EnrollmentRefusedException.class, call::run);
        assertEquals(index, Files.readString(dir.resolve("index.tsv")), "index.tsv unchanged");
        assertEquals(refusals + 1, authority.refusals(), "counted");
        return e.getMessage();
    }

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    @Test
    void theSupersededCertificateRenewsOnlyAsARetryOfTheSameKey() throws Exception {
        IssuedCertificate first = enroll("10000");
        KeyPair key = KeyType.EC_P256.generate();
        IssuedCertificate second = renew(first, key);

        IssuedCertificate again = renew(first, key); // the response was lost: the party asks again
        assertEquals(second.certificate(), again.certificate(), "the same certificate, not a second one");

        String m = refusal(() -> renew(first, KeyType.EC_P256.generate()));
        assertTrue(m.contains("certificate " + first.serial().toString(16) + " was superseded"), m);
        assertTrue(m.contains("renew with the certificate that renewal issued"), m);

        IssuedCertificate third = renew(second, KeyType.EC_P256.generate()); // the newest renews
        String m2 = refusal(() -> renew(second, KeyType.EC_P256.generate()));
        assertTrue(m2.contains("superseded"), m2);
        assertTrue(third.serial().bitLength() > 0);
    }

    @Test
    void onlyTheNewestCertificateOfAPartyRenews() throws Exception {
        IssuedCertificate older = enroll("10000");
        IssuedCertificate newer = enroll("10000"); // a second token: the operator let it enroll again
        String m = refusal(() -> renew(older, KeyType.EC_P256.generate()));
        assertTrue(m.contains("is not the newest certificate of party 10000 (" + newer.serial().toString(16)
                + " is)"), m);
        renew(newer, KeyType.EC_P256.generate());
    }

    @Test
    void aBurstOfRenewalsIsRefusedAndCounted() throws Exception {
        IssuedCertificate current = enroll("10000");
        IssuedCertificate other = enroll("9999");
        for (int i = 0; i < 6; i++) { // the default: 6 per party per hour
            current = renew(current, KeyType.EC_P256.generate());
        }
        IssuedCertificate last = current;
        String m = refusal(() -> renew(last, KeyType.EC_P256.generate()));
        assertTrue(m.contains("party 10000 renewed 6 times within PT1H (the limit): try again after"), m);
        assertEquals(1, authority.rateLimited());
        authority.renew(other.chain(), Keys.csr(KeyType.EC_P256.generate(), "9999.fate.org"), null);
    }

    @Test
    void aFinalLineCutShortByACrashIsIgnoredAndReplacedByTheNextRecord() throws Exception {
        IssuedCertificate first = enroll("10000");
        Path index = dir.resolve("index.tsv");
        Files.writeString(index, "5a5a5a5a\t2030-01-0", StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
        CertificateAuthority loaded = CertificateAuthority.load(dir);
        assertEquals(ca.issued().size(), loaded.issued().size());

        IssuedCertificate second = enroll("9999"); // appends after cutting the partial line off
        String text = Files.readString(index);
        assertTrue(!text.contains("5a5a5a5a") && text.endsWith("\n"), text);
        assertTrue(text.contains(second.serial().toString(16)) && text.contains(first.serial().toString(16)), text);
        assertEquals(ca.issued().size(), CertificateAuthority.load(dir).issued().size());
    }
}
