package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.fedlink.api.RouteHolder;
import io.fedlink.cli.support.EtcdOptions;
import io.fedlink.registry.EtcdCluster;
import io.fedlink.registry.EtcdConnection;
import io.fedlink.registry.EtcdRouteSource;
import io.fedlink.registry.RegistryKeys;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code fedlink federation ...} against a real three-member etcd cluster with mutual TLS and RBAC: the runnable flow
 * of the README (init, party add, list, status, export, remove), refusals as one line naming the value, and the
 * proxy's entry ({@link EtcdOptions#routeSource}) following the changes.
 */
class FederationCommandIT {
    @TempDir
    static Path dir;
    static EtcdCluster etcd;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (etcd != null) {
            etcd.close();
        }
    }

    static Cli fed(String user, String federation, String... args) {
        return Cli.run(fedArgs(user, federation, args));
    }

    /** {@link #fed} as a user runs it: {@code java -jar fedlink.jar federation ...}, stdout and stderr apart. */
    static Cli fedJar(String user, String federation, String... args) throws Exception {
        return ProxyProcess.runSplit(ProxyProcess.fullJar(), fedArgs(user, federation, args));
    }

    private static String[] fedArgs(String user, String federation, String... args) {
        List<String> all = new ArrayList<>(List.of("federation"));
        all.addAll(List.of(args));
        all.addAll(List.of("--etcd", etcd.endpoints(), "--etcd-tls", etcd.tlsDir(user).toString(),
                "--federation", federation, "--etcd-timeout", "10s"));
        return all.toArray(String[]::new);
    }

    static void ok(Cli c) {
        assertEquals(0, c.code(), c.out() + c.err());
    }

    static void refused(Cli c, String part) {
        assertEquals(1, c.code(), c.out() + c.err());
        assertTrue(c.err().startsWith("fedlink: ") && c.err().contains(part), c.err());
        assertFalse(c.err().contains("\tat ") || c.err().contains("Exception"), "no stack trace: " + c.err());
    }

    @Test
    void initAddListStatusExportRemove() throws Exception {
        ok(fed("operator", "flow", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
        Cli again = fed("operator", "flow", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443");
        ok(again);
        assertTrue(again.out().contains("(unchanged)"), again.out());
        ok(fed("operator", "flow", "party", "add", "--party", "10000", "--host", "10.0.0.2"));
        ok(fed("operator", "flow", "party", "add", "--party", "9999", "--host", "broker.party9999.internal",
                "--port", "16650", "--tls-port", "16651", "--allow", "10.0.0.0/8", "--egress", "10.9.9.0/24"));
        Cli list = fed("proxy", "flow", "party", "list");
        ok(list);
        List<String> lines = list.out().lines().toList();
        assertEquals(3, lines.size(), list.out());
        assertTrue(lines.get(0).startsWith("PARTY"), list.out());
        assertTrue(lines.get(1).matches("10000\\s+10\\.0\\.0\\.2\\s+6650\\s+6651\\s+10000\\.fate\\.org\\s+any\\s+-"
                + "\\s+direct"), lines.get(1));
        assertTrue(lines.get(2).matches("9999\\s+broker\\.party9999\\.internal\\s+16650\\s+16651\\s+9999\\.fate\\.org"
                + "\\s+10\\.0\\.0\\.0/8\\s+10\\.9\\.9\\.0/24\\s+direct"), lines.get(2));
        Cli badReach = fed("operator", "flow", "party", "add", "--party", "8888", "--host", "10.0.0.8", "--reach",
                "tunnel");
        assertEquals(2, badReach.code(), badReach.err());
        assertTrue(badReach.err().contains("'tunnel' must be direct or agent"), badReach.err());
        Cli status = fed("proxy", "flow", "status");
        ok(status);
        assertTrue(status.out().contains("parties    2 (10000, 9999)") && status.out().contains("domain fate.org")
                && status.out().contains("egress     not enforced (no --egress: 10000)"), status.out());
        Cli fate = fed("proxy", "flow", "export");
        ok(fate);
        assertEquals("broker.party9999.internal", io.fedlink.federation.PulsarRouteTable.parse(fate.out()).party("9999")
                .host(), "the FATE view reads back with FATE's rules");
        Cli sni = fed("proxy", "flow", "export", "--format", "sni");
        ok(sni);
        assertEquals(2, io.fedlink.sni.SniYaml.parse(sni.out()).size(), sni.out());
        ok(fed("operator", "flow", "party", "remove", "--party", "10000"));
        refused(fed("operator", "flow", "party", "remove", "--party", "10000"), "has no party '10000'");
        assertFalse(fed("proxy", "flow", "party", "list").out().contains("10000"));
    }

    /** Removal as one act: out of the registry, and with the CA folder every certificate of the party revoked. */
    @Test
    void partyRemoveWithTheCaRevokesEveryCertificateOfTheParty() throws Exception {
        String ca = dir.resolve("remove-ca").toString();
        ok(Cli.run("pki", "ca", "create", "--ca-dir", ca, "--permit-dns", "fate.org"));
        List<java.math.BigInteger> serials = new ArrayList<>();
        for (String party : List.of("9999", "9999", "10000")) {
            Cli c = Cli.run("pki", "cert", "create", "--ca-dir", ca, "--party", party, "--out", dir.toString(),
                    "--file", "remove-" + serials.size());
            ok(c);
            serials.add(new java.math.BigInteger(c.out().lines().filter(l -> l.startsWith("serial ")).findFirst()
                    .orElseThrow().substring(7), 16));
        }
        ok(fed("operator", "gone", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
        ok(fed("operator", "gone", "party", "add", "--party", "9999", "--host", "10.0.0.3"));
        Cli removed = fedJar("operator", "gone", "party", "remove", "--party", "9999", "--ca-dir", ca);
        ok(removed);
        assertTrue(removed.out().contains("removed party 9999 from federation gone")
                && removed.out().contains("revoked 2 certificate(s) of party 9999"), removed.out());
        java.security.cert.X509CRL crl = io.fedlink.api.PemCodec.readCrl(
                java.nio.file.Files.readString(Path.of(ca, "crl.pem")));
        assertTrue(crl.getRevokedCertificate(serials.get(0)) != null && crl.getRevokedCertificate(serials.get(1))
                != null, "both of 9999's certificates in the CRL");
        assertEquals(null, crl.getRevokedCertificate(serials.get(2)), "another party's untouched");

        // a CA that cannot be used: the registry removal stands, the refusal says how to finish
        ok(fed("operator", "gone", "party", "add", "--party", "9999", "--host", "10.0.0.3"));
        refused(fedJar("operator", "gone", "party", "remove", "--party", "9999", "--ca-dir",
                dir.resolve("no-such-ca").toString()), "fedlink pki party revoke");
        assertFalse(fed("proxy", "gone", "party", "list").out().contains("9999"), "out of the registry all the same");
    }

    @Test
    void refusalsAreOneLineNamingTheValue() throws Exception {
        ok(fed("operator", "bad", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
        refused(fed("operator", "bad", "party", "add", "--party", "1", "--host", "not a host"), "'not a host'");
        refused(fed("operator", "bad", "party", "add", "--party", "1/2", "--host", "h.org"), "'1/2'");
        ok(fed("operator", "bad", "party", "add", "--party", "1", "--host", "h.org"));
        refused(fed("operator", "bad", "party", "add", "--party", "1", "--host", "i.org"), "already exists");
        refused(fed("proxy", "bad", "party", "add", "--party", "2", "--host", "h.org"), "permission denied");
        refused(fed("operator", "bad", "init", "--domain", "x.org", "--proxy", "p.x.org:443"), "already exists");
        refused(fed("operator", "bad", "init", "--domain", "x_org", "--proxy", "p:443"), "'x_org'");
        refused(fed("operator", "new", "party", "add", "--party", "1", "--host", "h.org"),
                "run 'fedlink federation init' first");
        refused(Cli.run("federation", "status", "--etcd", "ftp://127.0.0.1:2379", "--federation", "x"),
                "'ftp://127.0.0.1:2379'");
        refused(Cli.run("federation", "status", "--etcd", etcd.endpoints(), "--federation", "x"),
                "--etcd-tls");
        refused(Cli.run("federation", "status", "--federation", "x"), "give --etcd");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Cli down = Cli.run("federation", "party", "list", "--etcd", "https://127.0.0.1:" + closed, "--etcd-tls",
                etcd.tlsDir("proxy").toString(), "--federation", "x", "--etcd-timeout", "1s");
        refused(down, "etcd at https://127.0.0.1:" + closed + " is unreachable");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "the deadline holds");
        Cli list = fed("proxy", "bad", "party", "list");
        assertEquals(2, list.out().lines().count(), "nothing half-written: " + list.out());
    }

    /**
     * Issue 22: {@code party list} over 6 MiB under the prefix (gRPC's default inbound limit is 4 MiB) reads in pages;
     * a message limit below one value is refused as "too large" naming the size and the option, not "unreachable".
     */
    @Test
    void partyListReadsSixMibAndNamesATooLargeValue() throws Exception {
        ok(fed("operator", "big", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
        try (EtcdConnection operator = etcd.connect("operator")) {
            EtcdCluster.fill(operator, RegistryKeys.of("big"), 100000, 6000, 0, 88, 64 << 10);
        }
        Cli list = fed("proxy", "big", "party", "list");
        ok(list);
        assertEquals(6001, list.out().lines().count());
        Cli small = fed("proxy", "big", "party", "list", "--etcd-max-message", "65536");
        refused(small, "too large");
        assertTrue(small.err().contains("65536") && small.err().contains("--etcd-max-message"), small.err());
        assertFalse(small.err().contains("unreachable"), small.err());
    }

    /**
     * Issue 21 as an operator runs it: two {@code fedlink proxy --etcd} processes (the packaged jar) follow one
     * federation; {@code federation party remove --party 9999} closes the live tunnel through each within 5 s, both
     * refuse new hellos for 9999, and 10000's tunnel carries on.
     */
    @Test
    void partyRemoveClosesLiveTunnelsOnEveryProxyProcess() throws Exception {
        try (ProxyProcess.EchoTarget broker = new ProxyProcess.EchoTarget()) {
            ok(fed("operator", "rm", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
            for (String id : List.of("10000", "9999")) {
                ok(fed("operator", "rm", "party", "add", "--party", id, "--host", "127.0.0.1", "--tls-port",
                        String.valueOf(broker.port())));
            }
            List<ProxyProcess> proxies = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            List<Socket> live = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    int port = ProxyProcess.freePort();
                    ProxyProcess p = ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--etcd",
                            etcd.endpoints(), "--etcd-tls", etcd.tlsDir("proxy").toString(), "--federation", "rm");
                    proxies.add(p);
                    ports.add(port);
                    p.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
                    live.add(tunnel(port, "9999.fate.org"));
                }
                Socket other = tunnel(ports.get(0), "10000.fate.org");
                live.add(other);
                long removed = System.nanoTime();
                ok(fed("operator", "rm", "party", "remove", "--party", "9999"));
                for (Socket s : live.subList(0, 2)) {
                    EtcdCluster.awaitEnded(s, removed + TimeUnit.SECONDS.toNanos(5));
                }
                System.out.printf("federation party remove to both proxy processes' tunnels closed: %d ms%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - removed));
                for (int i = 0; i < 2; i++) {
                    proxies.get(i).awaitLog("(reason ROUTE_REMOVED)");
                    String answer = ProxyProcess.ask(ports.get(i), "9999.fate.org");
                    assertTrue(answer.length() == 7 && answer.charAt(0) == 0x15, "a TLS alert, not the broker");
                }
                other.getOutputStream().write(7);
                assertEquals(7, other.getInputStream().read(), "10000's tunnel carries on");
            } finally {
                for (Socket s : live) {
                    s.close();
                }
                for (ProxyProcess p : proxies) {
                    p.close();
                }
            }
        }
    }

    /**
     * Issue 22: a proxy process following the registry says the registry's state in {@code /readyz} and in
     * {@code fedlink_registry_state}: ok, then unreachable once the whole cluster is stopped, while it still routes
     * its last good table and stays ready (200, degraded).
     */
    @Test
    void proxyHealthSaysUnreachableWhileRoutingTheLastTable() throws Exception {
        try (ProxyProcess.EchoTarget broker = new ProxyProcess.EchoTarget();
             RegistryProxy proxy = RegistryProxy.start("down", broker.port())) {
            proxy.awaitState("ok");
            for (int i = 0; i < 3; i++) {
                etcd.stopMember(i);
            }
            try {
                String body = proxy.awaitState("unreachable");
                assertTrue(body.startsWith("ready, degraded: serving the last good table (1 routes)\n")
                        && body.contains("\nproblem: ") && body.contains("unreachable"), body);
                tunnel(proxy.port, "10000.fate.org").close(); // still routed
            } finally {
                for (int i = 0; i < 3; i++) {
                    etcd.startMember(i);
                }
                etcd.awaitHealthy();
            }
            proxy.awaitState("ok");
        }
    }

    /**
     * Issue 22: a value over the proxy's {@code --etcd-max-message} shows as too_large (naming the option), not
     * unreachable; the last good table keeps routing, and the state is ok again once the value is gone.
     */
    @Test
    void proxyHealthSaysTooLargeForAValueOverTheMessageLimit() throws Exception {
        try (ProxyProcess.EchoTarget broker = new ProxyProcess.EchoTarget();
             RegistryProxy proxy = RegistryProxy.start("large", broker.port(), "--etcd-max-message", "65536");
             EtcdConnection operator = etcd.connect("operator")) {
            proxy.awaitState("ok");
            ByteSequence key = ByteSequence.from("/fedlink/large/notes/big", StandardCharsets.UTF_8);
            operator.call("put a note", operator.client().getKVClient().put(key,
                    ByteSequence.from(new byte[100 << 10])));
            String body = proxy.awaitState("too_large");
            assertTrue(body.startsWith("ready, degraded") && body.contains("--etcd-max-message")
                    && !body.contains("unreachable"), body);
            tunnel(proxy.port, "10000.fate.org").close(); // still routed
            operator.call("delete the note", operator.client().getKVClient().delete(key));
            proxy.awaitState("ok");
        }
    }

    /** A {@code fedlink proxy --etcd ... --metrics ...} process following a federation with party 10000. */
    static final class RegistryProxy implements AutoCloseable {
        final ProxyProcess process;
        final int port;
        final int metrics;

        private RegistryProxy(ProxyProcess process, int port, int metrics) {
            this.process = process;
            this.port = port;
            this.metrics = metrics;
        }

        static RegistryProxy start(String federation, int brokerPort, String... more) throws Exception {
            ok(fed("operator", federation, "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
            ok(fed("operator", federation, "party", "add", "--party", "10000", "--host", "127.0.0.1", "--tls-port",
                    String.valueOf(brokerPort)));
            int port = ProxyProcess.freePort();
            int metrics = ProxyProcess.freePort();
            List<String> args = new ArrayList<>(List.of("proxy", "--listen", "127.0.0.1:" + port, "--etcd",
                    etcd.endpoints(), "--etcd-tls", etcd.tlsDir("proxy").toString(), "--federation", federation,
                    "--etcd-timeout", "5s", "--metrics", String.valueOf(metrics)));
            args.addAll(List.of(more));
            RegistryProxy p = new RegistryProxy(ProxyProcess.start(args.toArray(String[]::new)), port, metrics);
            p.process.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
            return p;
        }

        /**
         * Waits (60 s at most) until {@code /readyz} answers 200 naming {@code state} and the gauge says the same
         * (1 for it, 0 for every other), promtool accepting the exposition; returns the {@code /readyz} body.
         */
        String awaitState(String state) throws Exception {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line = "fedlink_registry_state{state=\"" + state + "\"} 1.0";
            while (true) {
                var ready = ProxyCommandIT.get(metrics, "/readyz");
                String scrape = ProxyCommandIT.get(metrics, "/metrics").body();
                if (ready.statusCode() == 200 && ready.body().contains("\nregistry: " + state + "\n")
                        && scrape.lines().anyMatch(line::equals)) {
                    assertEquals(List.of(line), scrape.lines().filter(l -> l.startsWith("fedlink_registry_state{")
                            && !l.endsWith(" 0.0")).toList(), "one state at a time");
                    promtoolAccepts(scrape);
                    return ready.body();
                }
                assertTrue(System.nanoTime() - end < 0, "no state " + state + ": /readyz " + ready.statusCode()
                        + " " + ready.body() + "\n" + scrape.lines().filter(l -> l.contains("registry"))
                        .toList() + "\n" + process.log);
                Thread.sleep(100);
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.close();
        }
    }

    /** Runs {@code promtool check metrics} on an exposition; fails with promtool's output unless it passes. */
    static void promtoolAccepts(String exposition) throws Exception {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out);
    }

    /** A live tunnel through the proxy at {@code port} to an echo target, proven by its echoed ClientHello. */
    static Socket tunnel(int port, String name) throws Exception {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        byte[] hello = ProxyProcess.hello(name);
        s.getOutputStream().write(hello);
        assertArrayEquals(hello, s.getInputStream().readNBytes(hello.length), "echoed through " + name + "'s tunnel");
        return s;
    }

    @Test
    void proxyEntryFollowsTheFederation() throws Exception {
        ok(fed("operator", "live", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
        ok(fed("operator", "live", "party", "add", "--party", "10000", "--host", "127.0.0.1"));
        EtcdOptions options = new EtcdOptions(); // as `fedlink proxy --etcd ...` reads them
        new CommandLine(options).parseArgs("--etcd", etcd.endpoints(), "--etcd-tls", etcd.tlsDir("proxy").toString(),
                "--federation", "live", "--etcd-timeout", "10s");
        try (EtcdRouteSource source = options.routeSource(dir.resolve("live-cache.json"))) {
            RouteHolder holder = source.start();
            assertTrue(holder.current().resolve("10000.fate.org") != null);
            ok(fed("operator", "live", "party", "add", "--party", "9999", "--host", "127.0.0.1"));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (holder.current().resolve("9999.fate.org") == null) {
                assertTrue(System.nanoTime() < end, "9999 not routed: " + source.stats());
                Thread.sleep(5);
            }
        }
    }

    @Test
    void pulsarSyncOnceNamesAnUnreachableBroker() throws Exception {
        ok(fed("operator", "sync", "init", "--domain", "fate.org", "--proxy", "proxy.fate.org:443"));
        ok(fed("operator", "sync", "party", "add", "--party", "9999", "--host", "127.0.0.1"));
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closed;
        refused(Cli.run("pulsar", "sync", "--etcd", etcd.endpoints(), "--etcd-tls", etcd.tlsDir("proxy").toString(),
                "--federation", "sync", "--etcd-timeout", "10s", "--party", "10000", "--admin-url", url,
                "--admin-timeout", "2s", "--once"), "broker admin " + url + ": ");
    }
}
