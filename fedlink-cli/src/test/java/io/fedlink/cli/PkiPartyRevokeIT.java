package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.api.PemCodec;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fedlink pki party revoke ID} as a user runs it: the packaged jar as a process, its output and exit code. */
class PkiPartyRevokeIT {
    @TempDir
    Path dir;

    private Cli fedlink(String... args) throws Exception {
        return ProxyProcess.runSplit(ProxyProcess.fullJar(), args);
    }

    private int issued;

    private BigInteger issue(String ca, String party) throws Exception {
        Cli c = fedlink("pki", "cert", "create", "--ca-dir", ca, "--party", party, "--out", dir.toString(), "--file",
                "cert-" + ++issued);
        assertEquals(0, c.code(), c.out() + c.err());
        return new BigInteger(c.out().lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow()
                .substring(7), 16);
    }

    @Test
    void partyRevokeRevokesEveryCertificateOfThePartyAndWritesTheCrl() throws Exception {
        String ca = dir.resolve("fate-ca").toString();
        assertEquals(0, fedlink("pki", "ca", "create", "--ca-dir", ca, "--permit-dns", "fate.org").code());
        BigInteger first = issue(ca, "10000");
        BigInteger second = issue(ca, "10000");
        BigInteger other = issue(ca, "9999");

        Cli r = fedlink("pki", "party", "revoke", "--ca-dir", ca, "10000");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("==> Revoked 2 certificate(s) of party 10000 (cessation-of-operation)"), r.out());
        assertTrue(r.out().contains("==> Saved " + ca + "/crl.pem"), r.out());
        X509CRL crl = PemCodec.readCrl(Files.readString(Path.of(ca, "crl.pem")));
        CaFolder folder = CaFolder.of(Path.of(ca), null);
        CertificateAuthority loaded = folder.load();
        crl.verify(loaded.root().getPublicKey());
        assertTrue(crl.getRevokedCertificate(first) != null && crl.getRevokedCertificate(second) != null);
        assertEquals(null, crl.getRevokedCertificate(other), "another party is untouched");
        assertTrue(folder.list().stream().anyMatch(l -> l.startsWith("serial " + first.toString(16) + " ")
                && l.contains(" revoked ") && l.contains(" cessation-of-operation ")), folder.list().toString());

        Cli again = fedlink("pki", "party", "revoke", "--ca-dir", ca, "10000");
        assertEquals(0, again.code());
        assertTrue(again.out().contains("Revoked 0 certificate(s)"), again.out());

        Cli bad = fedlink("pki", "party", "revoke", "--ca-dir", ca, "../9999");
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("invalid party id '../9999'"), bad.err());
        assertFalse(bad.out().contains("Revoked"), bad.out());
        Cli missing = fedlink("pki", "party", "revoke", "--ca-dir", dir.resolve("nowhere").toString(), "10000");
        assertNotEquals(0, missing.code());
        assertTrue(missing.err().contains("not found"), missing.err());
    }
}
