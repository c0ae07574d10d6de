package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * {@code fedlink-proxy.jar}, the jar {@code run.sh proxy} starts: it holds the proxy and not the Pulsar client, and a
 * command it cannot run says so in one line instead of a stack trace. Every other proxy process test runs this jar.
 */
class ProxyJarIT {
    @Test
    void holdsTheProxyWithoutThePulsarClient() throws Exception {
        try (ZipFile proxy = new ZipFile(ProxyProcess.jar().toFile());
             ZipFile full = new ZipFile(Path.of("target", "fedlink.jar").toFile())) {
            assertTrue(proxy.getEntry("io/fedlink/sni/NioTunnelServer.class") != null);
            assertTrue(proxy.getEntry("io/fedlink/registry/EtcdRouteSource.class") != null, "--etcd needs the registry");
            assertFalse(proxy.stream().anyMatch(e -> e.getName().startsWith("org/apache/pulsar/")));
            assertTrue(full.getEntry("org/apache/pulsar/client/admin/PulsarAdmin.class") != null);
            assertTrue(proxy.size() * 10 < full.size() * 6, proxy.size() + " entries against " + full.size());
        }
    }

    @Test
    void aCommandItLeavesOutIsRefusedInOneLine() throws Exception {
        Cli r = ProxyProcess.run("pulsar", "--help");
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().startsWith("fedlink: 'pulsar' needs org.apache.pulsar."), r.out());
        assertTrue(r.out().contains("run it from fedlink.jar"), r.out());
        assertFalse(r.out().contains("\tat "), r.out());
    }

    @Test
    void runsTheProxyHelp() throws Exception {
        Cli r = ProxyProcess.run("proxy", "--help");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().startsWith("Usage: fedlink proxy"), r.out());
    }
}
