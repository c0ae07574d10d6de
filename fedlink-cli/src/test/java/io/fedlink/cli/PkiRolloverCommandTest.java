package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.CaFolder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA rollover as the README shows it: ca rollover, renew, ca retire, renew, with 'pki serve' running. */
class PkiRolloverCommandTest {
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

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    private static List<X509Certificate> certs(Path p) throws IOException {
        return PemCodec.readCertificates(Files.readString(p, StandardCharsets.US_ASCII));
    }

    private int openssl(String... args) throws Exception {
        Process p = new ProcessBuilder(Stream.concat(Stream.of("openssl"), Stream.of(args)).toList())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    @Test
    void rolloverRenewRetireRenew() throws Exception {
        Path ca = dir.resolve("ca");
        ok("pki", "ca", "create", "--ca-dir", ca.toString(), "--name", "fate.org CA", "--permit-dns", "fate.org",
                "--permit-ip", "127.0.0.0/8");
        Path token = dir.resolve("9999.token");
        ok("pki", "token", "create", "--ca-dir", ca.toString(), "--party", "9999", "--out", token.toString());
        Cli host = ok("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "h.fate.org", "--out",
                dir.resolve("out").toString());
        String hostSerial = host.out().lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow()
                .substring(7);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        AtomicReference<Cli> served = new AtomicReference<>();
        Thread serve = new Thread(() -> served.set(Cli.run("pki", "serve", "--ca-dir", ca.toString(), "--domain",
                "fate.org", "--listen", "127.0.0.1:" + port, "--ip", "127.0.0.1", "--max-lifetime", "1h")));
        serve.start();
        try {
            await("serve listens", () -> listening(port) || !serve.isAlive());
            assertTrue(listening(port), "serve listens: " + served.get());
            String url = "https://127.0.0.1:" + port;
            Path party = dir.resolve("party");
            ok("pki", "enroll", "--server", url, "--ca-file", ca + "/ca.pem", "--token-file", token.toString(),
                    "--party", "9999", "--domain", "fate.org", "--out", party.toString());
            X509Certificate first = certs(party.resolve("current/cert.pem")).get(0);
            Files.copy(party.resolve("current/cert.pem"), dir.resolve("first.pem"));

            // 1. rollover
            Cli rolled = ok("pki", "ca", "rollover", "--ca-dir", ca.toString());
            assertTrue(rolled.out().contains("New root CN=fate.org CA G2"), rolled.out());
            Path previous = ca.resolve(CaFolder.PREVIOUS);
            for (String f : List.of("ca.pem", "ca-key.pem", "index.tsv", "cross-signed.pem")) {
                assertTrue(Files.isRegularFile(previous.resolve(f)), f);
            }
            for (Path key : List.of(ca.resolve("ca-key.pem"), previous.resolve("ca-key.pem"))) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            }
            Path bundle = ca.resolve("ca-bundle.pem");
            X509Certificate newRoot = certs(ca.resolve("ca.pem")).get(0);
            X509Certificate oldRoot = certs(previous.resolve("ca.pem")).get(0);
            assertEquals(List.of(newRoot, oldRoot), certs(bundle));
            Cli twice = Cli.run("pki", "ca", "rollover", "--ca-dir", ca.toString());
            assertEquals(1, twice.code());
            assertTrue(twice.err().contains("already in progress"), twice.err());

            // a certificate of the old root can still be revoked, by the same command
            Cli revoked = ok("pki", "revoke", "--ca-dir", ca.toString(), "--serial", hostSerial);
            assertTrue(revoked.out().contains("issued by the previous root"), revoked.out());

            // 2. the party renews with its old-root certificate and gets a new-root one and the bundle
            ok("pki", "renew", "--server", url, "--dir", party.toString());
            X509Certificate renewed = certs(party.resolve("current/cert.pem")).get(0);
            renewed.verify(newRoot.getPublicKey());
            assertEquals(2, certs(party.resolve("current/cert.pem")).size(), "leaf + cross-signed root");
            assertEquals(List.of(newRoot, oldRoot), certs(party.resolve("current/ca.pem")));
            assertEquals(0, openssl("verify", "-CAfile", bundle.toString(), "first.pem"));
            assertEquals(0, openssl("verify", "-CAfile", bundle.toString(), party + "/current/cert.pem"));

            // 3. retire: refused while the party's first certificate is valid, naming it
            Cli early = Cli.run("pki", "ca", "retire", "--ca-dir", ca.toString());
            assertEquals(1, early.code());
            assertTrue(early.err().contains(first.getSerialNumber().toString(16))
                    && early.err().contains("CN=9999.fate.org"), early.err());
            assertTrue(Files.isDirectory(previous), "a refused retire changes nothing");
            await("serve re-issued its own certificate under the new root", () -> {
                try {
                    // the old root's certificates still in use (serve revokes its own at once, not after an overlap)
                    return CaFolder.of(previous, null).list().stream()
                            .noneMatch(e -> !e.contains(" revoked ") && e.contains("ca.fate.org"));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Cli retired = ok("pki", "ca", "retire", "--ca-dir", ca.toString(), "--revoke-superseded");
            assertTrue(retired.out().contains("Revoked " + first.getSerialNumber().toString(16)), retired.out());
            assertFalse(Files.exists(previous));
            assertEquals(List.of(newRoot), certs(bundle));
            try (Stream<Path> kept = Files.list(ca.resolve(CaFolder.RETIRED))) {
                Path k = kept.findFirst().orElseThrow();
                assertTrue(Files.exists(k.resolve("index.tsv")));
                assertFalse(Files.exists(k.resolve("ca-key.pem")), "a retired root's key is deleted");
            }
            assertNotEquals(0, openssl("verify", "-CAfile", bundle.toString(), "first.pem"));

            // 4. the next renewal drops the old root from the party's CA file and the cross signature
            ok("pki", "renew", "--server", url, "--dir", party.toString());
            assertEquals(List.of(newRoot), certs(party.resolve("current/ca.pem")));
            assertEquals(1, certs(party.resolve("current/cert.pem")).size());
            assertEquals(0, openssl("verify", "-CAfile", bundle.toString(), party + "/current/cert.pem"));
        } finally {
            serve.interrupt();
            serve.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertEquals(0, served.get().code(), served.get().err());
        List<String> endpoint = CaFolder.of(ca, null).list().stream().filter(e -> e.contains("ca.fate.org")).toList();
        assertFalse(endpoint.isEmpty());
        assertTrue(endpoint.stream().allMatch(e -> e.contains(" revoked ")), "serve revokes its own certificates: "
                + endpoint);
    }
}
