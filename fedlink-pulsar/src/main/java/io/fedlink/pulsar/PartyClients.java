package io.fedlink.pulsar;

import io.fedlink.api.TlsFiles;
import io.fedlink.federation.PulsarRouteTable;
import org.apache.pulsar.client.api.ClientBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.ProxyProtocol;

/**
 * Pulsar clients for a party that reach other parties only through the SNI proxy, with TLS end to end: the client
 * names the party's broker ({@code pulsar+ssl://9999.fate.org:6651}), connects to the proxy, and the proxy routes by
 * that name. Hostname verification is on, so the broker must hold a certificate for its party name.
 *
 * <pre>{@code
 * TlsFiles tls = TlsFiles.write(ca.issue(CertificateRequest.party("10000", "fate.org")).tlsMaterial(), dir);
 * PulsarClient client = PartyClients.throughProxy(table, "9999", tls).build();
 * }</pre>
 */
public final class PartyClients {
    private PartyClients() {}

    /**
     * A client builder for {@code partyId}'s broker as the route table describes it, through its proxy when it has
     * one, presenting {@code tls}'s certificate when it has an identity (mutual TLS).
     */
    public static ClientBuilder throughProxy(PulsarRouteTable table, String partyId, TlsFiles tls) {
        PulsarRouteTable.Party p = table.party(partyId);
        String host = p.host().indexOf(':') >= 0 ? "[" + p.host() + "]" : p.host();
        ClientBuilder b = PulsarClient.builder()
                .serviceUrl("pulsar+ssl://" + host + ":" + p.sslPort())
                .enableTlsHostnameVerification(true)
                .allowTlsInsecureConnection(false)
                .tlsTrustCertsFilePath(tls.ca().toString());
        if (p.proxy() != null) {
            b.proxyServiceUrl("pulsar+ssl://" + p.proxy(), ProxyProtocol.SNI);
        }
        if (tls.cert() != null) {
            b.tlsCertificateFilePath(tls.cert().toString()).tlsKeyFilePath(tls.key().toString());
        }
        return b;
    }
}
