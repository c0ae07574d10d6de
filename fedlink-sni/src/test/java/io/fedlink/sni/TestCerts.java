package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** Self-signed test identities made by the JDK's keytool (the proxy never looks inside them). */
final class TestCerts {
    private TestCerts() {}

    /** A key and self-signed certificate for {@code dnsName}. */
    static TlsMaterial identity(Path dir, String dnsName) throws Exception {
        Path file = dir.resolve(dnsName + ".p12");
        Process p = new ProcessBuilder("keytool", "-genkeypair", "-alias", "id", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=" + dnsName, "-ext", "san=dns:" + dnsName, "-validity", "2",
                "-keystore", file.toString(), "-storetype", "PKCS12", "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, "changeit".toCharArray());
        }
        return TlsMaterial.builder().identity((PrivateKey) ks.getKey("id", "changeit".toCharArray()),
                (X509Certificate) ks.getCertificate("id")).build();
    }

    /** {@code self}'s identity trusting the given peers' certificates. */
    static TlsMaterial trusting(TlsMaterial self, TlsMaterial... peers) {
        TlsMaterial.Builder b = self.toBuilder();
        for (TlsMaterial peer : peers) {
            b.trust(peer.certificate());
        }
        return b.build();
    }

    /** The server side of TLS over an accepted {@code plain} socket (closed with it), as {@code context} configures. */
    static SSLSocket serverSide(SSLContext context, Socket plain) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, null, plain.getPort(), true);
        s.setUseClientMode(false);
        return s;
    }

    /** What a {@link #tlsLines} server answers to a line read on {@code s}. */
    interface Answer {
        String to(SSLSocket s, String line) throws IOException;
    }

    /** A target handler: TLS as {@code context} configures over each accepted socket, answering line by line. */
    static Loopback.Target.Handler tlsLines(SSLContext context, Answer answer) {
        return plain -> {
            try (SSLSocket s = serverSide(context, plain)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8));
                PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
                for (String line; (line = in.readLine()) != null; ) {
                    out.println(answer.to(s, line));
                }
            }
        };
    }
}
