package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.internal.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every field checked against Consul's own source: command/tls/ca/create/tls_ca_create.go,
 * command/tls/cert/create/tls_cert_create.go and tlsutil/generate.go (hashicorp/consul).
 */
class ConsulBundleTest {
    static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    @TempDir
    Path dir;

    static X509Certificate cert(Path p) throws IOException {
        return PemCodec.readCertificate(Files.readString(p));
    }

    static String sans(X509Certificate c) throws Exception {
        return c.getSubjectAlternativeNames().stream().map(l -> l.get(1).toString()).toList().toString();
    }

    static byte[] ski(X509Certificate c) {
        return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(
                c.getExtensionValue(Extension.subjectKeyIdentifier.getId())).getOctets()).getKeyIdentifier();
    }

    static byte[] aki(X509Certificate c) {
        return AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(
                c.getExtensionValue(Extension.authorityKeyIdentifier.getId())).getOctets()).getKeyIdentifier();
    }

    @Test
    void namesNumberingAndFieldsAreConsuls() throws Exception {
        WrittenBundle b = ConsulBundle.builder().servers(2).clients(1).clis(1).build().write(dir);
        // The operator's CA at the top; one folder per agent: exactly what that host gets (never the CA key).
        assertEquals(List.of("consul-agent-ca.pem", "consul-agent-ca-key.pem",
                "dc1-server-consul-0/dc1-server-consul-0.pem", "dc1-server-consul-0/dc1-server-consul-0-key.pem",
                "dc1-server-consul-0/consul-agent-ca.pem", "dc1-server-consul-0/dc1-server-consul-0.hcl",
                "dc1-server-consul-1/dc1-server-consul-1.pem", "dc1-server-consul-1/dc1-server-consul-1-key.pem",
                "dc1-server-consul-1/consul-agent-ca.pem", "dc1-server-consul-1/dc1-server-consul-1.hcl",
                "dc1-client-consul-0/dc1-client-consul-0.pem", "dc1-client-consul-0/dc1-client-consul-0-key.pem",
                "dc1-client-consul-0/consul-agent-ca.pem", "dc1-client-consul-0/dc1-client-consul-0.hcl",
                "dc1-cli-consul-0/dc1-cli-consul-0.pem", "dc1-cli-consul-0/dc1-cli-consul-0-key.pem",
                "dc1-cli-consul-0/consul-agent-ca.pem", "dc1-cli-consul-0/dc1-cli-consul-0.env"),
                relative(b));
        try (java.util.stream.Stream<Path> agentFolder = Files.list(dir.resolve("dc1-server-consul-0"))) {
            assertEquals(4, agentFolder.count(), "nothing else in an agent's folder");
        }
        assertEquals(Files.readString(dir.resolve("consul-agent-ca.pem")),
                Files.readString(dir.resolve("dc1-cli-consul-0/consul-agent-ca.pem")));

        X509Certificate ca = cert(b.file("consul-agent-ca.pem"));
        BigInteger caSerial = ca.getSerialNumber();
        assertTrue(caSerial.signum() > 0 && caSerial.bitLength() <= 128);
        assertEquals("C=US,ST=CA,L=San Francisco,STREET=101 Second Street,PostalCode=94105,O=HashiCorp Inc.,"
                + "CN=Consul Agent CA " + caSerial, X500Name.getInstance(ca.getSubjectX500Principal().getEncoded())
                .toString(), "Go's pkix.Name order, printable strings");
        assertTrue(Arrays.stream(X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()).getRDNs())
                .allMatch(r -> r.getFirst().getValue() instanceof DERPrintableString));
        assertEquals(Integer.MAX_VALUE, ca.getBasicConstraints(), "CA without a path length");
        assertArrayEquals(new boolean[] {true, false, false, false, false, true, true, false, false},
                ca.getKeyUsage(), "digitalSignature, keyCertSign, cRLSign");
        assertArrayEquals(ConsulBundle.keyId(ca.getPublicKey()), ski(ca));
        assertArrayEquals(ski(ca), aki(ca));
        assertEquals("EC", ca.getPublicKey().getAlgorithm());
        assertEquals(Duration.ofDays(1825), Duration.between(ca.getNotBefore().toInstant(),
                ca.getNotAfter().toInstant()).truncatedTo(java.time.temporal.ChronoUnit.DAYS));

        X509Certificate server = cert(b.file("dc1-server-consul-0.pem"));
        assertEquals("CN=server.dc1.consul", server.getSubjectX500Principal().getName());
        assertEquals("[server.dc1.consul, localhost, 127.0.0.1]", sans(server));
        assertEquals(List.of(SERVER_AUTH, CLIENT_AUTH), server.getExtendedKeyUsage());
        assertArrayEquals(new boolean[] {true, false, true, false, false, false, false, false, false},
                server.getKeyUsage(), "digitalSignature, keyEncipherment");
        assertEquals(-1, server.getBasicConstraints());
        assertArrayEquals(ski(ca), aki(server));
        assertArrayEquals(ConsulBundle.keyId(server.getPublicKey()), ski(server));
        assertEquals(Duration.ofDays(365), Duration.between(server.getNotBefore().toInstant(),
                server.getNotAfter().toInstant()));
        server.verify(ca.getPublicKey());

        X509Certificate client = cert(b.file("dc1-client-consul-0.pem"));
        assertEquals("[client.dc1.consul, localhost, 127.0.0.1]", sans(client));
        assertEquals(List.of(CLIENT_AUTH, SERVER_AUTH), client.getExtendedKeyUsage());
        X509Certificate cli = cert(b.file("dc1-cli-consul-0.pem"));
        assertEquals("CN=cli.dc1.consul", cli.getSubjectX500Principal().getName());
        assertEquals("[cli.dc1.consul, localhost]", sans(cli));
        assertNull(cli.getExtendedKeyUsage(), "Consul's -cli certificate carries no extended key usage");

        String key = Files.readString(b.file("dc1-server-consul-0-key.pem"));
        assertTrue(key.startsWith("-----BEGIN EC PRIVATE KEY-----\n"), key.substring(0, 40));
        // Go's x509.ParseECPrivateKey needs the named curve inside the SEC 1 structure.
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(
                Base64.getMimeDecoder().decode(key.replaceAll("-----[A-Z ]+-----", "")));
        assertEquals(SECObjectIdentifiers.secp256r1, sec1.getParametersObject());
        assertTrue(sec1.getPublicKey() != null);
        TlsMaterial.builder().identity(Pem.privateKey(key, null), server); // refuses a key that does not match
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                b.file("consul-agent-ca-key.pem"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                b.file("dc1-cli-consul-0-key.pem"))));

        String hcl = Files.readString(b.file("dc1-server-consul-0.hcl"));
        Path server0 = dir.toAbsolutePath().resolve("dc1-server-consul-0");
        for (String line : List.of("    ca_file         = \"" + server0.resolve("consul-agent-ca.pem")
                + "\"", "    cert_file       = \"" + server0.resolve("dc1-server-consul-0.pem") + "\"",
                "    verify_incoming = true", "    verify_outgoing = true", "    verify_server_hostname = true")) {
            assertTrue(hcl.lines().anyMatch(line::equals), line + " missing from\n" + hcl);
        }
        // plain HTTP closed beside HTTPS (Consul's default keeps 8500 open); servers hand clients certificates
        for (String line : List.of("  http  = -1", "  https = 8501", "auto_encrypt {", "  allow_tls = true")) {
            assertTrue(hcl.lines().anyMatch(line::equals), line + " missing from\n" + hcl);
        }
        String clientHcl = Files.readString(b.file("dc1-client-consul-0.hcl"));
        assertTrue(clientHcl.lines().anyMatch("  http  = -1"::equals), clientHcl);
        assertTrue(clientHcl.lines().noneMatch("  allow_tls = true"::equals), "only servers sign for clients\n" + clientHcl);

        // Again: the CA is reused, numbering goes on after the files present.
        WrittenBundle again = ConsulBundle.builder().servers(1).build().write(dir);
        assertEquals(List.of("dc1-server-consul-2/dc1-server-consul-2.pem",
                "dc1-server-consul-2/dc1-server-consul-2-key.pem", "dc1-server-consul-2/consul-agent-ca.pem",
                "dc1-server-consul-2/dc1-server-consul-2.hcl"), relative(again));
        cert(again.file("dc1-server-consul-2.pem")).verify(ca.getPublicKey());
        assertEquals("dc1-server-consul-3", ConsulBundle.nextFree(dir, "dc1-server-consul"));
        for (Path f : relative(b).subList(2, 6).stream().map(dir::resolve).toList()) {
            Files.delete(f);
        }
        assertEquals("dc1-server-consul-3", ConsulBundle.nextFree(dir, "dc1-server-consul"),
                "a folder that exists is taken, even empty");
        Files.delete(dir.resolve("dc1-server-consul-0"));
        assertEquals("dc1-server-consul-0", ConsulBundle.nextFree(dir, "dc1-server-consul"));
        Files.writeString(dir.resolve("dc1-server-consul-0.pem"), "a certificate of the flat layout");
        assertEquals("dc1-server-consul-3", ConsulBundle.nextFree(dir, "dc1-server-consul"), "flat layout files");
    }

    static List<String> relative(WrittenBundle b) {
        return b.files().stream().map(f -> b.dir().relativize(f).toString()).toList();
    }

    /** --install-dir is where each agent's folder is installed: the paths in its .hcl and .env point there. */
    @Test
    void pathsFollowTheInstallDir() throws Exception {
        Path at = Path.of("/etc/consul.d/tls");
        WrittenBundle b = ConsulBundle.builder().servers(1).clis(1).installDir(at).build().write(dir);
        String hcl = Files.readString(b.file("dc1-server-consul-0.hcl"));
        for (String line : List.of("    ca_file         = \"" + at.resolve("consul-agent-ca.pem") + "\"",
                "    cert_file       = \"" + at.resolve("dc1-server-consul-0.pem") + "\"",
                "    key_file        = \"" + at.resolve("dc1-server-consul-0-key.pem") + "\"")) {
            assertTrue(hcl.lines().anyMatch(line::equals), line + " missing from\n" + hcl);
        }
        String env = Files.readString(b.file("dc1-cli-consul-0.env"));
        for (String line : List.of("export CONSUL_CACERT=" + at.resolve("consul-agent-ca.pem"),
                "export CONSUL_CLIENT_CERT=" + at.resolve("dc1-cli-consul-0.pem"),
                "export CONSUL_CLIENT_KEY=" + at.resolve("dc1-cli-consul-0-key.pem"))) {
            assertTrue(env.lines().anyMatch(line::equals), line + " missing from\n" + env);
        }
    }

    @Test
    void otherDatacenterAndDomainAndRefusals() throws Exception {
        WrittenBundle b = ConsulBundle.builder().datacenter("eu1").domain("fate.org").build().write(dir);
        assertTrue(Files.exists(b.file("fate.org-agent-ca.pem")));
        assertEquals("[server.eu1.fate.org, localhost, 127.0.0.1]", sans(cert(b.file("eu1-server-fate.org-0.pem"))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConsulBundle.builder().datacenter("dc1.evil"));
        assertEquals("invalid datacenter 'dc1.evil': one DNS label, e.g. dc1", e.getMessage());
    }

    static TlsMaterial agent(WrittenBundle b, String name, String caFile) throws IOException {
        return TlsMaterial.builder()
                .identity(Pem.privateKey(Files.readString(b.file(name + "-key.pem")), null),
                        PemCodec.readCertificates(Files.readString(b.file(name + ".pem"))))
                .trust(PemCodec.readCertificates(Files.readString(b.dir().resolve(name).resolve(caFile)))).build();
    }

    /**
     * verify_server_hostname as JSSE does it: an agent dialling a server checks for {@code server.dc1.consul}. A
     * server certificate passes; a client certificate from the same CA posing as a server is refused.
     */
    @Test
    void aClientCertificateIsRefusedAsAServer() throws Exception {
        WrittenBundle b = ConsulBundle.builder().servers(1).clients(2).build().write(dir);
        TlsMaterial dialling = agent(b, "dc1-client-consul-1", "consul-agent-ca.pem");
        assertEquals("ok", handshake(agent(b, "dc1-server-consul-0", "consul-agent-ca.pem"), dialling));
        SSLHandshakeException refused = assertThrows(SSLHandshakeException.class,
                () -> handshake(agent(b, "dc1-client-consul-0", "consul-agent-ca.pem"), dialling));
        assertTrue(refused.getMessage().contains("server.dc1.consul"), refused.getMessage());
    }

    /** One TLS exchange on loopback: the client dials 127.0.0.1 but verifies the name server.dc1.consul. */
    static String handshake(TlsMaterial server, TlsMaterial client) throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) server.serverContext(ClientAuth.REQUIRED).getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = ss.accept(); OutputStream out = s.getOutputStream()) {
                    out.write("ok".getBytes());
                } catch (IOException ignored) {
                    // the client refused the handshake
                }
            });
            try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
                    SSLSocket s = (SSLSocket) client.clientContext().getSocketFactory().createSocket(raw,
                            "server.dc1.consul", ss.getLocalPort(), true)) {
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                return new String(in.readNBytes(2));
            } finally {
                served.get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Agents before Consul 1.12 read TLS from top-level keys; the bundle writes what the version reads. */
    @Test
    void olderAgentsGetTheTopLevelKeys() throws Exception {
        WrittenBundle b = ConsulBundle.builder().servers(1).consulVersion("1.11.4").build().write(dir);
        String hcl = Files.readString(b.file("dc1-server-consul-0.hcl"));
        for (String line : List.of("ca_file                = \"" + dir.toAbsolutePath().resolve("dc1-server-consul-0")
                .resolve("consul-agent-ca.pem")
                + "\"", "verify_incoming        = true", "verify_outgoing        = true",
                "verify_server_hostname = true", "  http  = -1")) {
            assertTrue(hcl.lines().anyMatch(line::equals), line + " missing from\n" + hcl);
        }
        assertTrue(hcl.lines().noneMatch(l -> l.startsWith("tls {")), "no tls {} stanza before 1.12\n" + hcl);
        assertTrue(Files.readString(ConsulBundle.builder().consulVersion("1.12").build().write(dir.resolve("new"))
                .file("dc1-server-consul-0.hcl")).contains("tls {\n"));
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ConsulBundle.builder().consulVersion("0.9"));
        assertTrue(bad.getMessage().contains("'0.9'"), bad.getMessage());
    }
}
