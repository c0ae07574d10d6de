package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Consul shortcuts write what {@code consul tls cert create -server|-client|-cli -dc dc1} writes (Consul's
 * {@code command/tls/cert/create} and {@code tlsutil.GenerateCert}): names, extended key usage in Consul's order
 * (none for {@code -cli}) and key usage digitalSignature + keyEncipherment on the EC key.
 */
class ConsulProfileTest {
    private static final CertificateAuthority CONSUL = CertificateAuthority.builder().commonName("Consul Agent CA")
            .create();
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    @Test
    void serverAsConsulWritesIt() throws Exception {
        X509Certificate x = issue(CertificateRequest.consulServer("dc1", "consul"), "server.dc1.consul",
                List.of(List.of(2, "server.dc1.consul"), List.of(2, "localhost"), List.of(7, "127.0.0.1")));
        assertEquals(List.of(SERVER_AUTH, CLIENT_AUTH), x.getExtendedKeyUsage());
    }

    @Test
    void clientAsConsulWritesIt() throws Exception {
        X509Certificate x = issue(CertificateRequest.consulClient("dc2", "example"), "client.dc2.example",
                List.of(List.of(2, "client.dc2.example"), List.of(2, "localhost"), List.of(7, "127.0.0.1")));
        assertEquals(List.of(CLIENT_AUTH, SERVER_AUTH), x.getExtendedKeyUsage());
    }

    @Test
    void cliAsConsulWritesItWithoutExtendedKeyUsage() throws Exception {
        X509Certificate x = issue(CertificateRequest.consulCli("dc1", "consul"), "cli.dc1.consul",
                List.of(List.of(2, "cli.dc1.consul"), List.of(2, "localhost")));
        assertNull(x.getExtendedKeyUsage(), "consul tls cert create -cli sets no extended key usage");
    }

    private static X509Certificate issue(CertificateRequest request, String name, List<List<Object>> sans)
            throws Exception {
        X509Certificate x = CONSUL.issue(request).certificate();
        assertEquals("CN=" + name, x.getSubjectX500Principal().getName());
        assertEquals(sans, List.copyOf(x.getSubjectAlternativeNames()));
        assertEquals("EC", x.getPublicKey().getAlgorithm());
        boolean[] digitalSignatureAndKeyEncipherment = new boolean[9];
        digitalSignatureAndKeyEncipherment[0] = true;
        digitalSignatureAndKeyEncipherment[2] = true;
        assertArrayEquals(digitalSignatureAndKeyEncipherment, x.getKeyUsage(), "key usage as tlsutil.GenerateCert");
        assertEquals(-1, x.getBasicConstraints());
        x.verify(CONSUL.certificate().getPublicKey());
        return x;
    }
}
