package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlinkBundleTest {
    @TempDir
    Path dir;

    static final CertificateAuthority CA = CertificateAuthority.builder().commonName("Flink CA")
            .keyType(KeyType.RSA_2048).create();

    static KeyStore load(Path p, char[] pw) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p)) {
            ks.load(in, pw);
        }
        return ks;
    }

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void writesStoresPasswordsAndTheExactLines() throws Exception {
        WrittenBundle b = FlinkBundle.builder(CA).build().write(dir.resolve("flink"));
        assertEquals(List.of("internal.keystore.p12", "internal.truststore.p12", "internal.password",
                "rest.keystore.p12", "rest.truststore.p12", "rest.password", "rest-client.pem", "rest-client-key.pem",
                "rest-client.keystore.p12", "rest-client.password", "ca.pem", "flink-ssl.yaml"), b.files().stream().map(f -> f.getFileName().toString()).toList());
        assertEquals("rwx------", mode(b.dir()));
        for (String secret : List.of("internal.keystore.p12", "internal.password", "rest.password",
                "rest-client-key.pem", "rest-client.keystore.p12", "rest-client.password", "flink-ssl.yaml")) {
            assertEquals("rw-------", mode(b.file(secret)), secret);
        }
        char[] pw = Passwords.read(b.file("internal.password"));
        assertEquals(32, pw.length);
        KeyStore ks = load(b.file("internal.keystore.p12"), pw);
        X509Certificate shared = (X509Certificate) ks.getCertificate("flink-internal");
        assertEquals("RSA", shared.getPublicKey().getAlgorithm());
        KeyStore ts = load(b.file("internal.truststore.p12"), pw);
        assertEquals(1, ts.size(), "the internal trust store pins the shared certificate alone");
        assertEquals(shared, ts.getCertificate(Collections.list(ts.aliases()).get(0)));

        char[] restPw = Passwords.read(b.file("rest.password"));
        X509Certificate rest = (X509Certificate) load(b.file("rest.keystore.p12"), restPw).getCertificate("flink-rest");
        assertTrue(rest.getSubjectAlternativeNames().toString().contains("127.0.0.1"), rest.toString());
        KeyStore restTrust = load(b.file("rest.truststore.p12"), restPw);
        assertEquals(CA.root(), restTrust.getCertificate(Collections.list(restTrust.aliases()).get(0)));

        String conf = Files.readString(b.file("flink-ssl.yaml"));
        Path at = b.dir().toAbsolutePath();
        for (String line : List.of("security.ssl.internal.enabled: true",
                "security.ssl.internal.keystore: " + at.resolve("internal.keystore.p12"),
                "security.ssl.internal.keystore-password: " + ConfigLines.quote(new String(pw)),
                "security.ssl.internal.key-password: " + ConfigLines.quote(new String(pw)),
                "security.ssl.internal.truststore: " + at.resolve("internal.truststore.p12"),
                "security.ssl.rest.enabled: true", "security.ssl.rest.authentication-enabled: true",
                "security.ssl.rest.truststore-password: " + ConfigLines.quote(new String(restPw)),
                "security.ssl.algorithms: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,"
                        + "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")) {
            assertTrue(conf.lines().anyMatch(line::equals), line + " missing from\n" + conf);
        }
    }

    @Test
    void givenPasswordsAreUsedAndQuotedAndRestOnlyWritesNoInternalStore() throws Exception {
        WrittenBundle b = FlinkBundle.builder(CA).internal(false).restPassword("it's: secret".toCharArray())
                .installDir(Path.of("/opt/flink/conf/ssl")).build().write(dir);
        assertTrue(b.files().stream().noneMatch(f -> f.getFileName().toString().startsWith("internal")));
        String conf = Files.readString(b.file("flink-ssl.yaml"));
        assertTrue(conf.contains("security.ssl.rest.keystore-password: 'it''s: secret'\n"), conf);
        assertTrue(conf.contains("security.ssl.rest.keystore: /opt/flink/conf/ssl/rest.keystore.p12\n"), conf);
        load(b.file("rest.keystore.p12"), "it's: secret".toCharArray());
    }

    @Test
    void refusesEcKeysSharedPasswordFilesAndAnEmptyBundle() throws Exception {
        IllegalArgumentException ec = assertThrows(IllegalArgumentException.class,
                () -> FlinkBundle.builder(CA).keyType(KeyType.EC_P256));
        assertTrue(ec.getMessage().contains("rsa-2048"), ec.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FlinkBundle.builder(CA).internal(false).rest(false).build());

        Path pw = dir.resolve("pw");
        Files.writeString(pw, "secret\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalArgumentException shared = assertThrows(IllegalArgumentException.class, () -> Passwords.read(pw));
        assertEquals("password file " + pw + " is readable by its group or others (rw-r--r--): run 'chmod 600 " + pw
                + "' first", shared.getMessage());
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
        assertEquals("secret", new String(Passwords.read(pw)));
    }

    @Test
    void theRestClientKeyStoreHoldsAClientOnlyCertificateOfTheRestCaUnderItsOwnPassword() throws Exception {
        WrittenBundle b = FlinkBundle.builder(CA).internal(false).build().write(dir);
        char[] pw = Passwords.read(b.file("rest-client.password"));
        assertTrue(!java.util.Arrays.equals(pw, Passwords.read(b.file("rest.password"))),
                "the client's store goes to other hosts: it must not carry the endpoint's password");
        KeyStore ks = load(b.file("rest-client.keystore.p12"), pw);
        X509Certificate client = (X509Certificate) ks.getCertificate(FlinkBundle.REST_CLIENT_ALIAS);
        client.verify(CA.root().getPublicKey());
        assertEquals(List.of("1.3.6.1.5.5.7.3.2"), client.getExtendedKeyUsage(), "clientAuth only");
        assertTrue(ks.isKeyEntry(FlinkBundle.REST_CLIENT_ALIAS));
        assertEquals(client, io.fedlink.api.PemCodec.readCertificate(Files.readString(b.file("rest-client.pem"))));
    }

    @Test
    void aRefusedBundleLeavesNothingBehind() throws Exception {
        Path out = dir.resolve("flink");
        // a REST name that cannot be certified: refused after the internal stores were made
        assertThrows(IllegalArgumentException.class,
                () -> FlinkBundle.builder(CA).restNames("not a name!").build().write(out));
        assertFalse(Files.exists(out), "nothing written for a refused REST name");

        // the step after staging (saving the CA) fails: no file of the bundle is left, nor its folder
        IOException full = assertThrows(IOException.class, () -> FlinkBundle.builder(CA).build().write(out, () -> {
            throw new IOException("disk full");
        }));
        assertEquals("disk full", full.getMessage());
        assertFalse(Files.exists(out), "nothing written when the CA cannot be saved");

        // a target that is not a regular file: refused before any file is placed
        Files.createDirectories(out);
        Files.createSymbolicLink(out.resolve("rest.password"), dir.resolve("elsewhere"));
        assertThrows(IllegalArgumentException.class, () -> FlinkBundle.builder(CA).build().write(out));
        try (var files = Files.list(out)) {
            assertEquals(List.of(out.resolve("rest.password")), files.toList(), "only what was there before");
        }
    }
}
