package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.HostnameVerification;
import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/** JSSE mutual-TLS handshakes on loopback with fedlink-issued material: what must work and what must fail. */
class MutualTlsIT {
    static final CertificateAuthority CA = CertificateAuthority.builder().commonName("fate.org CA").create();
    static final CertificateAuthority OTHER = CertificateAuthority.builder().commonName("other CA").create();
    static final IssuedCertificate BROKER = CA.issue(CertificateRequest.party("10000", "fate.org"));
    static final IssuedCertificate CLIENT = CA.issue(CertificateRequest.client("replicator-9999"));

    /** The server's outcome: the client's certificate, or the server-side failure. */
    private static CompletableFuture<Object> serve(SSLServerSocket ss) {
        return CompletableFuture.supplyAsync(() -> {
            try (SSLSocket s = (SSLSocket) ss.accept()) {
                s.setSoTimeout(10_000);
                s.startHandshake();
                s.getOutputStream().write(1);
                s.getOutputStream().flush();
                return s.getSession().getPeerCertificates()[0];
            } catch (IOException e) {
                return e;
            }
        });
    }

    /** Runs a handshake; returns the client certificate the server saw, or throws the client's failure. */
    private static X509Certificate handshake(TlsMaterial server, ClientAuth auth, TlsMaterial client, String name)
            throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) server.serverContext(auth).getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Object> seen = serve(ss);
            Socket plain = new Socket();
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), ss.getLocalPort()), 10_000);
            try (SSLSocket s = (SSLSocket) client.clientContext().getSocketFactory().createSocket(plain, name, 443,
                    true)) {
                s.setSoTimeout(10_000);
                s.startHandshake();
                int b = s.getInputStream().read(); // TLS 1.3: a refused client cert surfaces on the first read
                if (b != 1) {
                    throw new SSLException("server closed the connection: " + seen.get(10, TimeUnit.SECONDS));
                }
            }
            Object o = seen.get(10, TimeUnit.SECONDS);
            if (o instanceof Exception e) {
                throw e;
            }
            return (X509Certificate) o;
        }
    }

    @Test
    void mutualTlsSucceedsWithTheRightMaterial() throws Exception {
        assertEquals(CLIENT.certificate(), handshake(BROKER.tlsMaterial(), ClientAuth.REQUIRED, CLIENT.tlsMaterial(),
                "10000.fate.org"));
    }

    @Test
    void clientWithoutCertificateIsRefused() {
        assertThrows(IOException.class, () -> handshake(BROKER.tlsMaterial(), ClientAuth.REQUIRED,
                TlsMaterial.builder().trust(CA.root()).build(), "10000.fate.org"));
    }

    @Test
    void certificateFromAnotherCaIsRefused() {
        IssuedCertificate stranger = OTHER.issue(CertificateRequest.client("stranger"));
        TlsMaterial strangerTrustingUs = stranger.tlsMaterial().toBuilder().trust(CA.root()).build();
        assertThrows(IOException.class, () -> handshake(BROKER.tlsMaterial(), ClientAuth.REQUIRED,
                strangerTrustingUs, "10000.fate.org"));
        IssuedCertificate fakeBroker = OTHER.issue(CertificateRequest.party("10000", "fate.org"));
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> handshake(
                fakeBroker.tlsMaterial(), ClientAuth.NONE, CLIENT.tlsMaterial(), "10000.fate.org"));
        assertTrue(causes(e).stream().anyMatch(c -> c instanceof CertPathValidatorException
                || c instanceof java.security.cert.CertPathBuilderException), causes(e).toString());
    }

    @Test
    void expiredServerCertificateIsRefused() {
        IssuedCertificate expired = CA.issue(CertificateRequest.party("10000", "fate.org")
                .validity(Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1))));
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> handshake(expired.tlsMaterial(),
                ClientAuth.NONE, CLIENT.tlsMaterial(), "10000.fate.org"));
        assertTrue(causes(e).stream().anyMatch(c -> c instanceof CertificateExpiredException
                || String.valueOf(c.getMessage()).contains("expired")), causes(e).toString());
    }

    @Test
    void wrongHostNameIsRefusedUnlessExplicitlyOptedOut() throws Exception {
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> handshake(BROKER.tlsMaterial(),
                ClientAuth.NONE, CLIENT.tlsMaterial(), "9999.fate.org"));
        assertTrue(causes(e).stream().anyMatch(c -> String.valueOf(c.getMessage()).contains("9999.fate.org")),
                causes(e).toString());
        // Flink-internal style: one shared peer certificate, no name check, mutual auth.
        IssuedCertificate shared = CA.issue(CertificateRequest.peer("flink.internal"));
        TlsMaterial internal = shared.tlsMaterial()
                .withHostnameVerification(HostnameVerification.DISABLED_FOR_SHARED_CERTIFICATE);
        assertEquals(shared.certificate(), handshake(internal, ClientAuth.REQUIRED, internal, "taskmanager-7"));
    }

    @Test
    void revokedCertificateIsRefusedWhenTheCrlIsHonoured() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().create();
        IssuedCertificate broker = ca.issue(CertificateRequest.party("10000", "fate.org"));
        IssuedCertificate client = ca.issue(CertificateRequest.client("c"));
        TlsMaterial strictServer = broker.tlsMaterial().withCrls(List.of(ca.crl()));
        assertEquals(client.certificate(), handshake(strictServer, ClientAuth.REQUIRED, client.tlsMaterial(),
                "10000.fate.org"), "not revoked yet");
        ca.revoke(client.serial(), RevocationReason.KEY_COMPROMISE);
        TlsMaterial updated = broker.tlsMaterial().withCrls(List.of(ca.crl()));
        assertThrows(IOException.class, () -> handshake(updated, ClientAuth.REQUIRED, client.tlsMaterial(),
                "10000.fate.org"));
        ca.revoke(broker.serial(), RevocationReason.SUPERSEDED);
        TlsMaterial clientHonouringCrl = client.tlsMaterial().withCrls(List.of(ca.crl()));
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> handshake(broker.tlsMaterial(),
                ClientAuth.NONE, clientHonouringCrl, "10000.fate.org"));
        assertTrue(causes(e).stream().anyMatch(c -> String.valueOf(c.getMessage()).contains("revoked")),
                causes(e).toString());
    }

    @Test
    void clientCertificateCannotServe() {
        IssuedCertificate clientOnly = CA.issue(CertificateRequest.of(Profile.CLIENT).dns("10000.fate.org"));
        assertThrows(SSLHandshakeException.class, () -> handshake(clientOnly.tlsMaterial(), ClientAuth.NONE,
                CLIENT.tlsMaterial(), "10000.fate.org"), "serverAuth is missing from the EKU");
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> out = new java.util.ArrayList<>();
        for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
            out.add(c);
        }
        return out;
    }
}
