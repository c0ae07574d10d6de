package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real TLS clients (JSSE, openssl, curl) reach real TLS servers through the proxy by server name. */
class SniProxyTlsIT {
    @TempDir
    static Path dir;
    static TlsMaterial party10000;
    static TlsMaterial party9999;
    static TlsMaterial client;
    static SSLServerSocket server10000;
    static SSLServerSocket server9999;
    static TunnelServer proxy;
    static final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeAll
    static void start() throws Exception {
        TlsMaterial a = TestCerts.identity(dir, "10000.fate.org");
        TlsMaterial b = TestCerts.identity(dir, "9999.fate.org");
        TlsMaterial c = TestCerts.identity(dir, "client.fate.org");
        party10000 = TestCerts.trusting(a, c);
        party9999 = TestCerts.trusting(b, c);
        client = TestCerts.trusting(c, a, b);
        server10000 = serve(party10000, "10000");
        server9999 = serve(party9999, "9999");
        proxy = SniProxy.builder().bindLoopback(0).eventLoops(2).routes(RouteTable.builder()
                .add("10000.fate.org", Endpoint.of("127.0.0.1", server10000.getLocalPort()))
                .add("9999.fate.org", Endpoint.of("127.0.0.1", server9999.getLocalPort()))
                .build()).start();
    }

    /** A TLS server requiring client certs that answers each line with its party id and the client's subject. */
    private static SSLServerSocket serve(TlsMaterial m, String party) throws IOException {
        SSLServerSocket ss = (SSLServerSocket) m.serverContext(ClientAuth.OPTIONAL).getServerSocketFactory()
                .createServerSocket(0, 50, Loopback.LOOPBACK);
        pool.execute(() -> {
            while (!ss.isClosed()) {
                try {
                    SSLSocket s = (SSLSocket) ss.accept();
                    pool.execute(() -> {
                        try (s) {
                            s.setSoTimeout(20_000);
                            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                                    StandardCharsets.UTF_8));
                            PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
                            String line = in.readLine();
                            String peer;
                            try {
                                peer = ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0])
                                        .getSubjectX500Principal().getName();
                            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                                peer = "anonymous";
                            }
                            out.println(party + " " + peer + " " + line);
                        } catch (IOException e) {
                            // handshake refused by the client: expected in negative tests
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return ss;
    }

    @AfterAll
    static void stop() throws Exception {
        proxy.close();
        server10000.close();
        server9999.close();
        pool.shutdownNow();
    }

    private static String ask(TlsMaterial m, String name, String line) throws IOException {
        Socket plain = Loopback.connect(proxy.localAddress());
        try (SSLSocket s = (SSLSocket) m.clientContext().getSocketFactory()
                .createSocket(plain, name, 443, true)) {
            s.startHandshake(); // PrintWriter would swallow a handshake failure
            PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
            out.println(line);
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    @Test
    void mutualTlsEndToEndWithHostnameVerification() throws Exception {
        assertEquals("10000 CN=client.fate.org hello", ask(client, "10000.fate.org", "hello"));
        assertEquals("9999 CN=client.fate.org hi", ask(client, "9999.FATE.org", "hi"),
                "two names on one listener reach two servers");
    }

    @Test
    void clientStillVerifiesTheTargetsOwnCertificate() throws Exception {
        // Route a name to the wrong party: the proxy forwards blindly, the client's name check catches it.
        TlsMaterial trustsBoth = client;
        RouteTable before = proxy.routes();
        proxy.routes(before.toBuilder().add("8888.fate.org", Endpoint.of("127.0.0.1", server10000.getLocalPort()))
                .build());
        try {
            assertThrows(SSLHandshakeException.class, () -> ask(trustsBoth, "8888.fate.org", "x"));
        } finally {
            proxy.routes(before);
        }
    }

    @Test
    void unknownNameIsRefusedWithUnrecognizedName() throws Exception {
        long before = proxy.stats().refused(RefusalReason.UNKNOWN_SERVER_NAME);
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
                () -> ask(client, "7777.fate.org", "x"));
        assertTrue(e.getMessage().contains("unrecognized_name"), e.getMessage());
        assertEquals(before + 1, proxy.stats().refused(RefusalReason.UNKNOWN_SERVER_NAME));
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        return p.exitValue() + "\n" + out;
    }

    @Test
    void opensslClientThroughTheProxy() throws Exception {
        Path ca = dir.resolve("10000.pem");
        Files.writeString(ca, party10000.certificateChainPem());
        String out = run("openssl", "s_client", "-connect", "127.0.0.1:" + proxy.localAddress().getPort(),
                "-servername", "10000.fate.org", "-verify_hostname", "10000.fate.org", "-CAfile", ca.toString(),
                "-verify_return_error", "-brief");
        assertTrue(out.startsWith("0\n") && out.contains("Verification: OK"), out);
        assertTrue(out.contains("10000.fate.org"), out);
    }

    @Test
    void curlAgainstOpensslServerThroughTheProxy() throws Exception {
        Path cert = dir.resolve("www.pem");
        Path key = dir.resolve("www.key");
        TlsMaterial www = TestCerts.identity(dir, "www.fate.org");
        Files.writeString(cert, www.certificateChainPem());
        Files.writeString(key, www.privateKeyPem());
        int port = Loopback.freePort();
        Process server = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert",
                cert.toString(), "-key", key.toString(), "-www").redirectErrorStream(true).start();
        try {
            Loopback.await("openssl s_server to listen", 20, () -> {
                try (Socket s = new Socket(Loopback.LOOPBACK, port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            proxy.routes(proxy.routes().toBuilder().add("www.fate.org", Endpoint.of("127.0.0.1", port)).build());
            String out = run("curl", "-sS", "--max-time", "20", "--cacert", cert.toString(), "--connect-to",
                    "www.fate.org:443:127.0.0.1:" + proxy.localAddress().getPort(), "https://www.fate.org/");
            assertTrue(out.startsWith("0\n") && out.contains("s_server -accept"), out);
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void countersAndMBeanShowTheTraffic() throws Exception {
        ask(client, "10000.fate.org", "count me");
        TunnelStats s = proxy.stats();
        assertTrue(s.accepted() >= 1 && s.routed() >= 1 && s.bytesFromClients() > 0 && s.bytesToClients() > 0,
                s.toString());
        javax.management.MBeanServer mbs = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        var names = mbs.queryNames(new javax.management.ObjectName("io.fedlink:type=SniProxy,*"), null);
        assertTrue(names.stream().anyMatch(n -> n.toString().contains(":" + proxy.localAddress().getPort())), names
                .toString());
        javax.management.ObjectName n = names.stream()
                .filter(x -> x.toString().contains(":" + proxy.localAddress().getPort())).findFirst().orElseThrow();
        assertTrue((Long) mbs.getAttribute(n, "Routed") >= 1);
    }
}
