package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pulsar.BrokerTlsConfig;
import io.fedlink.pulsar.FederationAdmin;
import io.fedlink.registry.EtcdCluster;
import io.fedlink.registry.EtcdConnection;
import io.fedlink.registry.FederationRegistry;
import io.fedlink.federation.FederationSettings;
import io.fedlink.pulsar.PulsarSync;
import io.fedlink.registry.RegistryKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.ClusterData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pulsar sync} for real: one party's Pulsar 4.0.7 broker (party 10000, a separate JVM on 127.0.0.40, named by
 * {@link BrokerTlsConfig#clusterLines}) kept in step with a federation in a real etcd (one member, mutual TLS, RBAC;
 * the sync reads with the read-only identity). Parties added, changed and removed in the registry appear, change and
 * disappear at the broker; a sync restarted after changes it missed catches up; an unreachable broker is retried,
 * not fatal.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PulsarSyncIT {
    static final String ADDRESS = "127.0.0.40";
    static final Duration WAIT = Duration.ofSeconds(60);
    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    static EtcdConnection operator;
    static FederationRegistry registry;
    static Broker broker;
    static PulsarAdmin admin;
    static final RegistryKeys KEYS = RegistryKeys.of("sync");

    @BeforeAll
    static void start() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("party-10000"));
        // What a party appends to its standalone.conf; written after the harness's own clusterName, so it wins.
        Files.writeString(folder.resolve("standalone-tls.conf"),
                "clusterName=standalone\n" + BrokerTlsConfig.text(BrokerTlsConfig.clusterLines("10000")));
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 localhost\n" + ADDRESS + " 10000.fate.org\n");
        broker = Broker.start("10000", ADDRESS, dir.resolve("broker"), folder, 1, hosts);
        Files.createDirectories(dir.resolve("etcd"));
        etcd = EtcdCluster.start(dir.resolve("etcd"), 1);
        operator = etcd.connect("operator");
        registry = new FederationRegistry(operator, KEYS);
        registry.init(FederationSettings.of("fate.org", "127.0.0.1:4443", 6650, 6651), false);
        registry.putParty("10000", ADDRESS, 0, 0, List.of(), false);
        registry.putParty("9999", "127.0.0.41", 0, 0, List.of(), false);
        broker.awaitReady(Duration.ofSeconds(180));
        admin = PulsarAdmin.builder().serviceHttpUrl(broker.adminUrl()).connectionTimeout(5, TimeUnit.SECONDS)
                .readTimeout(10, TimeUnit.SECONDS).requestTimeout(10, TimeUnit.SECONDS).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) {
            admin.close();
        }
        if (operator != null) {
            operator.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    @Order(1)
    void followsTheRegistry() throws Exception {
        assertTrue(admin.clusters().getClusters().contains("10000"), "the broker is named after its party: "
                + admin.clusters().getClusters());
        ClusterData self = admin.clusters().getCluster("10000");
        try (PulsarSync sync = PulsarSync.builder(etcd.connect("proxy"), KEYS, "10000", admin).ownsConnection(true)
                .start()) {
            await("9999 registered and allowed", () -> admin.tenants().getTenantInfo(FederationAdmin.TENANT)
                    .getAllowedClusters().contains("9999"));
            ClusterData c = admin.clusters().getCluster("9999");
            assertEquals("pulsar://9999.fate.org:6650", c.getBrokerServiceUrl(), "FATE's metadata, behind the proxy");
            assertEquals("pulsar+ssl://9999.fate.org:6651", c.getBrokerServiceUrlTls());
            assertEquals("pulsar+ssl://127.0.0.1:4443", c.getProxyServiceUrl());
            assertEquals("SNI", String.valueOf(c.getProxyProtocol()));
            assertTrue(admin.tenants().getTenantInfo(FederationAdmin.TENANT).getAllowedClusters().contains("10000"));
            assertEquals(self, admin.clusters().getCluster("10000"), "its own party is never touched");

            // A session namespace replicating to 9999, as FATE makes one.
            String ns = new FederationAdmin(admin, registry.read().pulsarRouteTable(), "10000")
                    .replicatedNamespace("session-1", Set.of("9999"));

            registry.init(FederationSettings.of("fate.org", "127.0.0.1:5443", 6650, 7651), true);
            await("9999 updated", () -> admin.clusters().getCluster("9999").getProxyServiceUrl()
                    .equals("pulsar+ssl://127.0.0.1:5443"));
            assertEquals("pulsar+ssl://9999.fate.org:7651", admin.clusters().getCluster("9999")
                    .getBrokerServiceUrlTls());

            registry.putParty("8888", "127.0.0.42", 0, 0, List.of(), false);
            await("8888 registered", () -> admin.clusters().getClusters().contains("8888"));

            registry.removeParty("9999");
            await("9999 removed", () -> !admin.tenants().getTenantInfo(FederationAdmin.TENANT)
                    .getAllowedClusters().contains("9999"));
            assertFalse(admin.clusters().getClusters().contains("9999"));
            assertEquals(Set.of("10000"), Set.copyOf(admin.namespaces().getNamespaceReplicationClusters(ns)),
                    "the namespace stopped replicating to the removed party");
            assertTrue(admin.clusters().getClusters().contains("8888"));
            await("in step", () -> sync.stats().inSync());
            assertEquals(0, sync.stats().failures(), sync.stats().toString());
        }
    }

    @Test
    @Order(2)
    void aRestartedSyncCatchesUpAndIsIdempotent() throws Exception {
        // Changes made while no sync runs: 8888 leaves, 7777 joins.
        registry.removeParty("8888");
        registry.putParty("7777", "127.0.0.43", 0, 0, List.of(), false);
        try (EtcdConnection proxy = etcd.connect("proxy")) {
            assertEquals(List.of("+7777", "-8888"), PulsarSync.once(proxy, KEYS, "10000", admin));
            assertEquals(List.of(), PulsarSync.once(proxy, KEYS, "10000", admin), "a second pass changes nothing");
        }
        assertEquals(Set.of("10000", "7777"), Set.copyOf(admin.clusters().getClusters()));
        FederationAdmin fa = new FederationAdmin(admin, registry.read().pulsarRouteTable(), "10000");
        assertEquals(Set.of("7777"), fa.federatedClusters());
        assertFalse(fa.removeParty("8888"), "removing a removed party changes nothing");
        assertThrows(IllegalArgumentException.class, () -> fa.removeParty("10000"));
    }

    @Test
    @Order(3)
    void aPartyCanDialItsOwnProxy() throws Exception {
        try (EtcdConnection proxy = etcd.connect("proxy")) {
            assertEquals(List.of("+7777"), PulsarSync.once(proxy, KEYS, "10000", "127.0.0.1:6443", admin));
            ClusterData c = admin.clusters().getCluster("7777");
            assertEquals("pulsar+ssl://127.0.0.1:6443", c.getProxyServiceUrl(), "the party's own proxy");
            assertEquals("pulsar+ssl://7777.fate.org:7651", c.getBrokerServiceUrlTls(), "the rest is the federation's");
            assertEquals(List.of(), PulsarSync.once(proxy, KEYS, "10000", "127.0.0.1:6443", admin));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PulsarSync.once(proxy, KEYS, "10000", "127.0.0.1:x", admin));
            assertTrue(e.getMessage().contains("'127.0.0.1:x'"), e.getMessage());
            assertEquals(List.of("+7777"), PulsarSync.once(proxy, KEYS, "10000", admin), "back to the federation's");
            assertEquals("pulsar+ssl://127.0.0.1:5443", admin.clusters().getCluster("7777").getProxyServiceUrl());
        }
    }

    @Test
    @Order(4)
    void anUnreachableBrokerIsRetriedNotFatal() throws Exception {
        try (PulsarAdmin nowhere = PulsarAdmin.builder().serviceHttpUrl("http://127.0.0.49:8080")
                .connectionTimeout(1, TimeUnit.SECONDS).requestTimeout(2, TimeUnit.SECONDS).build();
             EtcdConnection proxy = etcd.connect("proxy")) {
            PulsarAdminException e = assertThrows(PulsarAdminException.class,
                    () -> PulsarSync.once(proxy, KEYS, "10000", nowhere));
            assertTrue(e.getMessage() != null, "a reason to print");
            try (PulsarSync sync = PulsarSync.builder(proxy, KEYS, "10000", nowhere).start()) {
                await("retried", () -> sync.stats().failures() >= 2);
                assertFalse(sync.stats().inSync());
                assertEquals(-1, sync.stats().appliedRevision());
            }
        }
    }

    static void await(String what, Callable<Boolean> condition) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        Exception last = null;
        while (System.nanoTime() - end < 0) {
            try {
                if (condition.call()) {
                    return;
                }
            } catch (PulsarAdminException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not in " + WAIT + ": " + what + (last == null ? "" : " (last error " + last + ")"));
    }
}
