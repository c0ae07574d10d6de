package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** token create, serve, enroll and renew end to end on 127.0.0.1. */
class PkiEnrollCommandsTest {
    @TempDir
    Path dir;

    private static Cli ok(String... args) {
        Cli r = Cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void tokenServeEnrollRenew() throws Exception {
        String ca = dir.resolve("ca").toString();
        ok("pki", "ca", "create", "--ca-dir", ca, "--permit-dns", "fate.org", "--permit-ip", "127.0.0.0/8");
        Path tokenFile = dir.resolve("9999.token");
        Cli created = ok("pki", "token", "create", "--ca-dir", ca, "--party", "9999", "--ttl", "10m", "--out",
                tokenFile.toString());
        assertEquals("", created.out(), "a token written to a file is not printed");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        Cli printed = ok("pki", "token", "create", "--ca-dir", ca, "--party", "10000");
        assertTrue(printed.out().matches("fl1\\.[A-Za-z0-9_-]{43}\\n"), printed.out());
        Cli again = Cli.run("pki", "token", "create", "--ca-dir", ca, "--party", "9999", "--out", tokenFile.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists"), again.err());

        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        AtomicReference<Cli> served = new AtomicReference<>();
        Thread serve = new Thread(() -> served.set(Cli.run("pki", "serve", "--ca-dir", ca, "--domain", "fate.org",
                "--listen", "127.0.0.1:" + port, "--ip", "127.0.0.1", "--max-lifetime", "1h",
                "--renewals-per-hour", "1")));
        serve.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!listening(port) && serve.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(listening(port), "serve listens: " + served.get());
            String url = "https://127.0.0.1:" + port;
            Path party = dir.resolve("party");
            Cli enrolled = ok("pki", "enroll", "--server", url, "--ca-file", ca + "/ca.pem", "--token-file",
                    tokenFile.toString(), "--party", "9999", "--domain", "fate.org", "--out", party.toString());
            assertTrue(enrolled.err().contains("Enrolled CN=9999.fate.org"), enrolled.err());
            Path key = party.resolve("current/key.pem");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            String firstCert = Files.readString(party.resolve("current/cert.pem"));

            Cli reused = Cli.run("pki", "enroll", "--server", url, "--ca-file", ca + "/ca.pem", "--token-file",
                    tokenFile.toString(), "--party", "9999", "--domain", "fate.org", "--out",
                    dir.resolve("party2").toString());
            assertEquals(1, reused.code());
            assertTrue(reused.err().contains("already used"), reused.err());
            assertTrue(!Files.exists(dir.resolve("party2/current")), "nothing written");

            Path pw = dir.resolve("store-pw");
            Files.writeString(pw, "store secret\n");
            Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
            Cli noPassword = Cli.run("pki", "renew", "--server", url, "--dir", party.toString(), "--pkcs12");
            assertEquals(1, noPassword.code());
            assertTrue(noPassword.err().contains("--password-file"), noPassword.err());
            Cli renewed = ok("pki", "renew", "--server", url, "--dir", party.toString(), "--lifetime", "30m",
                    "--pkcs12", "--password-file", pw.toString(),
                    "--hook", "test -s \"$FEDLINK_CERT\" && test -s \"$FEDLINK_KEYSTORE\" && touch "
                            + dir.resolve("hook-ran"));
            assertTrue(renewed.err().contains("Renewed CN=9999.fate.org"), renewed.err());
            assertNotEquals(firstCert, Files.readString(party.resolve("current/cert.pem")));
            assertTrue(Files.exists(dir.resolve("hook-ran")), "the hook ran with the new files");

            // the key store beside the PEM files holds the same, new identity and the CA
            Path p12 = party.resolve("current/keystore.p12");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p12)));
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(p12)) {
                ks.load(in, "store secret".toCharArray());
            }
            java.security.cert.X509Certificate pem = io.fedlink.api.PemCodec.readCertificates(
                    Files.readString(party.resolve("current/cert.pem"))).get(0);
            assertEquals(pem, ks.getCertificate("fedlink"));
            assertTrue(ks.getKey("fedlink", "store secret".toCharArray()) != null);
            java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(party.resolve("current/truststore.p12"))) {
                ts.load(in, "store secret".toCharArray());
            }
            assertEquals(1, java.util.Collections.list(ts.aliases()).size());
            Process keytool = new ProcessBuilder("keytool", "-list", "-keystore", p12.toString(), "-storetype",
                    "PKCS12", "-storepass:file", pw.toString()).redirectErrorStream(true).start();
            String listed = new String(keytool.getInputStream().readAllBytes());
            assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, listed);
            assertTrue(listed.contains("fedlink, ") && listed.contains("PrivateKeyEntry"), listed);

            Cli limited = Cli.run("pki", "renew", "--server", url, "--dir", party.toString()); // --renewals-per-hour 1
            assertEquals(1, limited.code(), limited.out() + limited.err());
            assertTrue(limited.err().contains("party 9999 renewed 1 times within PT1H (the limit)"), limited.err());
        } finally {
            serve.interrupt();
            serve.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertEquals(0, served.get().code(), served.get().err());
    }
}
