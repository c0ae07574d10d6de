package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.cli.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.CompressionType;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProxyProtocol;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.policies.data.ClusterData;
import org.apache.pulsar.common.policies.data.Policies;
import org.apache.pulsar.common.policies.data.RetentionPolicies;
import org.apache.pulsar.common.policies.data.TenantInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Issue 23's acceptance: FATE 1.11 configured only from {@code fedlink bundle federation}'s files. Checked against
 * FederatedAI/FATE v1.11.4, {@code python/fate_arch/federation/pulsar/_federation.py}, {@code _pulsar_manager.py},
 * {@code _mq_channel.py} and {@code python/fate_arch/federation/_federation.py}.
 *
 * <ul>
 *   <li>The operator writes a federation file (three parties, the proxy on a free loopback port) and runs
 *       {@code fedlink bundle federation FILE --ca-dir CA --out OUT} as on the command line.</li>
 *   <li>One {@code fedlink proxy} process (the packaged proxy jar) with the arguments of the bundle's
 *       {@code proxy/fedlink-proxy.service} {@code ExecStart} line, routes from the bundle's
 *       {@code proxy/sni.yaml}.</li>
 *   <li>Per party a real Pulsar 4.0.7 standalone ({@link Broker}) with the party folder's {@code standalone-tls.conf}
 *       appended unchanged (it sets the cluster name, the advertised name {@code <id>.fate.org}, every TLS setting
 *       and the broker ports; appended last, it wins over the harness's defaults, and the harness's {@code -a} names
 *       the same). The harness adds only process settings: {@code bindAddress} (the party's loopback address),
 *       {@code webServicePort=8080} (Pulsar's default,
 *       FATE's {@code mng_port}), thread counts, a one-bookie ledger quorum and cache size, system topics, topic
 *       policies, functions and load balancer off, {@code allowLoopback}/{@code listeningInterface=lo}/
 *       {@code allowEphemeralPorts}, {@code brokerClient_proxyServiceUrl}/{@code brokerClient_proxyProtocol=SNI}
 *       (the proxy, for the broker's own internal client), JVM memory and C1 flags, and a hosts file.</li>
 *   <li>FATE's side, replayed call for call in Java ({@link FateParty}): {@code service_conf.yaml} read with SnakeYAML
 *       ({@code default_engines.federation}, {@code fate_on_spark.pulsar}: host, port, mng_port, cluster, tenant,
 *       topic_ttl, route_table, mode), the route table it names read the way FATE's loader yields it and looked up
 *       with {@code route_table.get(int(party_id))}. {@code from_conf}: get the tenant, create it with
 *       {@code [cluster]} when absent. Per peer ({@code _create_topic_by_replication_mode}): get the peer's cluster,
 *       create it (else update) from the route table's default entry ({@code <id>.<domain>}, brokerPort,
 *       brokerSslPort, {@code pulsar+ssl://<proxy>}, SNI); add the peer to the tenant's allowed clusters; create the
 *       session namespace with {@code replication_clusters [cluster, peer]} and its retention
 *       ({@code topic_ttl} minutes, size -1), or add the peer to the namespace's replication clusters. Channels
 *       ({@code MQChannel}): a plain client of {@code pulsar://host:port}, producer {@code unique_producer} (LZ4,
 *       60 s send timeout, 500 pending), subscription {@code unique} with consumer {@code unique_consumer}, earliest,
 *       replicated subscription state; a remote sends the {@code <dtype>} message, then the object, with FATE's
 *       properties.</li>
 * </ul>
 *
 * <p>The FATE clients need no name resolution: Pulsar's client stays on the connection to
 * {@code pulsar://host:port} for the topics that broker serves (no lookup answered with {@code <id>.fate.org} is
 * dialled; nothing here resolves it). Jobs: a two-party job (guest 9999, host 10000), then a three-party job (plus arbiter 8888, which makes the
 * parties already in a namespace add a cluster). Then a fourth party (7777) is added to the federation file and the
 * bundle re-run into the same folder: the three parties' keys and certificates are byte-identical, the running
 * proxy reloads the new sni.yaml, the new broker starts from its new folder, and a four-party job runs with the
 * three other brokers still the same processes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FateReplayIT {
    static final Map<String, String> ADDRESS = new LinkedHashMap<>();
    static final List<String> FIRST = List.of("10000", "9999", "8888");
    static final String JOINER = "7777";
    static final Duration WAIT = Duration.ofSeconds(90);

    static {
        ADDRESS.put("10000", "127.0.0.80");
        ADDRESS.put("9999", "127.0.0.81");
        ADDRESS.put("8888", "127.0.0.82");
        ADDRESS.put(JOINER, "127.0.0.83");
    }

    @TempDir
    static Path dir;
    static Path federationFile;
    static Path out;
    static Path caDir;
    static Path hosts;
    static int proxyPort;
    static Process proxy;
    static final List<String> proxyLog = Collections.synchronizedList(new ArrayList<>());
    static final Map<String, Broker> brokers = new LinkedHashMap<>();
    static final long started = System.nanoTime();

    @BeforeAll
    static void startFederation() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            proxyPort = s.getLocalPort();
        }
        federationFile = dir.resolve("federation.yaml");
        caDir = dir.resolve("ca");
        out = dir.resolve("out");
        Files.writeString(federationFile, description(FIRST));
        bundle();
        startProxy();
        StringBuilder h = new StringBuilder("127.0.0.1 localhost " + StarNetworkIT.localHostName() + "\n");
        ADDRESS.forEach((p, a) -> h.append(a).append(' ').append(p).append(".fate.org\n"));
        hosts = Files.writeString(dir.resolve("hosts"), h.toString()); // the brokers' JDK resolver (Broker)
        for (String p : FIRST) { // in parallel: each a JVM of its own
            startBroker(p);
        }
        for (String p : FIRST) {
            brokers.get(p).awaitReady(Duration.ofSeconds(240));
        }
        report("set-up (bundle, proxy, 3 brokers) %d s", seconds(started));
    }

    @AfterAll
    static void stopFederation() throws Exception {
        for (Broker b : brokers.values()) {
            b.kill(); // a graceful stop takes ~15 s; nothing here needs one
        }
        for (Broker b : brokers.values()) {
            b.close();
        }
        if (proxy != null) {
            proxy.destroy();
            if (!proxy.waitFor(20, TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        report("whole test %d s", seconds(started));
    }

    @Test
    @Order(1)
    void aTwoPartyAndAThreePartyJobRunOnTheBundlesFilesAlone() throws Exception {
        long t0 = System.nanoTime();
        job("202612070001_2p", roles("9999", "guest", "10000", "host"));
        report("two-party job %d ms", millis(t0));
        t0 = System.nanoTime();
        job("202612070002_3p", roles("9999", "guest", "10000", "host", "8888", "arbiter"));
        report("three-party job %d ms", millis(t0));
        try (FateParty p = FateParty.fromConf("10000", "host")) {
            ClusterData c = p.admin.clusters().getCluster("9999");
            assertEquals("pulsar://9999.fate.org:6650", c.getBrokerServiceUrl());
            assertEquals("pulsar+ssl://9999.fate.org:6651", c.getBrokerServiceUrlTls());
            assertEquals("pulsar+ssl://127.0.0.1:" + proxyPort, c.getProxyServiceUrl());
            assertEquals(ProxyProtocol.SNI, c.getProxyProtocol());
            assertEquals(Set.of("10000", "9999", "8888"), Set.copyOf(p.admin.tenants().getTenantInfo("fl-tenant")
                    .getAllowedClusters()));
        }
    }

    @Test
    @Order(2)
    void aFourthPartyJoinsByReRunningTheBundleAndNothingElseRestarts() throws Exception {
        Map<String, byte[]> keys = new LinkedHashMap<>();
        for (String p : FIRST) {
            for (String f : List.of("cert.pem", "key.pem")) {
                keys.put(p + "/" + f, Files.readAllBytes(out.resolve("party-" + p).resolve(f)));
            }
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        brokers.forEach((p, b) -> pids.put(p, b.handle().pid()));

        long t0 = System.nanoTime();
        List<String> all = new ArrayList<>(FIRST);
        all.add(JOINER);
        Files.writeString(federationFile, description(all)); // the operator's edit
        bundle();
        for (var e : keys.entrySet()) {
            String[] pf = e.getKey().split("/");
            assertArrayEquals(e.getValue(), Files.readAllBytes(out.resolve("party-" + pf[0]).resolve(pf[1])),
                    e.getKey() + " kept on the re-run");
        }
        await("the running proxy reloaded sni.yaml with the new party", () -> {
            synchronized (proxyLog) {
                return proxyLog.stream().anyMatch(l -> l.contains("reloaded") && l.contains("4 routes"));
            }
        });
        report("re-run bundle -> proxy routes the new party: %d ms", millis(t0));
        // The running parties' route tables send an unlisted party through the default entry: FATE finds 7777 there.
        for (String p : FIRST) {
            Map<?, ?> table = FateParty.yaml(out.resolve("party-" + p).resolve("pulsar_route_table.yaml"));
            assertNull(table.get(Integer.parseInt(JOINER)), p + " has no entry of its own for " + JOINER);
            assertEquals("127.0.0.1:" + proxyPort, ((Map<?, ?>) table.get("default")).get("proxy"));
        }
        startBroker(JOINER);
        brokers.get(JOINER).awaitReady(Duration.ofSeconds(240));
        report("fourth broker ready: %d ms after the edit", millis(t0));
        job("202612070003_4p", roles("7777", "guest", "10000", "host", "9999", "host", "8888", "arbiter"));
        report("fourth party joined, four-party job done: %d ms after the edit", millis(t0));
        pids.forEach((p, pid) -> {
            assertTrue(brokers.get(p).handle().isAlive(), p + "'s broker still runs");
            assertEquals(pid, brokers.get(p).handle().pid(), p + "'s broker is the same process");
        });
        assertTrue(proxy.isAlive(), "the proxy still runs: " + proxyLog);
    }

    // ---- the job

    static Map<String, String> roles(String... partyRole) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < partyRole.length; i += 2) {
            m.put(partyRole[i], partyRole[i + 1]);
        }
        return m;
    }

    /**
     * One job: every party sends one object to every other ({@code remote}) and receives every other's
     * ({@code get}). Each party first makes its topics for every peer, as the parties of a running job do at once;
     * then the sends, then the receives. Checks the namespace each broker holds and every message's body and
     * properties.
     */
    static void job(String session, Map<String, String> roles) throws Exception {
        List<FateParty> parties = new ArrayList<>();
        try {
            for (var e : roles.entrySet()) {
                parties.add(FateParty.fromConf(e.getKey(), e.getValue()));
            }
            long t0 = System.nanoTime();
            String name = "model_weights";
            String tag = session + ".iter-0";
            for (FateParty p : parties) {
                for (FateParty peer : parties) {
                    if (peer != p) {
                        p.topic(session, peer, FateParty.DTYPE + "-" + FateParty.DTYPE);
                        p.topic(session, peer, name);
                    }
                }
            }
            long topics = millis(t0);
            for (FateParty p : parties) {
                assertEquals(new HashSet<>(roles.keySet()), new HashSet<>(p.admin.namespaces()
                        .getNamespaceReplicationClusters(p.tenant + "/" + session)), p.partyId + "'s namespace");
                assertEquals(new RetentionPolicies(p.topicTtl, -1), p.admin.namespaces()
                        .getRetention(p.tenant + "/" + session), p.partyId + "'s retention (FATE's topic_ttl)");
            }
            for (FateParty p : parties) {
                for (FateParty peer : parties) {
                    if (peer != p) {
                        p.send(session, peer, FateParty.DTYPE + "-" + FateParty.DTYPE, name, tag + "^"
                                + FateParty.DTYPE, "{\"dtype\": \"obj\"}");
                        p.send(session, peer, name, name, tag, "weights of " + p.partyId + " for " + peer.partyId);
                    }
                }
            }
            long sent = millis(t0);
            for (FateParty p : parties) {
                for (FateParty peer : parties) {
                    if (peer != p) {
                        p.receive(session, peer, FateParty.DTYPE + "-" + FateParty.DTYPE, name, tag + "^"
                                + FateParty.DTYPE, "{\"dtype\": \"obj\"}");
                        p.receive(session, peer, name, name, tag, "weights of " + peer.partyId + " for "
                                + p.partyId);
                    }
                }
            }
            report("%s: topics, clusters, tenant, namespaces %d ms; sent %d ms; all received %d ms", session, topics,
                    sent, millis(t0));
        } finally {
            for (FateParty p : parties) {
                p.close();
            }
        }
    }

    /**
     * One FATE party as FATE 1.11 sets itself up: everything from its {@code service_conf.yaml} and the route table
     * that names, nothing else.
     */
    static final class FateParty implements AutoCloseable {
        static final String DTYPE = "<dtype>";
        final String partyId;
        final String role;
        final String host;
        final int port;
        final String cluster;
        final String tenant;
        final int topicTtl;
        final Map<?, ?> routeTable;
        final PulsarAdmin admin;
        final PulsarClient client;
        final List<AutoCloseable> channels = new ArrayList<>();

        private FateParty(String partyId, String role, Map<?, ?> pulsar, Map<?, ?> routeTable) throws Exception {
            this.partyId = partyId;
            this.role = role;
            this.host = String.valueOf(pulsar.get("host"));
            this.port = ((Number) pulsar.get("port")).intValue();
            this.cluster = String.valueOf(pulsar.get("cluster"));
            this.tenant = String.valueOf(pulsar.get("tenant"));
            this.topicTtl = ((Number) pulsar.get("topic_ttl")).intValue();
            this.routeTable = routeTable;
            this.admin = PulsarAdmin.builder().serviceHttpUrl("http://" + host + ":" + pulsar.get("mng_port"))
                    .connectionTimeout(5, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS)
                    .requestTimeout(30, TimeUnit.SECONDS).build();
            this.client = PulsarClient.builder().serviceUrl("pulsar://" + host + ":" + port)
                    .operationTimeout(30, TimeUnit.SECONDS).build();
        }

        static Map<?, ?> yaml(Path file) throws IOException {
            return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        }

        /** {@code Federation.from_conf}: the party's own configuration, then the tenant. */
        static FateParty fromConf(String partyId, String role) throws Exception {
            Map<?, ?> conf = yaml(out.resolve("party-" + partyId).resolve("service_conf.yaml"));
            assertEquals("pulsar", ((Map<?, ?>) conf.get("default_engines")).get("federation"));
            Map<?, ?> pulsar = (Map<?, ?>) ((Map<?, ?>) conf.get("fate_on_spark")).get("pulsar");
            assertEquals("replication", pulsar.get("mode"));
            Map<?, ?> table = yaml(Path.of(String.valueOf(pulsar.get("route_table"))));
            Map<?, ?> own = (Map<?, ?>) table.get(Integer.parseInt(partyId)); // FATE: route_table.get(int(party_id))
            assertTrue(own != null && Boolean.TRUE.equals(own.get("local")), partyId + ": " + table);
            FateParty p = new FateParty(partyId, role, pulsar, table);
            TenantInfo t = p.tenantInfo();
            if (t == null || t.getAllowedClusters() == null) {
                p.admin.tenants().createTenant(p.tenant, TenantInfo.builder().adminRoles(Set.of())
                        .allowedClusters(Set.of(p.cluster)).build());
            }
            return p;
        }

        TenantInfo tenantInfo() throws PulsarAdminException {
            try {
                return admin.tenants().getTenantInfo(tenant);
            } catch (PulsarAdminException.NotFoundException e) {
                return null;
            }
        }

        /** {@code _create_topic_by_replication_mode} for one peer and topic suffix. */
        void topic(String session, FateParty peer, String suffix) throws Exception {
            ClusterData existing;
            try {
                existing = admin.clusters().getCluster(peer.partyId);
            } catch (PulsarAdminException.NotFoundException e) {
                existing = null;
            }
            if (existing == null || (blank(existing.getBrokerServiceUrl())
                    && blank(existing.getBrokerServiceUrlTls()))) {
                Map<?, ?> remote = (Map<?, ?>) routeTable.get(Integer.parseInt(peer.partyId));
                Map<?, ?> d = (Map<?, ?>) routeTable.get("default");
                String host = remote == null ? peer.partyId + "." + d.get("domain")
                        : String.valueOf(remote.get("host"));
                Object port = remote == null ? or(d.get("brokerPort"), "6650") : or(remote.get("port"), "6650");
                Object ssl = remote == null ? or(d.get("brokerSslPort"), "6651") : or(remote.get("sslPort"), "6651");
                String proxy = String.valueOf(or((remote == null ? d : remote).get("proxy"), ""));
                ClusterData data = ClusterData.builder().serviceUrl("").serviceUrlTls("")
                        .brokerServiceUrl("pulsar://" + host + ":" + port)
                        .brokerServiceUrlTls("pulsar+ssl://" + host + ":" + ssl)
                        .peerClusterNames(new java.util.LinkedHashSet<>())
                        .proxyServiceUrl(proxy.isEmpty() ? "" : "pulsar+ssl://" + proxy)
                        .proxyProtocol(ProxyProtocol.SNI).build();
                try {
                    admin.clusters().createCluster(peer.partyId, data);
                } catch (PulsarAdminException e) {
                    admin.clusters().updateCluster(peer.partyId, data);
                }
            }
            TenantInfo t = tenantInfo();
            if (!t.getAllowedClusters().contains(peer.partyId)) {
                Set<String> allowed = new HashSet<>(t.getAllowedClusters());
                allowed.add(peer.partyId);
                admin.tenants().updateTenant(tenant, TenantInfo.builder().adminRoles(t.getAdminRoles())
                        .allowedClusters(allowed).build());
            }
            String ns = tenant + "/" + session;
            if (!admin.namespaces().getNamespaces(tenant).contains(ns)) {
                Policies policies = new Policies();
                policies.replication_clusters = new HashSet<>(List.of(cluster, peer.partyId));
                try {
                    admin.namespaces().createNamespace(ns, policies);
                } catch (PulsarAdminException.ConflictException e) {
                    // FATE accepts 409
                }
                admin.namespaces().setRetention(ns, new RetentionPolicies(topicTtl, -1));
            } else {
                List<String> clusters = new ArrayList<>(admin.namespaces().getNamespaceReplicationClusters(ns));
                if (!clusters.contains(peer.partyId)) {
                    clusters.add(peer.partyId);
                    admin.namespaces().setNamespaceReplicationClusters(ns, new HashSet<>(clusters));
                }
            }
        }

        /** FATE's topic pair: what this party sends to {@code peer} on, and receives from it on. */
        String sendTopic(String session, FateParty peer, String suffix) {
            return tenant + "/" + session + "/" + role + "-" + partyId + "-" + peer.role + "-" + peer.partyId + "-"
                    + suffix;
        }

        /** {@code _send_obj} through {@code MQChannel.produce}. */
        void send(String session, FateParty peer, String suffix, String name, String tag, String body)
                throws Exception {
            Producer<byte[]> producer = client.newProducer().topic(sendTopic(session, peer, suffix))
                    .producerName("unique_producer").sendTimeout(60, TimeUnit.SECONDS).maxPendingMessages(500)
                    .compressionType(CompressionType.LZ4).create();
            channels.add(producer);
            producer.newMessage().value(body.getBytes(StandardCharsets.UTF_8)).properties(Map.of(
                    "content_type", "text/plain", "app_id", peer.partyId, "message_id", name,
                    "correlation_id", tag)).send();
        }

        /** {@code _receive_obj} through {@code MQChannel.consume}: the first message must be the one expected. */
        void receive(String session, FateParty peer, String suffix, String name, String tag, String body)
                throws Exception {
            Consumer<byte[]> consumer = client.newConsumer().topic(peer.sendTopic(session, this, suffix))
                    .subscriptionName("unique").consumerName("unique_consumer")
                    .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                    .replicateSubscriptionState(true).subscribe();
            channels.add(consumer);
            Message<byte[]> m = consumer.receive((int) WAIT.toSeconds(), TimeUnit.SECONDS);
            String what = session + ": " + peer.partyId + " -> " + partyId + " (" + suffix + ")";
            assertTrue(m != null, what + " never arrived\nbroker " + partyId + ":\n" + brokers.get(partyId).tail());
            assertEquals(body, new String(m.getValue(), StandardCharsets.UTF_8), what);
            Map<String, String> fate = new LinkedHashMap<>(m.getProperties());
            fate.keySet().removeIf(k -> k.startsWith("__")); // Pulsar's own (the replication source position)
            assertEquals(Map.of("content_type", "text/plain", "app_id", partyId, "message_id", name,
                    "correlation_id", tag), fate, what);
            assertEquals(peer.cluster, m.getReplicatedFrom(), what + ": a copy replicated from the sender's broker");
            consumer.acknowledge(m);
        }

        private static boolean blank(String s) {
            return s == null || s.isEmpty();
        }

        private static Object or(Object v, Object dflt) {
            return v == null ? dflt : v;
        }

        @Override
        public void close() throws Exception {
            for (AutoCloseable c : channels) {
                c.close();
            }
            client.close();
            admin.close();
        }
    }

    // ---- the operator's side

    /** The federation file the operator writes: the parties' loopback addresses, the proxy's port. */
    static String description(List<String> parties) {
        StringBuilder sb = new StringBuilder("domain: fate.org\nproxy: { host: 127.0.0.1, port: " + proxyPort
                + ", listen: \"127.0.0.1:" + proxyPort + "\" }\nparties:\n");
        for (String p : parties) {
            sb.append("  - { id: \"").append(p).append("\", address: ").append(ADDRESS.get(p)).append(" }\n");
        }
        return sb.toString();
    }

    /** {@code fedlink bundle federation FILE --ca-dir CA --out OUT}, as the operator runs it; requires success. */
    static void bundle() {
        String[] args = {"bundle", "federation", federationFile.toString(), "--ca-dir", caDir.toString(), "--out",
                out.toString()};
        StringWriter o = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true));
        cl.setErr(new PrintWriter(o, true));
        assertEquals(0, cl.execute(args), "fedlink " + String.join(" ", args) + ":\n" + o);
    }

    /** The proxy as the bundle's unit starts it: the packaged jar with its {@code ExecStart} arguments. */
    static void startProxy() throws Exception {
        String jar = System.getProperty("fedlink.proxy.jar");
        assertTrue(jar != null && Files.exists(Path.of(jar)), "the fedlink-cli module packages the jar: " + jar);
        String exec = Files.readAllLines(out.resolve("proxy/fedlink-proxy.service")).stream()
                .filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar));
        cmd.addAll(Arrays.asList(exec.substring(exec.indexOf("fedlink-proxy.jar ") + "fedlink-proxy.jar ".length())
                .trim().split("\\s+")));
        // The unit names the proxy's install folder (the default, /etc/fedlink/proxy: a test folder under /tmp is
        // refused, its PrivateTmp would hide it); the test runs the proxy as if the folder were installed there.
        assertEquals(List.of("proxy", "--listen", "127.0.0.1:" + proxyPort, "--routes",
                "/etc/fedlink/proxy/sni.yaml"), cmd.subList(6, cmd.size()));
        cmd.set(cmd.size() - 1, out.resolve("proxy/sni.yaml").toAbsolutePath().toString());
        proxy = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proxy.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    proxyLog.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "fate-proxy-log");
        reader.setDaemon(true);
        reader.start();
        await("the proxy serving the bundle's 3 routes", () -> {
            assertTrue(proxy.isAlive(), "the proxy exited: " + proxyLog);
            synchronized (proxyLog) {
                return proxyLog.stream().anyMatch(l -> l.contains("fedlink proxy listening on") && l.contains(
                        "with 3 routes"));
            }
        });
    }

    static void startBroker(String p) throws IOException {
        // the bundle names the broker, its ports and its advertised name (the harness's -a agrees: <id>.fate.org)
        List<String> conf = Files.readAllLines(out.resolve("party-" + p).resolve("standalone-tls.conf"));
        for (String line : List.of("clusterName=" + p, "advertisedAddress=" + p + ".fate.org",
                "brokerServicePort=6650", "brokerServicePortTls=6651", "tlsRequireTrustedClientCertOnConnect=true",
                "brokerClientTlsEnabled=true")) {
            assertTrue(conf.contains(line), line + " missing from party " + p + "'s standalone-tls.conf");
        }
        brokers.put(p, Broker.start(p, ADDRESS.get(p), dir.resolve("broker-" + p), out.resolve("party-" + p),
                proxyPort, hosts));
    }

    // ---- helpers

    static void await(String what, Callable<Boolean> condition) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() - end < 0) {
            if (condition.call()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not in " + WAIT + ": " + what);
    }

    static long seconds(long t0) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    }

    static long millis(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    static void report(String format, Object... args) {
        System.out.println("FateReplayIT " + String.format(format, args));
    }
}
