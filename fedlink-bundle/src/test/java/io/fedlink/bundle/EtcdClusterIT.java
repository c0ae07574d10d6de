package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.CertificateAuthority;
import io.fedlink.api.PemCodec;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The etcd guide's cluster from {@link EtcdBundle}, unchanged: three real etcd members on loopback started with the
 * bundle's flag files (plus a data folder), each with its own certificate, peer and client TLS with client
 * certificates required; one member is named by host name ({@code localhost}) with an explicit listen address.
 * etcdctl with the bundle's flags writes and reads; without the client certificate it is refused.
 */
class EtcdClusterIT {
    @TempDir
    static Path dir;
    static final List<Process> members = new ArrayList<>();
    static WrittenBundle bundle;

    record Result(int code, String out) {}

    @BeforeAll
    static void startCluster() throws Exception {
        assertTrue(onPath("etcd") && onPath("etcdctl"), "etcd and etcdctl are needed: ./test.sh installs the Debian "
                + "packages etcd-server and etcd-client");
        CertificateAuthority ca = CertificateAuthority.builder().commonName("etcd CA").create();
        EtcdBundle.Builder b = EtcdBundle.builder(ca);
        for (int i = 0; i < 2; i++) {
            b.member("etcd-" + i, "127.0.0.1", freePort(), freePort());
        }
        b.member("etcd-2", "localhost", "127.0.0.1", freePort(), freePort());
        bundle = b.build().write(dir.resolve("bundle"));
        for (int i = 0; i < 3; i++) {
            List<String> cmd = new ArrayList<>(List.of("etcd", "--data-dir=" + dir.resolve("data" + i)));
            cmd.addAll(flags("etcd-" + i + ".flags"));
            members.add(new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("m" + i + ".log").toFile()).start());
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Result r = etcdctl(true, "endpoint", "health", "--cluster");
            if (r.code() == 0 && r.out().split("is healthy").length == 4) {
                break;
            }
            for (Process p : members) {
                assertTrue(p.isAlive(), "an etcd member exited: " + Files.readString(dir.resolve("m0.log")));
            }
            assertTrue(System.nanoTime() - end < 0, "cluster not healthy in 60 s: " + r.out());
            Thread.sleep(200);
        }
    }

    static List<String> flags(String file) throws IOException {
        return Files.readAllLines(bundle.file(file)).stream().filter(l -> !l.isBlank()).toList();
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Result etcdctl(boolean withCert, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--dial-timeout=3s", "--command-timeout=5s"));
        cmd.addAll(flags("etcdctl.flags").stream()
                .filter(f -> withCert || !(f.startsWith("--cert=") || f.startsWith("--key="))).toList());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "etcdctl hung");
        return new Result(p.exitValue(), out);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (Process p : members) {
            p.destroy();
        }
        for (Process p : members) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void clientWithFedlinkCertificateWritesAndReads() throws Exception {
        Result put = etcdctl(true, "put", "/fedlink/party/10000", "10000.fate.org");
        assertTrue(put.code() == 0 && put.out().contains("OK"), put.out());
        Result get = etcdctl(true, "get", "/fedlink/party/10000");
        assertTrue(get.code() == 0 && get.out().contains("10000.fate.org"), get.out());
        Result list = etcdctl(true, "member", "list");
        assertTrue(list.out().lines().filter(l -> l.contains("started")).count() == 3, list.out());
    }

    @Test
    void clientWithoutCertificateIsRefused() throws Exception {
        Result r = etcdctl(false, "get", "/fedlink/party/10000");
        assertNotEquals(0, r.code(), r.out());
        assertTrue(!r.out().contains("10000.fate.org"), r.out());
    }

    @Test
    void everyMemberHasItsOwnCertificate() throws Exception {
        List<X509Certificate> certs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            X509Certificate c = PemCodec.readCertificate(Files.readString(bundle.file("etcd-" + i + ".pem")));
            assertEquals("CN=etcd-" + i, c.getSubjectX500Principal().getName());
            certs.add(c);
        }
        assertEquals(3, certs.stream().map(X509Certificate::getPublicKey).distinct().count());
    }
}
