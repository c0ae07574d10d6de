package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST client files of {@code bundle flink} used by real {@code curl} against an HTTPS endpoint configured as
 * Flink's REST endpoint is from the bundle: {@code rest.keystore.p12} as its identity, {@code rest.truststore.p12} as
 * the only trust, client certificates required (authentication-enabled), TLS 1.2 with the bundle's suites. The PEM
 * pair and the PKCS#12 store with its password file are accepted; no client certificate is refused.
 */
class FlinkRestCurlIT {
    @TempDir
    Path dir;

    @Test
    void curlCallsTheRestEndpointWithTheClientFilesAndIsRefusedWithout() throws Exception {
        WrittenBundle b = FlinkBundle.builder(FlinkBundleTest.CA).internal(false).build().write(dir.resolve("flink"));
        char[] pw = Passwords.read(b.file("rest.password"));
        SSLContext ctx = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(FlinkBundleTest.load(b.file("rest.keystore.p12"), pw), pw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(FlinkBundleTest.load(b.file("rest.truststore.p12"), pw));
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            @Override
            public void configure(HttpsParameters params) {
                var p = ctx.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                p.setProtocols(new String[] {"TLSv1.2"});
                p.setCipherSuites(FlinkBundle.ALGORITHMS.toArray(String[]::new));
                params.setSSLParameters(p);
            }
        });
        server.createContext("/overview", x -> {
            byte[] body = "{\"taskmanagers\":2}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            String url = "https://127.0.0.1:" + server.getAddress().getPort() + "/overview";
            String ca = b.file("ca.pem").toString();
            Run pem = curl("--cacert", ca, "--cert", b.file("rest-client.pem").toString(), "--key",
                    b.file("rest-client-key.pem").toString(), url);
            assertEquals(0, pem.code, pem.out);
            assertEquals("{\"taskmanagers\":2}", pem.out);
            String clientPw = new String(Passwords.read(b.file("rest-client.password")));
            Run p12 = curl("--cacert", ca, "--cert-type", "P12", "--cert",
                    b.file("rest-client.keystore.p12") + ":" + clientPw, url);
            assertEquals(0, p12.code, p12.out);
            assertEquals("{\"taskmanagers\":2}", p12.out);
            Run none = curl("--cacert", ca, url);
            assertNotEquals(0, none.code, "no client certificate must be refused: " + none.out);
        } finally {
            server.stop(0);
        }
    }

    private record Run(int code, String out) {}

    private Run curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--noproxy", "*"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl hung");
        return new Run(p.exitValue(), out);
    }
}
