package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The etcd guide's cluster, with every certificate from fedlink: three members on loopback with peer and client TLS
 * and {@code --client-cert-auth}; etcdctl with a fedlink client certificate can write and read, without one it is
 * refused. Members are real etcd processes started and stopped here.
 */
class EtcdClusterIT {
    @TempDir
    static Path dir;
    static final List<Process> members = new ArrayList<>();
    static int[] clientPorts = new int[3];

    @BeforeAll
    static void startCluster() throws Exception {
        assertTrue(onPath("etcd") && onPath("etcdctl"), "etcd and etcdctl are needed: ./test.sh installs the Debian "
                + "packages etcd-server and etcd-client");
        CertificateAuthority ca = CertificateAuthority.builder().commonName("etcd CA").create();
        Files.writeString(dir.resolve("ca.pem"), Pem.encode(List.of(ca.root())));
        // As in the guide: members on one host share a peer certificate naming localhost (and 127.0.0.1).
        ca.issue(CertificateRequest.peer("localhost").ip("127.0.0.1")).writePem(dir, "member");
        ca.issue(CertificateRequest.client("etcdctl")).writePem(dir, "client");

        int[] peerPorts = new int[3];
        for (int i = 0; i < 3; i++) {
            clientPorts[i] = freePort();
            peerPorts[i] = freePort();
        }
        StringBuilder cluster = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            cluster.append(i == 0 ? "" : ",").append("m").append(i).append("=https://127.0.0.1:").append(peerPorts[i]);
        }
        for (int i = 0; i < 3; i++) {
            String client = "https://127.0.0.1:" + clientPorts[i];
            String peer = "https://127.0.0.1:" + peerPorts[i];
            ProcessBuilder pb = new ProcessBuilder("etcd", "--name", "m" + i, "--data-dir", dir.resolve("data" + i)
                    .toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new",
                    "--initial-cluster-token", "fedlink-it",
                    "--cert-file", "member.pem", "--key-file", "member-key.pem", "--trusted-ca-file", "ca.pem",
                    "--client-cert-auth",
                    "--peer-cert-file", "member.pem", "--peer-key-file", "member-key.pem",
                    "--peer-trusted-ca-file", "ca.pem", "--peer-client-cert-auth")
                    .directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("m" + i + ".log").toFile());
            members.add(pb.start());
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Tools.Result r = etcdctl(true, "endpoint", "health", "--cluster");
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

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Tools.Result etcdctl(boolean withCert, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints",
                "https://127.0.0.1:" + clientPorts[0] + ",https://127.0.0.1:" + clientPorts[1]
                        + ",https://127.0.0.1:" + clientPorts[2],
                "--cacert", "ca.pem", "--dial-timeout", "3s", "--command-timeout", "5s"));
        if (withCert) {
            cmd.addAll(List.of("--cert", "client.pem", "--key", "client-key.pem"));
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "etcdctl hung");
        return new Tools.Result(p.exitValue(), out);
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
        Tools.Result put = etcdctl(true, "put", "/fedlink/party/10000", "10000.fate.org");
        assertTrue(put.code() == 0 && put.out().contains("OK"), put.out());
        Tools.Result get = etcdctl(true, "get", "/fedlink/party/10000");
        assertTrue(get.code() == 0 && get.out().contains("10000.fate.org"), get.out());
        Tools.Result members = etcdctl(true, "member", "list");
        assertTrue(members.out().lines().filter(l -> l.contains("started")).count() == 3, members.out());
    }

    @Test
    void clientWithoutCertificateIsRefused() throws Exception {
        Tools.Result r = etcdctl(false, "get", "/fedlink/party/10000");
        assertNotEquals(0, r.code(), r.out());
        assertTrue(!r.out().contains("10000.fate.org"), r.out());
    }
}
