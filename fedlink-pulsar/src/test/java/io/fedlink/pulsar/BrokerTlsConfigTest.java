package io.fedlink.pulsar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsFiles;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.internal.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerTlsConfigTest {
    static final CertificateAuthority CA = CertificateAuthority.builder().permitDns("fate.org").create();

    @Test
    void writesPulsarReadableFilesWithStrictModes(@TempDir Path dir) throws Exception {
        var party = CA.issue(CertificateRequest.party("10000", "fate.org"));
        TlsFiles files = TlsFiles.write(party.tlsMaterial(), dir.resolve("certs"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.dir())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.key())));
        assertTrue(Files.readString(files.key()).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8, as brokers need");
        assertEquals(party.privateKey(), Pem.privateKey(Files.readString(files.key()), null));
        assertEquals(party.certificate(), PemCodec.readCertificate(Files.readString(files.cert())));
        assertEquals(CA.root(), PemCodec.readCertificate(Files.readString(files.ca())));
        try (var s = Files.list(files.dir())) {
            assertEquals(3, s.count(), "no temporary files left behind");
        }

        TlsFiles trustOnly = TlsFiles.write(TlsMaterial.builder().trust(CA.root()).build(), dir.resolve("trust"));
        assertNull(trustOnly.cert());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BrokerTlsConfig.lines(trustOnly, true))
                .getMessage().contains("holds trust only"));
    }

    @Test
    void theGuidesLinesMadeStrict(@TempDir Path dir) throws Exception {
        TlsFiles files = TlsFiles.write(CA.issue(CertificateRequest.party("9999", "fate.org")).tlsMaterial(), dir);
        Map<String, String> lines = BrokerTlsConfig.lines(files, true);
        assertEquals("6651", lines.get("brokerServicePortTls"));
        assertEquals(files.cert().toString(), lines.get("tlsCertificateFilePath"));
        assertEquals(files.key().toString(), lines.get("tlsKeyFilePath"));
        assertEquals(files.ca().toString(), lines.get("tlsTrustCertsFilePath"));
        assertEquals("false", lines.get("tlsAllowInsecureConnection"), "the guide's 'true' is not kept");
        assertEquals("true", lines.get("tlsRequireTrustedClientCertOnConnect"));
        assertEquals("true", lines.get("tlsHostnameVerificationEnabled"));
        assertEquals("true", lines.get("brokerClientTlsEnabled"));
        Path conf = dir.resolve("standalone.conf");
        Files.writeString(conf, "clusterName=9999\n");
        BrokerTlsConfig.appendTo(conf, lines);
        String text = Files.readString(conf);
        assertTrue(text.startsWith("clusterName=9999\n"), text);
        assertTrue(text.contains("\ntlsKeyFilePath=" + files.key() + "\n"), text);
        assertEquals("false", BrokerTlsConfig.lines(files, false).get("tlsRequireTrustedClientCertOnConnect"));
    }

    @Test
    void eachBrokerIsNamedAfterItsParty(@TempDir Path dir) throws Exception {
        assertEquals(Map.of("clusterName", "9999"), BrokerTlsConfig.clusterLines("9999"));
        assertEquals("clusterName=guest-1\n", BrokerTlsConfig.text(BrokerTlsConfig.clusterLines("guest-1")));
        for (String bad : new String[] {"", "standalone", "a b", "x/y", "9999\nreplicatorPrefix=p"}) {
            String m = assertThrows(IllegalArgumentException.class, () -> BrokerTlsConfig.clusterLines(bad))
                    .getMessage();
            assertTrue(m.contains("'" + bad + "'"), m);
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BrokerTlsConfig.clusterLines(null))
                .getMessage().contains("(none)"));
        Path conf = dir.resolve("standalone.conf");
        Files.writeString(conf, "clusterName=standalone\n");
        BrokerTlsConfig.appendTo(conf, BrokerTlsConfig.clusterLines("10000"));
        assertTrue(Files.readString(conf).endsWith("\nclusterName=10000\n"), "the later key wins in Pulsar's loader");
    }

    @Test
    void theBrokerClientsTlsFilesGoWhereThePulsarVersionReadsThem(@TempDir Path dir) throws Exception {
        TlsFiles files = TlsFiles.write(CA.issue(CertificateRequest.party("9999", "fate.org")).tlsMaterial(), dir);
        for (String modern : new String[] {"4.0", "4.0.7", "2.11.0", "3.3"}) {
            Map<String, String> lines = BrokerTlsConfig.lines(files, true, modern);
            assertEquals(files.cert().toString(), lines.get("brokerClientCertificateFilePath"), modern);
            assertEquals(files.key().toString(), lines.get("brokerClientKeyFilePath"), modern);
            assertNull(lines.get("brokerClientAuthenticationPlugin"), modern);
        }
        assertEquals(BrokerTlsConfig.lines(files, true, "4.0"), BrokerTlsConfig.lines(files, true));
        for (String legacy : new String[] {"2.10", "2.10.6", "2.7.0"}) {
            Map<String, String> lines = BrokerTlsConfig.lines(files, true, legacy);
            assertNull(lines.get("brokerClientCertificateFilePath"), legacy + " does not read it");
            assertNull(lines.get("brokerClientKeyFilePath"), legacy);
            assertEquals("org.apache.pulsar.client.impl.auth.AuthenticationTls",
                    lines.get("brokerClientAuthenticationPlugin"), legacy);
            assertEquals("tlsCertFile:" + files.cert() + ",tlsKeyFile:" + files.key(),
                    lines.get("brokerClientAuthenticationParameters"), legacy);
            assertEquals("true", lines.get("brokerClientTlsEnabled"), legacy);
            assertEquals(files.ca().toString(), lines.get("brokerClientTrustCertsFilePath"), legacy);
        }
        for (String bad : new String[] {"", "2", "two.ten", "2.6", "1.22", "2.10.x", "4.0\nclusterName=x"}) {
            String m = assertThrows(IllegalArgumentException.class, () -> BrokerTlsConfig.lines(files, true, bad))
                    .getMessage();
            assertTrue(m.contains("'" + bad + "'") && m.contains("2.7"), m);
        }
        TlsFiles comma = new TlsFiles(dir, files.ca(), dir.resolve("a,b/cert.pem"), files.key());
        String m = assertThrows(IllegalArgumentException.class, () -> BrokerTlsConfig.lines(comma, true, "2.10"))
                .getMessage();
        assertTrue(m.contains("a,b/cert.pem") && m.contains("comma"), m);
    }
}
