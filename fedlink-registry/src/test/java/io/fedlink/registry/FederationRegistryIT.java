package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.federation.FederationSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's registry against a real three-member etcd cluster with mutual TLS and RBAC: writes validated and
 * stored with compare-and-set, refusals that store nothing, and a read-only identity that cannot write.
 */
class FederationRegistryIT {
    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    static EtcdConnection operator;
    static EtcdConnection proxy;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(dir);
        operator = etcd.connect("operator");
        proxy = etcd.connect("proxy");
    }

    @AfterAll
    static void stop() throws Exception {
        if (operator != null) {
            operator.close();
            proxy.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    static FederationRegistry registry(EtcdConnection c, String federation) {
        return new FederationRegistry(c, RegistryKeys.of(federation));
    }

    static FederationSettings settings() {
        return FederationSettings.of("fate.org", "proxy.fate.org:443", 0, 0);
    }

    @Test
    void initAddListRemove() throws Exception {
        FederationRegistry r = registry(operator, "basic");
        assertTrue(r.init(settings(), false));
        assertFalse(r.init(settings(), false), "same settings again write nothing");
        r.putParty("10000", "127.0.0.1", 0, 16651, List.of(), false);
        r.putParty("9999", "broker-9999.fate.internal", 6650, 6651, List.of("10.0.0.0/8"), false);
        FederationSnapshot f = registry(proxy, "basic").read();
        assertEquals(settings(), f.settings());
        assertEquals(Set.of("10000", "9999"), f.parties().keySet());
        assertEquals(Endpoint.of("127.0.0.1", 16651), f.routeTable().resolve("10000.fate.org").targetFor(null));
        assertEquals(6650, f.party("10000").port(), "the federation's default port");
        assertTrue(f.fateYaml().contains("broker-9999.fate.internal"), f.fateYaml());
        r.removeParty("10000");
        assertEquals(Set.of("9999"), r.read().parties().keySet());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.removeParty("10000"));
        assertTrue(e.getMessage().contains("no party '10000'"), e.getMessage());
    }

    @Test
    void refusalsNameTheValueAndStoreNothing() throws Exception {
        FederationRegistry r = registry(operator, "refusals");
        r.init(settings(), false);
        r.putParty("10000", "127.0.0.1", 0, 0, List.of(), false);
        long before = r.read().revision();
        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
                () -> r.putParty("10000", "127.0.0.2", 0, 0, List.of(), false));
        assertTrue(clash.getMessage().contains("party '10000' already exists"), clash.getMessage());
        r.putParty("Ab", "127.0.0.3", 0, 0, List.of(), false);
        IllegalArgumentException sameIdOtherCase = assertThrows(IllegalArgumentException.class,
                () -> r.putParty("aB", "127.0.0.2", 0, 0, List.of(), false));
        assertTrue(sameIdOtherCase.getMessage().contains("already exists"), sameIdOtherCase.getMessage());
        IllegalArgumentException badHost = assertThrows(IllegalArgumentException.class,
                () -> r.putParty("9999", "bad_host!", 0, 0, List.of(), false));
        assertTrue(badHost.getMessage().contains("'bad_host!'"), badHost.getMessage());
        IllegalArgumentException badId = assertThrows(IllegalArgumentException.class,
                () -> r.putParty("99 99", "127.0.0.1", 0, 0, List.of(), false));
        assertTrue(badId.getMessage().contains("'99 99'"), badId.getMessage());
        IllegalArgumentException badPort = assertThrows(IllegalArgumentException.class,
                () -> r.putParty("9999", "127.0.0.1", 70000, 0, List.of(), false));
        assertTrue(badPort.getMessage().contains("70000"), badPort.getMessage());
        IllegalArgumentException badAllow = assertThrows(IllegalArgumentException.class,
                () -> r.putParty("9999", "127.0.0.1", 0, 0, List.of("10.0.0.0/33"), false));
        assertTrue(badAllow.getMessage().contains("10.0.0.0/33"), badAllow.getMessage());
        IllegalArgumentException reinit = assertThrows(IllegalArgumentException.class,
                () -> r.init(FederationSettings.of("other.org", "proxy.other.org:443", 0, 0), false));
        assertTrue(reinit.getMessage().contains("already exists"), reinit.getMessage());
        FederationSnapshot f = r.read();
        assertEquals(Set.of("10000", "ab"), f.parties().keySet());
        assertEquals("127.0.0.1", f.party("10000").host());
        assertEquals(before + 1, f.revision(), "only the one valid write was stored");
    }

    @Test
    void proxyIdentityCannotWrite() throws Exception {
        registry(operator, "rbac").init(settings(), false);
        FederationRegistry asProxy = registry(proxy, "rbac");
        assertNotNull(asProxy.read().settings(), "the proxy reads");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> asProxy.putParty("10000", "127.0.0.1", 0, 0, List.of(), false));
        assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> asProxy.init(
                FederationSettings.of("evil.org", "proxy.evil.org:443", 0, 0), true));
        EtcdCluster.Result raw = etcd.etcdctl("proxy", "put", "/fedlink/rbac/parties/666", "{}");
        assertTrue(raw.code() != 0 && raw.out().contains("permission denied"), raw.out());
        assertTrue(registry(operator, "rbac").read().parties().isEmpty());
        assertEquals("fate.org", registry(operator, "rbac").read().settings().domain());
    }

    @Test
    void concurrentWritersAllLand() throws Exception {
        FederationRegistry r = registry(operator, "concurrent");
        r.init(settings(), false);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String id = "p" + i;
                futures.add(pool.submit(() -> r.putParty(id, "127.0.0." + (id.length() + 1), 0, 0, List.of(), false)));
            }
            Set<String> outcomes = ConcurrentHashMap.newKeySet();
            List<Future<?>> same = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String host = "127.0.1." + (i + 1);
                same.add(pool.submit(() -> {
                    try {
                        r.putParty("same", host, 0, 0, List.of(), false);
                        outcomes.add("won " + host);
                    } catch (IllegalArgumentException e) {
                        outcomes.add("lost");
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            for (Future<?> f : same) {
                f.get();
            }
            FederationSnapshot f = r.read();
            assertEquals(21, f.parties().size(), f.parties().keySet().toString());
            assertEquals(1, outcomes.stream().filter(o -> o.startsWith("won")).count(), outcomes.toString());
            assertTrue(outcomes.contains("won " + f.party("same").host() + ""), outcomes + " " + f.party("same"));
        } finally {
            pool.shutdownNow();
        }
    }
}
