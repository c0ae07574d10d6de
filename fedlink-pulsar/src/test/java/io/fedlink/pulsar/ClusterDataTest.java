package io.fedlink.pulsar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.federation.ClusterMetadata;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import io.fedlink.federation.Federation;
import java.util.List;
import org.apache.pulsar.client.api.ProxyProtocol;
import org.apache.pulsar.common.policies.data.ClusterData;
import org.junit.jupiter.api.Test;

/** The model's cluster metadata as Pulsar's admin type. */
class ClusterDataTest {
    private static final FederationSettings SETTINGS = FederationSettings.of("fate.org", "proxy.fate.org:443", 0, 0);

    @Test
    void remotePartyBehindTheProxyWithMutualTls() {
        ClusterMetadata m = Federation.of(SETTINGS, List.of()).clusterMetadata("9999")
                .withTls("/certs/ca.pem", "/certs/10000.pem", "/certs/10000-key.pem");
        ClusterData data = FederationAdmin.clusterData(m);
        assertEquals("pulsar://9999.fate.org:6650", data.getBrokerServiceUrl());
        assertEquals("pulsar+ssl://9999.fate.org:6651", data.getBrokerServiceUrlTls());
        assertEquals("pulsar+ssl://proxy.fate.org:443", data.getProxyServiceUrl());
        assertEquals(ProxyProtocol.SNI, data.getProxyProtocol());
        assertEquals("/certs/ca.pem", data.getBrokerClientTrustCertsFilePath());
        assertEquals("/certs/10000.pem", data.getBrokerClientCertificateFilePath());
        assertEquals("/certs/10000-key.pem", data.getBrokerClientKeyFilePath());
        assertTrue(data.isBrokerClientTlsEnabled() && !data.isTlsAllowInsecureConnection());
    }

    @Test
    void listedPartyIsReachedDirectly() {
        Party p = Party.of("10000", "192.168.0.2", 0, 0, List.of(), SETTINGS);
        ClusterData data = FederationAdmin.clusterData(ClusterMetadata.forParty(
                Federation.of(SETTINGS, List.of(p)).fateTable(), "10000"));
        assertEquals("pulsar://192.168.0.2:6650", data.getBrokerServiceUrl());
        assertEquals("", data.getProxyServiceUrl());
        assertNull(data.getProxyProtocol());
        assertTrue(!data.isBrokerClientTlsEnabled());
    }
}
