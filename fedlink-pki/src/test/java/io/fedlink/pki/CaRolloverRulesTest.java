package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules of a CA rollover without traffic: one at a time, only with a new name, the same name constraints. */
class CaRolloverRulesTest {
    @TempDir
    Path dir;
    Path caDir;

    @BeforeEach
    void start() throws Exception {
        caDir = dir.resolve("ca");
        CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").permitIp("127.0.0.0/8")
                .create().saveNew(caDir, null);
    }

    @Test
    void aSecondRolloverWaitsForTheRetirementAndRetireNeedsARollover() throws Exception {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> CaRollover.retire(caDir, false, false, Instant.now()));
        assertTrue(none.getMessage().contains("no rollover is in progress"), none.getMessage());
        CaRollover.start(caDir, null, "fate.org CA 2027", null, 3650);
        String index = Files.readString(caDir.resolve("index.tsv"));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> CaRollover.start(caDir, null, null, null, 3650));
        assertTrue(twice.getMessage().contains("already in progress"), twice.getMessage());
        assertEquals(index, Files.readString(caDir.resolve("index.tsv")));
        CertificateAuthority next = CertificateAuthority.load(caDir);
        assertEquals("CN=fate.org CA 2027", next.certificate().getSubjectX500Principal().getName());
        assertEquals(List.of("fate.org"), next.permittedDns(), "the same name constraints");
        assertEquals(List.of("127.0.0.0/8"), next.permittedIp());
        IssuedCertificate leaf = next.issue(CertificateRequest.party("10000", "fate.org"));
        assertEquals(2, leaf.chain().size(), "leaves carry the cross-signed root during the overlap");
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> next.issue(CertificateRequest.party("10000", "evil.org")));
        assertTrue(outside.getMessage().contains("evil.org"), outside.getMessage());
        assertEquals("fedlink CA G3", CaRollover.successorName("fedlink CA G2"));
        assertEquals("fedlink CA G2", CaRollover.successorName("fedlink CA"));
    }
}
