package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real JSSE handshakes over loopback with certificates made by the JDK's keytool. */
class TlsMaterialTest {
    @TempDir
    static Path dir;
    static TlsMaterial server;
    static TlsMaterial client;
    static X509Certificate serverCert;
    static X509Certificate clientCert;

    @BeforeAll
    static void makeCertificates() throws Exception {
        KeyStore s = keytool(dir, "server", "10000.fate.org", "EC");
        KeyStore c = keytool(dir, "client", "9999.fate.org", "RSA");
        serverCert = (X509Certificate) s.getCertificate("server");
        clientCert = (X509Certificate) c.getCertificate("client");
        server = TlsMaterial.builder().identity((PrivateKey) s.getKey("server", PW), serverCert).trust(clientCert).build();
        client = TlsMaterial.builder().identity((PrivateKey) c.getKey("client", PW), clientCert).trust(serverCert).build();
    }

    /** The password of the key stores {@link #keytool} makes. */
    static final char[] PW = "changeit".toCharArray();

    /** A PKCS#12 key store in {@code folder} with a self-signed {@code alg} key pair for {@code dns}, by keytool. */
    static KeyStore keytool(Path folder, String alias, String dns, String alg) throws Exception {
        Path file = folder.resolve(alias + ".p12");
        Process p = new ProcessBuilder("keytool", "-genkeypair", "-alias", alias, "-keyalg", alg,
                "-dname", "CN=" + dns, "-ext", "san=dns:" + dns, "-validity", "2", "-keystore", file.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, PW);
        }
        return ks;
    }

    /** Runs one handshake plus a one-byte echo; returns the peer certificate the server saw (or null). */
    private static X509Certificate handshake(SSLContext serverCtx, SSLContext clientCtx, String dialledName,
                                             String... clientSuites) throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) serverCtx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<X509Certificate> seen = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.setSoTimeout(10_000);
                    int b = s.getInputStream().read();
                    s.getOutputStream().write(b);
                    s.getOutputStream().flush();
                    try {
                        return (X509Certificate) s.getSession().getPeerCertificates()[0];
                    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                        return null;
                    }
                } catch (IOException e) {
                    return null;
                }
            });
            Socket plain = new Socket();
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), ss.getLocalPort()), 10_000);
            try (SSLSocket s = (SSLSocket) clientCtx.getSocketFactory().createSocket(plain, dialledName,
                    ss.getLocalPort(), true)) {
                s.setSoTimeout(10_000);
                if (clientSuites.length > 0) {
                    s.setEnabledCipherSuites(clientSuites);
                }
                OutputStream out = s.getOutputStream();
                out.write(42);
                out.flush();
                assertEquals(42, s.getInputStream().read());
                assertTrue(List.of("TLSv1.3", "TLSv1.2").contains(s.getSession().getProtocol()));
            }
            return seen.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void mutualTlsWithHostnameVerification() throws Exception {
        X509Certificate seen = handshake(server.serverContext(ClientAuth.REQUIRED), client.clientContext(),
                "10000.fate.org");
        assertEquals(clientCert, seen);
    }

    @Test
    void everyKeyTypeServes() throws Exception {
        for (String alg : List.of("RSA", "Ed25519")) {
            KeyStore ks = keytool(dir, "srv-" + alg.toLowerCase(), "10000.fate.org", alg);
            X509Certificate cert = (X509Certificate) ks.getCertificate("srv-" + alg.toLowerCase());
            TlsMaterial srv = TlsMaterial.builder().identity((PrivateKey) ks.getKey("srv-" + alg.toLowerCase(), PW),
                    cert).trust(clientCert).build();
            TlsMaterial cli = client.toBuilder().trust(cert).build();
            assertEquals(clientCert, handshake(srv.serverContext(ClientAuth.REQUIRED), cli.clientContext(),
                    "10000.fate.org"), alg);
        }
    }

    @Test
    void wrongHostNameIsRefusedByDefault() {
        SSLException e = assertThrows(SSLException.class,
                () -> handshake(server.serverContext(ClientAuth.NONE), client.clientContext(), "9999.fate.org"));
        assertTrue(String.valueOf(e.getCause()).contains("9999.fate.org"), String.valueOf(e.getCause()));
    }

    @Test
    void sharedCertificateOptOutSkipsOnlyTheNameCheck() throws Exception {
        TlsMaterial shared = client.withHostnameVerification(HostnameVerification.DISABLED_FOR_SHARED_CERTIFICATE);
        assertEquals(clientCert, handshake(server.serverContext(ClientAuth.REQUIRED), shared.clientContext(),
                "any.other.name"));
        TlsMaterial stranger = TlsMaterial.builder().trust(clientCert)
                .hostnameVerification(HostnameVerification.DISABLED_FOR_SHARED_CERTIFICATE).build();
        assertThrows(SSLException.class, () -> handshake(server.serverContext(ClientAuth.NONE),
                stranger.clientContext(), "10000.fate.org"), "the certificate itself is still verified");
    }

    @Test
    void requiredClientAuthRefusesAClientWithoutCertificate() {
        TlsMaterial trustOnly = TlsMaterial.builder().trust(serverCert).build();
        assertThrows(IOException.class, () -> handshake(server.serverContext(ClientAuth.REQUIRED),
                trustOnly.clientContext(), "10000.fate.org"));
    }

    @Test
    void optionalClientAuthAcceptsAClientWithoutCertificate() throws Exception {
        TlsMaterial trustOnly = TlsMaterial.builder().trust(serverCert).build();
        assertNull(handshake(server.serverContext(ClientAuth.OPTIONAL), trustOnly.clientContext(), "10000.fate.org"));
    }

    @Test
    void serverRefusesSuitesWithoutForwardSecrecy() {
        assertThrows(IOException.class, () -> handshake(server.serverContext(ClientAuth.NONE),
                plainJdkClient(), "10000.fate.org", "TLS_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"));
    }

    private static SSLContext plainJdkClient() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.2");
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(client.trustStore("PKCS12"));
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void contextsCarryTheDefaultsIntoEveryEngine() {
        SSLEngine c = client.clientContext().createSSLEngine("10000.fate.org", 6651);
        assertTrue(c.getUseClientMode());
        assertEquals("HTTPS", c.getSSLParameters().getEndpointIdentificationAlgorithm());
        assertArrayEquals(new String[] {"TLSv1.3", "TLSv1.2"}, c.getEnabledProtocols());
        assertTrue(TlsMaterial.CIPHER_SUITES.containsAll(List.of(c.getEnabledCipherSuites())));
        SSLEngine s = server.serverContext(ClientAuth.REQUIRED).createSSLEngine();
        assertFalse(s.getUseClientMode());
        assertTrue(s.getNeedClientAuth());
        assertTrue(server.serverContext(ClientAuth.OPTIONAL).createSSLEngine().getWantClientAuth());
        assertThrows(java.security.KeyManagementException.class,
                () -> client.clientContext().init(null, null, null));
    }

    @Test
    void keyStoresRoundTrip() throws Exception {
        for (String type : List.of("PKCS12", "JKS")) {
            KeyStore ks = server.keyStore(type, "10000.fate.org", "store-pw".toCharArray());
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ks.store(bytes, "store-pw".toCharArray());
            KeyStore back = KeyStore.getInstance(type);
            back.load(new ByteArrayInputStream(bytes.toByteArray()), "store-pw".toCharArray());
            assertEquals(server.privateKey(), back.getKey("10000.fate.org", "store-pw".toCharArray()), type);
            assertEquals(clientCert, back.getCertificate("ca-0"), type);
            assertTrue(back.isCertificateEntry("ca-0"));
        }
        assertEquals(1, server.trustStore("JKS").size());
    }

    @Test
    void pemExports() throws Exception {
        String chain = server.certificateChainPem();
        assertTrue(chain.startsWith("-----BEGIN CERTIFICATE-----\n") && chain.endsWith("-----END CERTIFICATE-----\n"));
        X509Certificate parsed = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(chain.getBytes()));
        assertEquals(serverCert, parsed);
        assertTrue(server.privateKeyPem().startsWith("-----BEGIN PRIVATE KEY-----\n"));
        assertTrue(server.privateKeyPem().lines().allMatch(l -> l.length() <= 64));
        assertEquals(serverCert, PemCodec.readCertificate(chain));
        assertEquals(List.of(clientCert, serverCert), PemCodec.readCertificates(
                PemCodec.certificates(List.of(clientCert)) + "text between blocks\n" + chain));
        assertArrayEquals(server.privateKey().getEncoded(), PemCodec.readPrivateKey(server.privateKeyPem()).getEncoded());
        assertNotNull(client.trustAnchorsPem());
    }

    @Test
    void toStringNeverShowsTheKey() {
        String text = server.toString();
        assertTrue(text.contains("CN=10000.fate.org"), text);
        String keyBody = server.privateKeyPem().lines().skip(1).findFirst().orElseThrow();
        assertFalse(text.contains(keyBody));
        assertFalse(text.contains(server.privateKey().toString()));
    }

    @Test
    void refusals() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsMaterial.builder().build())
                .getMessage().contains("needs an identity, trust anchors, or both"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TlsMaterial.builder().identity(server.privateKey(), clientCert)).getMessage()
                .contains("does not match certificate CN=9999.fate.org"));
        TlsMaterial trustOnly = TlsMaterial.builder().trust(serverCert).build();
        assertThrows(IllegalStateException.class, trustOnly::keyManager);
        assertThrows(IllegalStateException.class, () -> trustOnly.serverContext(ClientAuth.NONE));
        TlsMaterial identityOnly = TlsMaterial.builder().identity(server.privateKey(), serverCert).build();
        assertTrue(assertThrows(IllegalStateException.class, () -> identityOnly.serverContext(ClientAuth.REQUIRED))
                .getMessage().contains("needs trust anchors"));
        assertThrows(IllegalStateException.class, identityOnly::clientContext);
        assertNotNull(identityOnly.serverContext(ClientAuth.NONE));
    }
}
