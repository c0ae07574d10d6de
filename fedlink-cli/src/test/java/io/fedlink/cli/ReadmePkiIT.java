package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.CaFolder;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the README's PKI commands, line by line, through {@code run.sh} from another working directory: every path
 * must resolve there, and the jar the build just packaged must be used as is (a stub {@code mvn} on the PATH fails
 * the test if {@code run.sh} tries to rebuild).
 */
class ReadmePkiIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path cwd;

    private record Run(int code, String out, String err) {}

    private Run bash(String line, Path stubs) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", line).directory(cwd.toFile());
        pb.environment().put("PATH", stubs + ":" + System.getenv("PATH"));
        pb.redirectOutput(cwd.resolve(".out").toFile()).redirectError(cwd.resolve(".err").toFile());
        Process p = pb.start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "timed out: " + line);
        return new Run(p.exitValue(), Files.readString(cwd.resolve(".out")), Files.readString(cwd.resolve(".err")));
    }

    static List<String> readmePkiCommands() throws Exception {
        String readme = Files.readString(REPO.resolve("README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("```\n./run.sh pki ca create");
        assertTrue(start >= 0, "the README's PKI block");
        String block = readme.substring(start + 4, readme.indexOf("```", start + 4));
        return block.lines().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void theReadmesPkiCommandsWorkFromAnotherDirectory() throws Exception {
        Path stubs = Files.createDirectory(cwd.resolve(".stubs"));
        Path mvn = Files.writeString(stubs.resolve("mvn"), "#!/bin/sh\necho 'run.sh tried to rebuild' >&2\nexit 97\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwx------"));
        List<String> lines = readmePkiCommands();
        assertTrue(lines.size() >= 6, lines.toString());
        String partySerial = null;
        List<String> outputs = new ArrayList<>();
        for (String line : lines) {
            String cmd = line.replace("./run.sh ", REPO.resolve("run.sh") + " ");
            if (partySerial != null) {
                cmd = cmd.replace("--serial 5817794de6c4", "--serial " + partySerial);
            }
            Run r = bash(cmd, stubs);
            assertEquals(0, r.code(), line + "\n" + r.out() + r.err());
            assertFalse(r.err().contains("building") || r.err().contains("rebuild"), r.err());
            outputs.add(r.out());
            if (line.contains("--party 9999")) {
                partySerial = r.out().lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow()
                        .substring(7);
                assertTrue(r.out().contains("==> Saved fate-ca/9999.fate.org.pem"), r.out());
            }
        }
        Path ca = cwd.resolve("fate-ca");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca)));
        var authority = CaFolder.of(ca, null).load();
        List<String> issued = CaFolder.of(ca, null).list();
        byte[] constraints = authority.root().getExtensionValue("2.5.29.30"); // X.509 name constraints
        assertTrue(constraints != null && new String(constraints, java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("fate.org"), "issues names under fate.org only");
        assertEquals(3, issued.size(), "party, proxy and the signed CSR: " + issued);
        assertTrue(issued.get(0).contains(" revoked ") && issued.get(0).contains(" key-compromise "), issued.get(0));
        KeyStore p12 = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ca.resolve("proxy.fate.org.p12"))) {
            p12.load(in, "store secret".toCharArray());
        }
        var broker = PemCodec.readCertificate(Files.readString(cwd.resolve("broker.cert.pem")));
        broker.verify(authority.root().getPublicKey());
        var crl = PemCodec.readCrl(outputs.get(outputs.size() - 1));
        assertTrue(crl.getRevokedCertificate(new BigInteger(partySerial, 16)) != null, "the CRL printed to stdout");
        assertFalse(Files.exists(cwd.resolve("-")));
        assertIgnoredByGit();
    }

    /** Run from the clone, the same commands would write these files there: .gitignore must cover every one. */
    private void assertIgnoredByGit() throws Exception {
        if (!Files.exists(REPO.resolve(".git"))) {
            return; // not a git checkout (a source archive): nothing to ignore
        }
        List<String> written;
        try (var files = Files.walk(cwd)) {
            written = files.filter(Files::isRegularFile).map(f -> cwd.relativize(f).toString())
                    .filter(f -> !f.startsWith(".")).toList();
        }
        assertTrue(written.contains("pw") && written.contains("fate-ca/ca-key.pem"), written.toString());
        for (String f : written) {
            Process p = new ProcessBuilder("git", "-C", REPO.toString(), "check-ignore", "-q", "--no-index", f)
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor(), f + " would be committable inside the clone: add it to .gitignore");
        }
    }
}
