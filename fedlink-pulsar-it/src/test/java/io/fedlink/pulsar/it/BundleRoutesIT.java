package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import io.fedlink.bundle.FederationBundle;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.sni.SniYaml;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's own reader on the bundle's {@code sni.yaml} (here, where both modules meet, so the bundle needs no
 * arrow to fedlink-sni): a party reached directly and one reached through its agent.
 */
class BundleRoutesIT {
    @TempDir
    Path dir;

    @Test
    void theProxyReadsTheRoutesTheBundleWrites() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create();
        FederationBundle.of(ca, FederationBundle.parse("""
                domain: fate.org
                proxy: { host: proxy.fate.org, port: 443, agent_port: 7443 }
                parties:
                  - { id: "10000", address: 192.168.0.2 }
                  - { id: "9999", address: 192.168.0.3, sslPort: 16651, reach: agent }
                """), null).write(dir);
        RouteTable routes = SniYaml.read(dir.resolve("proxy/sni.yaml"));
        assertEquals(Endpoint.parse("192.168.0.2:6651"), routes.resolve("10000.fate.org").targetFor("10000.fate.org"));
        assertTrue(routes.resolve("9999.fate.org").viaAgent());
        assertEquals("9999", routes.resolve("9999.fate.org").agentParty());
        assertEquals(2, routes.size());
    }
}
