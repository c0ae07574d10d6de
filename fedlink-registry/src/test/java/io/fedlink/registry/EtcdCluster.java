package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.api.PemCodec;
import io.fedlink.api.SecureFiles;
import io.fedlink.api.TlsFiles;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real three-member etcd cluster on loopback for tests, as the etcd guide sets it up: peer and client TLS with
 * {@code --client-cert-auth}, every certificate from fedlink's CA, and etcd's RBAC on: {@code root} (the root role),
 * {@code operator} (read-write on {@code /fedlink/}) and {@code proxy} (read-only on {@code /fedlink/}). The etcd
 * user of a connection is its client certificate's common name. Each identity's files are in {@link #tlsDir} as
 * {@code ca.pem}, {@code cert.pem} and {@code key.pem}.
 */
public final class EtcdCluster implements AutoCloseable {
    static final List<String> USERS = List.of("root", "operator", "proxy");

    private final Path dir;
    private final int size;
    private final int[] clientPorts;
    private final List<List<String>> commands = new ArrayList<>();
    private final Process[] members;
    private CertificateAuthority ca;

    private EtcdCluster(Path dir, int size) {
        this.dir = dir;
        this.size = size;
        this.clientPorts = new int[size];
        this.members = new Process[size];
    }

    /**
     * Writes {@code <name>.pem} (the chain) and {@code <name>-key.pem} (mode 0600) into {@code dir}: the layout etcd
     * members are given and {@code fedlink pki cert create --name <name> --out DIR} writes.
     */
    static void writePem(IssuedCertificate c, Path dir, String name) throws IOException {
        SecureFiles.writePublic(dir.resolve(name + ".pem"), c.chainPem());
        SecureFiles.writePrivate(dir.resolve(name + "-key.pem"), c.privateKeyPem());
    }

    /** Starts a 3-member cluster, waits until healthy and turns RBAC on. */
    public static EtcdCluster start(Path dir) throws Exception {
        return start(dir, 3);
    }

    /** Starts a cluster of {@code size} members, waits until healthy and turns RBAC on. */
    public static EtcdCluster start(Path dir, int size) throws Exception {
        assertTrue(onPath("etcd") && onPath("etcdctl"), "etcd and etcdctl are needed: ./test.sh installs the Debian "
                + "packages etcd-server and etcd-client");
        EtcdCluster c = new EtcdCluster(dir, size);
        CertificateAuthority ca = CertificateAuthority.builder().commonName("etcd CA").create();
        c.ca = ca;
        Files.writeString(dir.resolve("ca.pem"), PemCodec.certificates(List.of(ca.root())));
        writePem(ca.issue(CertificateRequest.peer("localhost").ip("127.0.0.1")), dir, "member");
        for (String user : USERS) {
            TlsFiles.write(ca.issue(CertificateRequest.client(user)).tlsMaterial(), dir.resolve(user));
        }
        int[] peerPorts = new int[size];
        for (int i = 0; i < size; i++) {
            c.clientPorts[i] = freePort();
            peerPorts[i] = freePort();
        }
        StringBuilder cluster = new StringBuilder();
        for (int i = 0; i < size; i++) {
            cluster.append(i == 0 ? "" : ",").append("m").append(i).append("=https://127.0.0.1:").append(peerPorts[i]);
        }
        for (int i = 0; i < size; i++) {
            String client = "https://127.0.0.1:" + c.clientPorts[i];
            String peer = "https://127.0.0.1:" + peerPorts[i];
            c.commands.add(List.of("etcd", "--name", "m" + i, "--data-dir", dir.resolve("data" + i).toString(),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new",
                    "--initial-cluster-token", "fedlink-registry-it",
                    "--cert-file", "member.pem", "--key-file", "member-key.pem", "--trusted-ca-file", "ca.pem",
                    "--client-cert-auth",
                    "--peer-cert-file", "member.pem", "--peer-key-file", "member-key.pem",
                    "--peer-trusted-ca-file", "ca.pem", "--peer-client-cert-auth",
                    "--heartbeat-interval", "50", "--election-timeout", "500", "--log-level", "warn"));
        }
        for (int i = 0; i < size; i++) {
            c.startMember(i);
        }
        c.awaitHealthy();
        c.ok("root", "user", "add", "root:root-unused", "--interactive=false");
        c.ok("root", "user", "grant-role", "root", "root");
        c.ok("root", "role", "add", "operator");
        c.ok("root", "role", "grant-permission", "operator", "readwrite", "/fedlink/", "--prefix=true");
        c.ok("root", "user", "add", "operator:operator-unused", "--interactive=false");
        c.ok("root", "user", "grant-role", "operator", "operator");
        c.ok("root", "role", "add", "proxy");
        c.ok("root", "role", "grant-permission", "proxy", "read", "/fedlink/", "--prefix=true");
        c.ok("root", "user", "add", "proxy:proxy-unused", "--interactive=false");
        c.ok("root", "user", "grant-role", "proxy", "proxy");
        c.ok("root", "auth", "enable");
        return c;
    }

    /** The CA every member and user certificate comes from (etcd trusts it for client certificates). */
    public CertificateAuthority ca() {
        return ca;
    }

    /** The client endpoints, comma separated. */
    public String endpoints() {
        StringBuilder sb = new StringBuilder();
        for (int p : clientPorts) {
            sb.append(sb.length() == 0 ? "" : ",").append("https://127.0.0.1:").append(p);
        }
        return sb.toString();
    }

    /** The TLS folder of an identity. */
    public Path tlsDir(String user) {
        return dir.resolve(user);
    }

    /** A connection as {@code user}; the deadline is generous because test machines are shared and busy. */
    public EtcdConnection connect(String user) throws IOException {
        return EtcdConnection.builder().endpoints(endpoints()).tls(EtcdConnection.readTlsDir(tlsDir(user)))
                .timeout(Duration.ofSeconds(10)).build();
    }

    /** Starts member {@code i} (again), with its data folder. */
    public void startMember(int i) throws IOException {
        members[i] = new ProcessBuilder(commands.get(i)).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("m" + i + ".log").toFile())).start();
    }

    /** Stops member {@code i} (SIGTERM, then SIGKILL after 10 s). */
    public void stopMember(int i) throws InterruptedException {
        Process p = members[i];
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Waits until every member reports healthy (60 s at most). */
    public void awaitHealthy() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Result r = etcdctl("root", "endpoint", "health");
            if (r.code() == 0 && r.out().split("is healthy").length == size + 1) {
                return;
            }
            for (int i = 0; i < size; i++) {
                assertTrue(members[i].isAlive(), "etcd member m" + i + " exited: "
                        + Files.readString(dir.resolve("m" + i + ".log")));
            }
            assertTrue(System.nanoTime() - end < 0, "cluster not healthy in 60 s: " + r.out());
            Thread.sleep(100);
        }
    }

    /** Compacts the history up to the current revision (as root). */
    public void compact() throws Exception {
        Result r = etcdctl("root", "endpoint", "status", "--write-out=fields");
        String rev = r.out().lines().filter(l -> l.startsWith("\"Revision\"")).findFirst().orElseThrow()
                .replaceAll("\\D", "");
        ok("root", "compaction", rev, "--physical");
    }

    /**
     * Writes {@code parties} valid parties (ids from {@code firstId}, hosts 10.x.y.z, TLS port {@code tlsPort}) and
     * {@code notes} other values of {@code noteBytes} each (under {@code <prefix>notes/}, which readers ignore) into an
     * initialised federation, in transactions of 100 puts.
     */
    public static void fill(EtcdConnection operator, RegistryKeys keys, int firstId, int parties, int tlsPort,
                            int notes, int noteBytes) throws Exception {
        FederationSettings settings = new FederationRegistry(operator, keys).read().settings();
        List<Op> ops = new ArrayList<>();
        for (int n = 0; n < parties; n++) {
            Party p = Party.of(String.valueOf(firstId + n), "10." + (n / 62500) + "." + (n / 250 % 250)
                    + "." + (n % 250 + 1), 0, tlsPort, List.of(), settings);
            ops.add(Op.put(RegistryKeys.bytes(keys.partyKey(p.id())), ByteSequence.from(FederationJson.bytes(p)),
                    PutOption.DEFAULT));
            if (ops.size() == 100 || n == parties - 1) {
                operator.call("bulk put", operator.client().getKVClient().txn().Then(ops.toArray(Op[]::new)).commit());
                ops.clear();
            }
        }
        byte[] note = new byte[noteBytes];
        Arrays.fill(note, (byte) 'x');
        for (int n = 0; n < notes; n++) {
            operator.call("put a note", operator.client().getKVClient().put(
                    RegistryKeys.bytes(keys.prefix() + "notes/" + n), ByteSequence.from(note)));
        }
    }

    /**
     * Waits until the peer (a proxy) ended {@code s} (EOF or reset; no byte may arrive), failing at {@code deadline}
     * ({@link System#nanoTime()}).
     */
    public static void awaitEnded(Socket s, long deadline) throws IOException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        assertTrue(left > 0, "still open at the deadline");
        s.setSoTimeout((int) left);
        try {
            assertEquals(-1, s.getInputStream().read(), "no byte may arrive");
        } catch (SocketTimeoutException e) {
            fail("still open at the deadline");
        } catch (IOException reset) {
            // a reset ends it too
        }
    }

    /** Runs etcdctl as {@code user} against every member. */
    public Result etcdctl(String user, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", endpoints(),
                "--cacert", "ca.pem", "--cert", user + "/cert.pem", "--key", user + "/key.pem",
                "--dial-timeout", "2s", "--command-timeout", "5s"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "etcdctl hung");
        return new Result(p.exitValue(), out);
    }

    /** Runs etcdctl as {@code user} and requires success; returns its output. */
    public String ok(String user, String... args) throws IOException, InterruptedException {
        Result r = etcdctl(user, args);
        assertTrue(r.code() == 0, "etcdctl " + String.join(" ", args) + " failed: " + r.out());
        return r.out();
    }

    @Override
    public void close() throws InterruptedException {
        for (int i = 0; i < size; i++) {
            if (members[i] != null) {
                stopMember(i);
            }
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

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** An etcdctl exit code and its combined output. */
    public record Result(int code, String out) {}
}
