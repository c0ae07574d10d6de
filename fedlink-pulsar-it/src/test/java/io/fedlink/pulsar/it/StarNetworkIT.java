package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.AgentListenerConfig;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import io.fedlink.bundle.FederationBundle;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.federation.ClusterMetadata;
import io.fedlink.pulsar.FederationAdmin;
import io.fedlink.pulsar.PartyClients;
import io.fedlink.federation.PulsarRouteTable;
import io.fedlink.api.TlsFiles;
import io.fedlink.sni.Agent;
import io.fedlink.sni.SniProxy;
import io.fedlink.sni.SniYaml;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FATE star network for real, every host's files from {@code fedlink bundle federation} used unchanged: Pulsar
 * brokers for parties 10000 and 9999 (separate JVMs on 127.0.0.2 and 127.0.0.3) with their party folders'
 * certificates, TLS lines and route tables, hostname verification on, the fedlink SNI proxy in the middle on the
 * bundle's sni.yaml,
 * clusters, tenant and a replicated namespace applied by fedlink-pulsar with FATE's cluster metadata. Messages
 * published at one party arrive at the other, and the proxy's counters show that the replication crossed it. A third
 * party joins at run time (the federation bundle written again with it, same CA) with a new certificate and the new
 * sni.yaml, without restarting anything.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StarNetworkIT {
    @TempDir
    static Path dir;
    static CertificateAuthority ca;
    static TunnelServer proxy;
    static final Map<String, AtomicLong> bytesToParty = new ConcurrentHashMap<>();
    static final Map<String, Broker> brokers = new ConcurrentHashMap<>();
    static final List<AutoCloseable> closeAfter = new ArrayList<>();
    static Path hosts;

    static final Map<String, Path> folders = new ConcurrentHashMap<>();

    /** The federation description the proxy operator writes; the proxy is dialled by IP (nothing resolves names). */
    static FederationBundle.Description description(int proxyPort, String... partiesAndAddresses) {
        StringBuilder sb = new StringBuilder("domain: fate.org\nproxy: { host: 127.0.0.1, port: " + proxyPort
                + " }\nparties:\n");
        for (int i = 0; i < partiesAndAddresses.length; i += 2) {
            sb.append("  - { id: \"").append(partiesAndAddresses[i]).append("\", address: ")
                    .append(partiesAndAddresses[i + 1]).append(" }\n");
        }
        return FederationBundle.parse(sb.toString());
    }

    @BeforeAll
    static void startFederation() throws Exception {
        ca = CertificateAuthority.builder().commonName("fate.org federation CA").permitDns("fate.org")
                .permitIp("127.0.0.0/8").create();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path fed = dir.resolve("federation");
        FederationBundle.of(ca, description(port, "10000", "127.0.0.2", "9999", "127.0.0.3"), null).write(fed);
        TlsMaterial proxyTls = ca.issue(CertificateRequest.server("proxy.fate.org").ip("127.0.0.1")).tlsMaterial();
        proxy = SniProxy.builder().bindLoopback(port).eventLoops(2).routes(SniYaml.read(fed.resolve("proxy/sni.yaml")))
                .agents(AgentListenerConfig.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                        .tls(ReloadableTlsMaterial.of(proxyTls)).partyDomain("fate.org").build())
                .listener(new TunnelListener() {
                    @Override
                    public void tunnelClosed(Tunnel t) {
                        bytesToParty.computeIfAbsent(String.valueOf(t.serverName()), k -> new AtomicLong())
                                .addAndGet(t.bytesFromClient());
                    }
                }).start();
        closeAfter.add(proxy);
        hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 localhost " + localHostName() + "\n"
                + "127.0.0.2 10000.fate.org\n127.0.0.3 9999.fate.org\n127.0.0.4 8888.fate.org\n");
        for (String[] p : new String[][] {{"10000", "127.0.0.2"}, {"9999", "127.0.0.3"}}) {
            folders.put(p[0], fed.resolve("party-" + p[0]));
            Broker b = Broker.start(p[0], p[1], dir.resolve("broker-" + p[0]), folders.get(p[0]), proxyPort(), hosts);
            brokers.put(p[0], b);
            closeAfter.add(b);
        }
        for (Broker b : brokers.values()) {
            b.awaitReady(Duration.ofSeconds(120));
        }
    }

    /** The machine's name, which the broker's bookie looks up; "localhost" when even that fails. */
    static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    static int proxyPort() {
        return proxy.localAddress().getPort();
    }

    /** A party's own route table from its folder, as in the FATE guide: itself, and a default through the proxy. */
    static PulsarRouteTable tableOf(String party) throws IOException {
        return PulsarRouteTable.read(folders.get(party).resolve("pulsar_route_table.yaml"));
    }

    /** A party's PEM files, from its folder. */
    static TlsFiles tlsOf(String party) {
        Path f = folders.get(party);
        return new TlsFiles(f, f.resolve("ca.pem"), f.resolve("cert.pem"), f.resolve("key.pem"));
    }

    /** Registers the other parties at {@code party} and replicates the session namespace to them. */
    static String federate(String party, String address, Set<String> others) throws Exception {
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl("http://" + address + ":8080").build()) {
            FederationAdmin fed = new FederationAdmin(admin, tableOf(party), party);
            String ns = fed.replicatedNamespace("session-1", others);
            String again = fed.replicatedNamespace("session-1", others); // idempotent
            assertEquals(ns, again);
            assertTrue(new HashSet<>(fed.clusters()).containsAll(others), fed.clusters().toString());
            Set<String> expected = new HashSet<>(others);
            expected.add(party);
            assertEquals(expected, new HashSet<>(admin.namespaces().getNamespaceReplicationClusters(ns)));
            for (String o : others) {
                var data = admin.clusters().getCluster(o);
                ClusterMetadata fate = ClusterMetadata.forParty(tableOf(party), o);
                assertEquals(fate.brokerServiceUrlTls(), data.getBrokerServiceUrlTls());
                assertEquals(fate.proxyServiceUrl(), data.getProxyServiceUrl());
                assertEquals("SNI", String.valueOf(data.getProxyProtocol()));
            }
            return ns;
        }
    }

    /** A client of {@code party}'s own broker, through the proxy, verifying the broker's name. */
    static PulsarClient clientFor(String party) throws Exception {
        PulsarRouteTable viaProxy = PulsarRouteTable.parse("default:\n  proxy: \"127.0.0.1:" + proxyPort()
                + "\"\n  domain: fate.org\n");
        return PartyClients.throughProxy(viaProxy, party, tlsOf(party))
                .operationTimeout(30, TimeUnit.SECONDS).build();
    }

    /** Publishes n messages at {@code from}, and expects all of them at {@code to}. */
    static void replicate(String from, String to, int n) throws Exception {
        String topic = "persistent://fl-tenant/session-1/from-" + from + "-to-" + to;
        byte[] pad = new byte[8 * 1024];
        try (PulsarClient src = clientFor(from); PulsarClient dst = clientFor(to);
             Consumer<byte[]> consumer = dst.newConsumer().topic(topic).subscriptionName("fate")
                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
             Producer<byte[]> producer = src.newProducer().topic(topic).create()) {
            for (int i = 0; i < n; i++) {
                byte[] body = ("msg-" + i + "|").getBytes(StandardCharsets.US_ASCII);
                byte[] payload = java.util.Arrays.copyOf(body, body.length + pad.length);
                producer.send(payload);
            }
            Set<String> got = new HashSet<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (got.size() < n) {
                assertTrue(System.nanoTime() - end < 0, "only " + got.size() + " of " + n + " messages from " + from
                        + " reached " + to + "\nbroker " + to + ":\n" + brokers.get(to).tail());
                Message<byte[]> m = consumer.receive(5, TimeUnit.SECONDS);
                if (m != null) {
                    String s = new String(m.getValue(), StandardCharsets.US_ASCII);
                    got.add(s.substring(0, s.indexOf('|')));
                    consumer.acknowledge(m);
                }
            }
            assertEquals(n, got.size());
        }
    }

    @Test
    @Order(1)
    void messagesCrossBothWaysThroughTheProxy() throws Exception {
        federate("10000", "127.0.0.2", Set.of("9999"));
        federate("9999", "127.0.0.3", Set.of("10000"));
        long routedBefore = proxy.stats().routed();
        replicate("10000", "9999", 40);
        replicate("9999", "10000", 40);
        assertTrue(proxy.stats().routed() > routedBefore, proxy.stats().toString());
        // Replication opens its own connections from one broker to the other through the proxy; they carry the
        // payloads upstream. The test's consumers send almost nothing upstream.
        long live = proxy.tunnels().stream().filter(t -> "9999.fate.org".equals(t.serverName()))
                .mapToLong(Tunnel::bytesFromClient).sum()
                + bytesToParty.getOrDefault("9999.fate.org", new AtomicLong()).get();
        assertTrue(live > 40L * 8 * 1024, "replicated bytes toward 9999 through the proxy: " + live);
        assertEquals(0, proxy.stats().refusedTotal(), proxy.stats().toString());
    }

    @Test
    @Order(2)
    void aThirdPartyJoinsAtRunTime() throws Exception {
        Path grown = dir.resolve("federation-2");
        FederationBundle.of(ca, description(proxyPort(), "10000", "127.0.0.2", "9999", "127.0.0.3", "8888",
                "127.0.0.4"), null).write(grown);
        RouteTable routes = SniYaml.read(grown.resolve("proxy/sni.yaml"));
        assertEquals(Endpoint.parse("127.0.0.4:6651"), routes.resolve("8888.fate.org").targetFor("8888.fate.org"));
        proxy.routes(routes);
        folders.put("8888", grown.resolve("party-8888"));
        Broker b = Broker.start("8888", "127.0.0.4", dir.resolve("broker-8888"), folders.get("8888"), proxyPort(),
                hosts);
        brokers.put("8888", b);
        closeAfter.add(b);
        b.awaitReady(Duration.ofSeconds(120));
        federate("10000", "127.0.0.2", Set.of("9999", "8888"));
        federate("8888", "127.0.0.4", Set.of("10000"));
        replicate("10000", "8888", 20);
        assertTrue(proxy.stats().routed() > 0);
    }

    /**
     * Party 9999 stops accepting inbound connections from the proxy: its route now names its agent, which dials out
     * to the proxy with 9999's certificate from its folder and carries the tunnels to the broker. The live
     * replication tunnels toward 9999 are cut by the route change and come back through the agent; messages
     * cross both ways; the agent is killed and started again mid-run and replication resumes, with no restart of
     * the proxy or a broker.
     */
    @Test
    @Order(3)
    void aPartyWithNoInboundPortReplicatesThroughItsAgent() throws Exception {
        Path f = folders.get("9999");
        TlsMaterial party = TlsMaterial.builder().identity(
                io.fedlink.api.PemCodec.readPrivateKey(Files.readString(f.resolve("key.pem"))),
                io.fedlink.api.PemCodec.readCertificates(Files.readString(f.resolve("cert.pem"))))
                .trust(io.fedlink.api.PemCodec.readCertificates(Files.readString(f.resolve("ca.pem")))).build();
        Agent.Builder agentOf9999 = Agent.builder().tls(party).target(Endpoint.of("127.0.0.3", 6651))
                .proxy(Endpoint.of("127.0.0.1", proxy.agentAddress().getPort()));
        Agent agent = agentOf9999.start();
        try {
            RouteTable.Builder b = RouteTable.builder();
            for (PartyRoute r : proxy.routes().routes()) {
                b.add(r.serverName().equals("9999.fate.org") ? PartyRoute.builder("9999.fate.org").agent("9999").build()
                        : r);
            }
            proxy.routes(b.build());
            awaitAgent();
            replicate("10000", "9999", 20);
            replicate("9999", "10000", 20);
            assertTrue(proxy.agents().get(0).tunnels() > 0, "tunnels toward 9999 went through its agent: "
                    + proxy.agents());
            for (Tunnel t : proxy.tunnels()) {
                if ("9999.fate.org".equals(t.serverName())) {
                    assertEquals("127.0.0.1", t.target().host(), "the proxy reaches 9999 only through its agent: " + t);
                }
            }
            agent.close(); // the agent dies: new tunnels toward 9999 are refused until it is back
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!proxy.agents().isEmpty()) {
                assertTrue(System.nanoTime() - deadline < 0, "the agent's departure was not noticed");
                Thread.sleep(20);
            }
            agent = agentOf9999.start();
            awaitAgent();
            replicate("10000", "9999", 10);
        } finally {
            agent.close();
        }
    }

    private static void awaitAgent() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (proxy.agents().isEmpty() || proxy.agents().get(0).pooled() == 0) {
            assertTrue(System.nanoTime() - deadline < 0, "no agent of 9999 at the proxy: "
                    + proxy.agentRefusals());
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stopFederation() throws Exception {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            closeAfter.get(i).close();
        }
    }
}
