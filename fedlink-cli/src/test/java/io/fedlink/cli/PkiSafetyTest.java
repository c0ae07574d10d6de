package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.CaFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's usual mistakes and an attacker's names, through the CLI: refused cleanly, nothing written. */
class PkiSafetyTest {
    @TempDir
    Path dir;
    Path ca;

    @BeforeEach
    void createCa() {
        ca = dir.resolve("ca");
        ok("pki", "ca", "create", "--ca-dir", ca.toString(), "--permit-dns", "fate.org");
    }

    private static Cli ok(String... args) {
        Cli r = Cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    /** Runs a command that must be refused (status 1 or 2) and must change no file under the test folder. */
    private Cli refused(String... args) throws IOException {
        Map<Path, String> before = snapshot();
        Cli r = Cli.run(args);
        assertTrue(r.code() == 1 || r.code() == 2, String.join(" ", args) + "\n" + r.out() + r.err());
        assertEquals(before, snapshot(), "a refused command changed files: " + String.join(" ", args));
        assertFalse(r.err().contains("java.") || r.err().contains("Exception"), r.err());
        return r;
    }

    private Map<Path, String> snapshot() throws IOException {
        Map<Path, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                m.put(p, Files.isSymbolicLink(p) ? "link " + Files.readSymbolicLink(p)
                        : Files.isRegularFile(p) ? Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1)
                        : "dir " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
            }
        }
        return m;
    }

    private Path password(String name, String content, String mode) throws IOException {
        Path pw = Files.writeString(dir.resolve(name), content);
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString(mode));
        return pw;
    }

    @Test
    void theCaFilesCannotBeOverwrittenByALeafName() throws Exception {
        Cli r = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name", "ca",
                "--pkcs12");
        assertTrue(r.err().contains("'ca'") && r.err().contains("--file"), r.err());
        refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name", "ca-key");
        refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name", "crl");
        refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name", "x", "--file",
                "truststore");
        Files.writeString(dir.resolve("x.csr"), "not read: the target is refused first");
        Cli csr = refused("pki", "sign-csr", "--ca-dir", ca.toString(), "--csr", dir.resolve("x.csr").toString(),
                "--out", ca.resolve("ca.pem").toString(), "--force");
        assertTrue(csr.err().contains("is a file of the CA folder"), csr.err());
        refused("pki", "crl", "--ca-dir", ca.toString(), "--out", ca.resolve("ca-key.pem").toString());
    }

    @Test
    void namesCannotEscapeTheOutputFolder() throws Exception {
        for (String name : new String[] {"../../x", "a/b", "..", ".hidden"}) {
            Cli r = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name", name,
                    "--out", dir.resolve("out").toString());
            assertTrue(r.err().contains("'" + name + "'") && r.err().contains("letters, digits"), r.err());
        }
    }

    @Test
    void aRefusedKeyStoreLeavesNoUnrevocableCertificate() throws Exception {
        Cli r = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "a.fate.org", "--pkcs12");
        assertTrue(r.err().contains("--password-file"), r.err());
        assertEquals(0, CaFolder.of(ca, null).list().size());
    }

    @Test
    void overwritesNeedForceAndRevokeTheReplacedCertificate() throws Exception {
        Cli first = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "9999");
        String oldSerial = serial(first);
        Cli again = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "9999");
        assertTrue(again.err().contains("9999.fate.org.pem") && again.err().contains("--force"), again.err());
        Cli forced = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "9999", "--force");
        assertTrue(forced.out().contains("==> Revoked " + oldSerial + " (superseded)"), forced.out());
        List<String> issued = CaFolder.of(ca, null).list();
        assertEquals(2, issued.size());
        assertTrue(issued.get(0).contains(" revoked ") && issued.get(0).contains(" superseded "), issued.get(0));
        assertFalse(issued.get(1).contains(" revoked "), issued.get(1));
    }

    private static String serial(Cli r) {
        return r.out().lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow().substring(7);
    }

    @Test
    void caCreateRefusesWhenAnyCaFileExists() throws Exception {
        Files.delete(ca.resolve("ca-key.pem"));
        Cli r = refused("pki", "ca", "create", "--ca-dir", ca.toString());
        assertTrue(r.err().contains("ca.pem") && r.err().contains("refusing"), r.err());
    }

    @Test
    void existingFoldersKeepTheirModes() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "10000", "--out", shared.toString());
        assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)));
        ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "10001", "--out",
                dir.resolve("fresh").toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("fresh"))));
    }

    @Test
    void dashIsStandardOutputAndSpecialFilesAreRefused() throws Exception {
        Cli crl = ok("pki", "crl", "--ca-dir", ca.toString(), "--out", "-");
        assertTrue(crl.out().startsWith("-----BEGIN X509 CRL-----"), crl.out());
        assertFalse(Files.exists(Path.of("-")), "no file named '-'");
        PemCodec.readCrl(crl.out());

        Path link = Files.createSymbolicLink(dir.resolve("stdout-link"), Path.of("/dev/null"));
        Cli special = refused("pki", "crl", "--ca-dir", ca.toString(), "--out", link.toString());
        assertTrue(special.err().contains("'" + link + "' is a symbolic link") && special.err().contains("'-'"),
                special.err());

        Cli cert = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "9999", "--out", "-",
                "--print-key");
        assertTrue(cert.out().contains("-----BEGIN PRIVATE KEY-----") && cert.out().contains("BEGIN CERTIFICATE"));
        assertTrue(cert.err().contains("serial "), cert.err());
        Cli noConsent = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--party", "9998", "--out", "-");
        assertTrue(noConsent.err().contains("--print-key"), noConsent.err());
        assertFalse(noConsent.out().contains("PRIVATE KEY"));
    }

    @Test
    void ipAndUriNamesNeedTheirOwnPermission() throws Exception {
        String[][] refusedSans = {{"10.1.2.3", "'10.1.2.3'"}, {"::1", "'0:0:0:0:0:0:0:1'"},
            {"spiffe://evil.com/x", "'spiffe://evil.com/x'"}};
        for (String[] san : refusedSans) {
            Cli r = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "a.fate.org", "--san",
                    san[0]);
            assertTrue(r.err().contains(san[1]) && r.err().contains("--permit-"), r.err());
        }
        Path wide = dir.resolve("wide");
        ok("pki", "ca", "create", "--ca-dir", wide.toString(), "--permit-dns", "fate.org", "--permit-ip",
                "10.0.0.0/8", "--permit-uri-domain", "fate.org");
        ok("pki", "cert", "create", "--ca-dir", wide.toString(), "--name", "a.fate.org", "--san", "10.1.2.3", "--san",
                "spiffe://fate.org/ns/a");
        refused("pki", "cert", "create", "--ca-dir", wide.toString(), "--name", "b.fate.org", "--san", "11.0.0.1");
    }

    @Test
    void passwordFilesMustBePrivateAndKeepTheirSpaces() throws Exception {
        Path open = password("open-pw", "secret\n", "rw-r--r--");
        Cli r = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "a.fate.org", "--pkcs12",
                "--password-file", open.toString());
        assertTrue(r.err().contains("chmod 600 " + open), r.err());
        Path spaced = password("spaced-pw", "  two spaces \n", "rw-------");
        ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "a.fate.org", "--pkcs12", "--password-file",
                spaced.toString());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ca.resolve("a.fate.org.p12"))) {
            ks.load(in, "  two spaces ".toCharArray());
        }
        assertTrue(ks.isKeyEntry("a.fate.org"));
    }

    @Test
    void errorsNameTheValueAndTheFix() throws Exception {
        Cli csr = refused("pki", "sign-csr", "--ca-dir", ca.toString(), "--csr", dir.resolve("nope.csr").toString(),
                "--out", dir.resolve("x.pem").toString());
        assertTrue(csr.err().contains("'" + dir.resolve("nope.csr") + "' not found"), csr.err());
        Cli pw = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "a.fate.org", "--pkcs12",
                "--password-file", dir.resolve("nope-pw").toString());
        assertTrue(pw.err().contains("password file '" + dir.resolve("nope-pw") + "' not found"), pw.err());
        Cli role = refused("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "x", "--role", "boss");
        assertTrue(role.err().contains("unknown role 'boss': use server, client, peer or cli"), role.err());
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("gone"));
        Cli link = refused("pki", "cert", "create", "--ca-dir", dangling.toString(), "--name", "a.fate.org");
        assertTrue(link.err().contains("is a symbolic link to '" + dir.resolve("gone") + "', which does not exist"),
                link.err());
        Cli typo = refused("pki", "crt");
        assertTrue(typo.err().contains("Did you mean: pki crl or pki cert"), typo.err());
    }

    @Test
    void anEncryptedCaKeyAsksForCaPasswordFile() throws Exception {
        Path pw = password("ca-pw", "ca secret\n", "rw-------");
        Path enc = dir.resolve("enc");
        ok("pki", "ca", "create", "--ca-dir", enc.toString(), "--ca-password-file", pw.toString());
        Cli r = refused("pki", "cert", "create", "--ca-dir", enc.toString(), "--name", "a.example");
        assertTrue(r.err().contains("--ca-password-file"), r.err());
        ok("pki", "cert", "create", "--ca-dir", enc.toString(), "--name", "a.example", "--ca-password-file",
                pw.toString());
    }

    @Test
    void longDnsNamesAreIssuedWithoutACommonName() throws Exception {
        String name = "a".repeat(60) + "." + "b".repeat(60) + "." + "c".repeat(60) + "." + "d".repeat(27) + ".fate.org";
        assertTrue(name.length() > 200);
        ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", name, "--file", "long");
        X509Certificate c = PemCodec.readCertificate(Files.readString(ca.resolve("long.pem")));
        assertEquals("", c.getSubjectX500Principal().getName());
        assertEquals(name, c.getSubjectAlternativeNames().iterator().next().get(1));
    }

    @Test
    void yamlAndMissingFilesAreReportedWithTheirPlace() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "sni:\n  - fqdn: a\n   x: [\n");
        Cli yaml = refused("pulsar", "routes", "--route-table", bad.toString());
        assertTrue(yaml.err().contains("line 3, column 4"), yaml.err());
        Cli proxy = refused("proxy", "--listen", "127.0.0.1:9", "--routes", bad.toString());
        assertTrue(proxy.err().contains("line 3, column 4"), proxy.err());
        Cli missing = refused("proxy", "--listen", "127.0.0.1:9", "--routes",
                dir.resolve("nope.yaml").toString());
        assertTrue(missing.err().contains("'" + dir.resolve("nope.yaml") + "' not found"), missing.err());
    }
}
