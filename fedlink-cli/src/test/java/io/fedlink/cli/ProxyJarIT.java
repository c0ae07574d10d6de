package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * {@code fedlink-proxy.jar} (built by fedlink-proxy-cli, whose own ProxyJarIT checks what it holds) beside
 * {@code fedlink.jar}: the jar {@code run.sh proxy} starts runs the proxy, with far fewer entries. Every other proxy
 * process test runs this jar.
 */
class ProxyJarIT {
    @Test
    void holdsFarFewerEntriesThanTheFullJar() throws Exception {
        try (ZipFile proxy = new ZipFile(ProxyProcess.jar().toFile());
             ZipFile full = new ZipFile(ProxyProcess.fullJar().toFile())) {
            assertTrue(full.getEntry("org/apache/pulsar/client/admin/PulsarAdmin.class") != null);
            assertTrue(proxy.size() * 10 < full.size() * 6, proxy.size() + " entries against " + full.size());
        }
    }

    @Test
    void runsTheProxyHelp() throws Exception {
        Cli r = ProxyProcess.run("proxy", "--help");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().startsWith("Usage: fedlink proxy"), r.out());
    }
}
