package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.CaFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PkiCommandTest {
    @TempDir
    Path dir;

    private Cli ok(String... args) {
        Cli r = Cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    @Test
    void caCertRevokeAndCrlAsFolders() throws Exception {
        Path ca = dir.resolve("ca");
        Cli created = ok("pki", "ca", "create", "--ca-dir", ca.toString(), "--name", "fate.org CA", "--permit-dns",
                "fate.org", "--permit-ip", "127.0.0.0/8");
        assertTrue(created.out().contains("==> Saved " + ca.resolve("ca-key.pem")), created.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca-key.pem"))));

        Cli party = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "9999", "--role", "peer");
        assertTrue(party.out().contains("==> Saved " + ca.resolve("9999.fate.org.pem")), party.out());
        X509Certificate cert = PemCodec.readCertificate(Files.readString(ca.resolve("9999.fate.org.pem")));
        assertEquals("CN=9999.fate.org", cert.getSubjectX500Principal().getName());

        Files.writeString(dir.resolve("pw"), "store-secret\n");
        Files.setPosixFilePermissions(dir.resolve("pw"), PosixFilePermissions.fromString("rw-------"));
        Cli server = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "server", "--name",
                "proxy.fate.org", "--san", "127.0.0.1", "--pkcs12", "--jks", "--password-file",
                dir.resolve("pw").toString(), "--out", dir.resolve("proxy").toString());
        Path p12 = dir.resolve("proxy/proxy.fate.org.p12");
        assertTrue(server.out().contains("==> Saved " + p12), server.out());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12)) {
            ks.load(in, "store-secret".toCharArray());
        }
        assertTrue(ks.isKeyEntry("proxy.fate.org"));
        assertTrue(Files.exists(dir.resolve("proxy/truststore.jks")));

        Cli outside = Cli.run("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "evil.com");
        assertEquals(1, outside.code());
        assertEquals("fedlink: name 'evil.com' is outside this CA's name constraints [fate.org]\n", outside.err());

        String serial = party.out().lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow()
                .substring(7);
        ok("pki", "revoke", "--ca-dir", ca.toString(), "--serial", serial, "--reason", "key-compromise");
        Cli crl = ok("pki", "crl", "--ca-dir", ca.toString());
        assertTrue(crl.out().contains("crl.pem"), crl.out());
        assertTrue(PemCodec.readCrl(Files.readString(ca.resolve("crl.pem"))).isRevoked(cert));
        assertEquals(2, CaFolder.of(ca, null).list().size(), "the refused request left no trace");
        ok("pki", "crl", "--ca-dir", ca.toString(), "--der");
        byte[] der = Files.readAllBytes(ca.resolve("crl.der"));
        assertTrue(((java.security.cert.X509CRL) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCRL(new java.io.ByteArrayInputStream(der))).isRevoked(cert));

        Cli again = Cli.run("pki", "ca", "create", "--ca-dir", ca.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already holds CA files [ca.pem, ca-key.pem, index.tsv]: refusing to overwrite a CA"),
                again.err());
    }

    @Test
    void signsAnOpensslCsr() throws Exception {
        Path ca = dir.resolve("ca");
        ok("pki", "ca", "create", "--ca-dir", ca.toString());
        Process key = new ProcessBuilder("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir.resolve("broker.key.pem").toString(), "-subj", "/CN=10000.fate.org", "-out",
                dir.resolve("broker.csr.pem").toString()).redirectErrorStream(true).start();
        key.getInputStream().readAllBytes();
        assertEquals(0, key.waitFor());
        Cli signed = ok("pki", "sign-csr", "--ca-dir", ca.toString(), "--csr", dir.resolve("broker.csr.pem").toString(),
                "--out", dir.resolve("broker.cert.pem").toString());
        assertTrue(signed.out().contains("broker.cert.pem"), signed.out());
        X509Certificate c = PemCodec.readCertificate(Files.readString(dir.resolve("broker.cert.pem")));
        assertTrue(c.getSubjectAlternativeNames().toString().contains("10000.fate.org"));
    }

    @Test
    void badInputNamesTheValue() {
        Cli r = Cli.run("pki", "cert", "create", "--ca-dir", dir.toString(), "--name", "x", "--role", "boss");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown role 'boss'"), r.err());
        Cli missing = Cli.run("pki", "cert", "create", "--ca-dir", dir.resolve("nope").toString(), "--name", "a.org");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("ca.pem: not found"), missing.err());
    }

    @Test
    void partyIdsAreCanonicalAndReservedOnesRefusedWhereverTheyEnter() throws Exception {
        Path ca = dir.resolve("ca");
        ok("pki", "ca", "create", "--ca-dir", ca.toString(), "--permit-dns", "fate.org");
        Cli upper = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "ABC", "--role", "peer");
        assertTrue(upper.out().contains("==> Saved " + ca.resolve("abc.fate.org.pem")), upper.out());
        assertEquals("CN=abc.fate.org", PemCodec.readCertificate(Files.readString(ca.resolve("abc.fate.org.pem")))
                .getSubjectX500Principal().getName());
        Cli token = ok("pki", "token", "create", "--ca-dir", ca.toString(), "--party", "XYZ");
        assertTrue(token.err().contains("Token for party xyz,"), token.err());
        assertTrue(Files.readString(ca.resolve("enrollment-tokens.tsv")).contains("\txyz\t"));
        for (String[] args : new String[][] {{"pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "root",
                "--role", "peer"}, {"pki", "token", "create", "--ca-dir", ca.toString(), "--party", "Operator"}}) {
            Cli refused = Cli.run(args);
            assertEquals(1, refused.code(), refused.out());
            assertTrue(refused.err().contains("is reserved"), refused.err());
        }
    }
}
