package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Consul bundle read by openssl, a parser that is neither fedlink's nor the JDK's: every certificate verifies
 * against the CA file, every key file is a valid SEC 1 P-256 key, and the server certificate carries Consul's names.
 */
class ConsulOpensslIT {
    @TempDir
    Path dir;

    String openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl hung");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + out);
        return out;
    }

    @Test
    void opensslVerifiesEveryCertificateAndKey() throws Exception {
        ConsulBundle.builder().servers(1).clients(1).clis(1).build().write(dir);
        for (String name : List.of("dc1-server-consul-0", "dc1-client-consul-0", "dc1-cli-consul-0")) {
            // each agent's folder is self-sufficient: its own copy of the CA certificate verifies its certificate
            String at = name + "/";
            assertTrue(openssl("verify", "-CAfile", at + "consul-agent-ca.pem", at + name + ".pem").contains(": OK"),
                    name);
            assertTrue(openssl("ec", "-in", at + name + "-key.pem", "-check", "-noout").contains("EC Key valid"),
                    name);
        }
        assertTrue(openssl("ec", "-in", "consul-agent-ca-key.pem", "-text", "-noout").contains("ASN1 OID: prime256v1"));
        String server = openssl("x509", "-in", "dc1-server-consul-0/dc1-server-consul-0.pem", "-noout", "-text");
        assertTrue(server.contains("DNS:server.dc1.consul, DNS:localhost, IP Address:127.0.0.1"), server);
        assertTrue(server.contains("TLS Web Server Authentication, TLS Web Client Authentication"), server);
        assertTrue(server.contains("Digital Signature, Key Encipherment"), server);
    }
}
