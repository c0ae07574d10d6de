package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.internal.Pem;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fedlink-pki output checked by the real openssl and keytool, and openssl output read by fedlink-pki. */
class OpensslInteropIT {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void opensslVerifiesRootAndIntermediateChains() throws Exception {
        CertificateAuthority root = CertificateAuthority.builder().commonName("fate.org root").permitDns("fate.org")
                .permitIp("127.0.0.0/8").create();
        CertificateAuthority mid = root.intermediate().commonName("fate.org issuing").create();
        write("root.pem", PemCodec.certificates(root.chain()));
        write("mid.pem", PemCodec.certificates(mid.chain().subList(0, 1)));
        IssuedCertificate direct = root.issue(CertificateRequest.party("10000", "fate.org"));
        IssuedCertificate viaMid = mid.issue(CertificateRequest.server("9999.fate.org").ip("127.0.0.3")
                .keyType(KeyType.RSA_2048));
        write("direct.pem", direct.certificatePem());
        write("via-mid.pem", viaMid.certificatePem());
        assertTrue(Tools.ok(dir, "openssl", "verify", "-CAfile", "root.pem", "direct.pem").contains("OK"));
        assertTrue(Tools.ok(dir, "openssl", "verify", "-CAfile", "root.pem", "-untrusted", "mid.pem",
                "via-mid.pem").contains("OK"));
        assertTrue(Tools.ok(dir, "openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "root.pem",
                "-untrusted", "mid.pem", "via-mid.pem").contains("OK"));

        String text = Tools.ok(dir, "openssl", "x509", "-in", "via-mid.pem", "-noout", "-text");
        assertTrue(text.contains("DNS:9999.fate.org, IP Address:127.0.0.3"), text);
        assertTrue(text.contains("TLS Web Server Authentication") && !text.contains("Client Authentication"), text);
        assertTrue(text.contains("Digital Signature, Key Encipherment"), text);
        assertTrue(text.contains("CA:FALSE") && text.contains("X509v3 Authority Key Identifier"), text);
        String caText = Tools.ok(dir, "openssl", "x509", "-in", "root.pem", "-noout", "-text");
        assertTrue(caText.contains("Permitted:") && caText.contains("DNS:fate.org")
                && caText.contains("IP:127.0.0.0/255.0.0.0"), caText);
        assertTrue(caText.contains("CA:TRUE, pathlen:1"), caText);
    }

    @Test
    void opensslOpensEncryptedPkcs8AndKeytoolOpensStores() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().create();
        IssuedCertificate c = ca.issue(CertificateRequest.peer("flink.internal"));
        write("enc.pem", c.encryptedPrivateKeyPem("key-pass".toCharArray()));
        assertTrue(Files.readString(dir.resolve("enc.pem")).contains("ENCRYPTED PRIVATE KEY"));
        String pkey = Tools.ok(dir, "openssl", "pkey", "-in", "enc.pem", "-passin", "pass:key-pass", "-noout",
                "-text");
        assertTrue(pkey.contains("NIST CURVE: P-256") || pkey.contains("prime256v1"), pkey);
        assertNotEquals(0, Tools.run(dir, "openssl", "pkey", "-in", "enc.pem", "-passin", "pass:wrong", "-noout")
                .code());
        String asn1 = Tools.ok(dir, "openssl", "asn1parse", "-in", "enc.pem");
        assertTrue(asn1.contains("aes-256-cbc") && asn1.contains("hmacWithSHA256"), asn1);

        for (String type : new String[] {"PKCS12", "JKS"}) {
            KeyStore ks = c.tlsMaterial().keyStore(type, "flink", "store-pass".toCharArray());
            Path f = dir.resolve("store." + type.toLowerCase());
            try (OutputStream out = Files.newOutputStream(f)) {
                ks.store(out, "store-pass".toCharArray());
            }
            String list = Tools.ok(dir, "keytool", "-list", "-keystore", f.toString(), "-storetype", type,
                    "-storepass", "store-pass");
            assertTrue(list.contains("flink, ") && list.contains("PrivateKeyEntry") && list.contains("ca-0"), list);
        }
    }

    @Test
    void opensslMadeCaIssuesCertificatesOpensslVerifies() throws Exception {
        // The FATE guide's CA: RSA 4096 with an AES-256 encrypted key, self-signed with v3_ca extensions.
        Tools.ok(dir, "openssl", "genrsa", "-aes256", "-passout", "pass:ca-pass", "-out", "ca.key.pem", "4096");
        Tools.ok(dir, "openssl", "req", "-key", "ca.key.pem", "-passin", "pass:ca-pass", "-new", "-x509", "-days",
                "7300", "-sha256", "-subj", "/CN=fate.org CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.cert.pem");
        CertificateAuthority ca = CertificateAuthority.fromPem(Files.readString(dir.resolve("ca.cert.pem")),
                Files.readString(dir.resolve("ca.key.pem")), "ca-pass".toCharArray());
        write("issued.pem", ca.issue(CertificateRequest.party("10000", "fate.org")).certificatePem());
        Tools.ok(dir, "openssl", "verify", "-CAfile", "ca.cert.pem", "issued.pem");

        // PKCS#1 (traditional) keys load too.
        Tools.ok(dir, "openssl", "genrsa", "-traditional", "-out", "rsa1.pem", "2048");
        assertTrue(Files.readString(dir.resolve("rsa1.pem")).contains("BEGIN RSA PRIVATE KEY"));
        assertEquals("RSA", Pem.privateKey(Files.readString(dir.resolve("rsa1.pem")), null).getAlgorithm());
    }

    @Test
    void opensslCsrSignedByFedlink() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().permitDns("fate.org").create();
        write("ca.pem", PemCodec.certificates(ca.chain()));
        // The FATE guide's broker key and CSR, with the host name only in the CN.
        Tools.ok(dir, "openssl", "genrsa", "-out", "broker.key.pem", "2048");
        Tools.ok(dir, "openssl", "req", "-new", "-key", "broker.key.pem", "-sha256", "-subj", "/CN=10000.fate.org",
                "-out", "broker.csr.pem");
        IssuedCertificate c = ca.signCsr(Files.readString(dir.resolve("broker.csr.pem")), Profile.SERVER, 1000);
        write("broker.cert.pem", c.certificatePem());
        Tools.ok(dir, "openssl", "verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "broker.cert.pem");
        String text = Tools.ok(dir, "openssl", "x509", "-in", "broker.cert.pem", "-noout", "-text");
        assertTrue(text.contains("DNS:10000.fate.org"), text);
        String modCert = Tools.ok(dir, "openssl", "x509", "-in", "broker.cert.pem", "-noout", "-modulus");
        String modKey = Tools.ok(dir, "openssl", "rsa", "-in", "broker.key.pem", "-noout", "-modulus");
        assertEquals(modKey, modCert, "the certificate carries the requester's key");

        // A CSR with SANs outside the constraints is refused, naming the name.
        Tools.ok(dir, "openssl", "req", "-new", "-key", "broker.key.pem", "-subj", "/CN=10000.fate.org", "-addext",
                "subjectAltName=DNS:10000.fate.org,DNS:evil.com", "-out", "evil.csr.pem");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ca.signCsr(Files.readString(dir.resolve("evil.csr.pem")), Profile.SERVER, 30));
        assertTrue(e.getMessage().contains("'evil.com'"), e.getMessage());

        // A tampered CSR is refused.
        String csr = Files.readString(dir.resolve("broker.csr.pem"));
        byte[] der = java.util.Base64.getMimeDecoder().decode(csr.replaceAll("-----[A-Z ]+-----", ""));
        der[der.length - 10] ^= 1;
        String tampered = io.fedlink.api.PemCodec.block("CERTIFICATE REQUEST", der);
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ca.signCsr(tampered, Profile.SERVER, 30)).getMessage().contains("signature does not verify"));
    }

    @Test
    void opensslMadeEcAndEd25519CsrsAreSigned() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().permitDns("fate.org").create();
        write("ca.pem", PemCodec.certificates(ca.chain()));
        String[][] keys = {{"ec", "-pkeyopt", "ec_paramgen_curve:P-256"}, {"ec", "-pkeyopt", "ec_paramgen_curve:P-384"},
            {"ed25519"}};
        for (String[] k : keys) {
            String[] cmd = new String[k.length + 1];
            cmd[0] = "-algorithm";
            System.arraycopy(k, 0, cmd, 1, k.length);
            java.util.List<String> gen = new java.util.ArrayList<>(java.util.List.of("openssl", "genpkey"));
            gen.addAll(java.util.List.of(cmd));
            gen.addAll(java.util.List.of("-out", "k.pem"));
            Tools.ok(dir, gen.toArray(String[]::new));
            Tools.ok(dir, "openssl", "req", "-new", "-key", "k.pem", "-subj", "/CN=10000.fate.org", "-addext",
                    "subjectAltName=DNS:10000.fate.org", "-out", "k.csr.pem");
            IssuedCertificate c = ca.signCsr(Files.readString(dir.resolve("k.csr.pem")), Profile.PEER, 30);
            write("k.cert.pem", c.certificatePem());
            Tools.ok(dir, "openssl", "verify", "-CAfile", "ca.pem", "k.cert.pem");
            String pub = Tools.ok(dir, "openssl", "pkey", "-in", "k.pem", "-pubout");
            assertEquals(pub.strip(), io.fedlink.api.PemCodec.block("PUBLIC KEY",
                    c.certificate().getPublicKey().getEncoded()).strip(), String.join(" ", k));
        }
    }

    @Test
    void opensslRejectsAForgedLeafOutsideTheConstraints() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().permitDns("fate.org").create();
        ca.save(dir.resolve("ca"), null);
        java.security.PrivateKey caKey = Pem.privateKey(Files.readString(dir.resolve("ca/ca-key.pem")), null);
        write("ca.pem", PemCodec.certificates(ca.chain()));
        String[][] forged = {{"ip", "10.1.2.3"}, {"ip", "::1"}, {"dns", "evil.com"}};
        for (String[] f : forged) {
            write("forged.pem", PemCodec.certificates(java.util.List.of(forge(ca, caKey, f[0], f[1]))));
            Tools.Result r = Tools.run(dir, "openssl", "verify", "-CAfile", "ca.pem", "forged.pem");
            assertNotEquals(0, r.code(), f[1] + ": " + r.out());
            assertTrue(r.out().contains("subtree violation") || r.out().contains("name constraint"), r.out());
        }
        // The control: the same forgery inside the constraints verifies, so the rejection is the constraint's.
        write("fine.pem", PemCodec.certificates(java.util.List.of(forge(ca, caKey, "dns", "ok.fate.org"))));
        Tools.ok(dir, "openssl", "verify", "-CAfile", "ca.pem", "fine.pem");
        // A SAN-only certificate for a name too long for a CN verifies too.
        String label = "b".repeat(60);
        write("long.pem", ca.issue(CertificateRequest.server(label + "." + label + "." + label + ".fate.org"))
                .certificatePem());
        Tools.ok(dir, "openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.pem", "long.pem");
    }

    /** A leaf built with BouncyCastle directly (bypassing the CA's checks) and signed by the CA's key. */
    private static java.security.cert.X509Certificate forge(CertificateAuthority ca, java.security.PrivateKey caKey,
                                                            String kind, String name) throws Exception {
        var pair = KeyType.EC_P256.generate();
        var now = java.time.Instant.now();
        var b = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(ca.certificate(),
                java.math.BigInteger.valueOf(now.toEpochMilli()), java.util.Date.from(now.minusSeconds(300)),
                java.util.Date.from(now.plusSeconds(86400)), new org.bouncycastle.asn1.x500.X500Name("CN=forged"),
                pair.getPublic());
        var gn = kind.equals("ip") ? new org.bouncycastle.asn1.x509.GeneralName(
                org.bouncycastle.asn1.x509.GeneralName.iPAddress, name)
                : new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.dNSName, name);
        b.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                new org.bouncycastle.asn1.x509.GeneralNames(gn));
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    }

    @Test
    void opensslReadsTheCrl() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().create();
        IssuedCertificate c = ca.issue(CertificateRequest.server("a.example"));
        ca.revoke(c.serial(), RevocationReason.KEY_COMPROMISE);
        write("ca.pem", PemCodec.certificates(ca.chain()));
        write("crl.pem", PemCodec.crl(ca.crl(Duration.ofDays(1))));
        write("leaf.pem", c.certificatePem());
        String text = Tools.ok(dir, "openssl", "crl", "-in", "crl.pem", "-noout", "-text", "-CAfile", "ca.pem");
        assertTrue(text.contains(c.serial().toString(16).toUpperCase()) && text.contains("Key Compromise"), text);
        Tools.Result r = Tools.run(dir, "openssl", "verify", "-crl_check", "-CAfile", "ca.pem", "-CRLfile", "crl.pem",
                "leaf.pem");
        assertNotEquals(0, r.code());
        assertTrue(r.out().contains("certificate revoked"), r.out());
    }
}
