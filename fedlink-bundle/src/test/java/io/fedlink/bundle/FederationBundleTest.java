package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.api.PemCodec;
import io.fedlink.federation.ClusterMetadata;
import io.fedlink.federation.PulsarRouteTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FederationBundleTest {
    static final String FATE = """
            domain: fate.org
            proxy: { host: proxy.fate.org, port: 443 }
            parties:
              - { id: "10000", address: 192.168.0.2 }
              - { id: "9999", address: 192.168.0.3, sslPort: 16651 }
            """;

    @TempDir
    Path dir;

    /** The entries of the written proxy/sni.yaml, as YAML maps. */
    static List<?> sniEntries(Path dir) throws java.io.IOException {
        return (List<?>) ((Map<?, ?>) io.fedlink.api.SafeYaml.load(Files.readString(dir.resolve("proxy/sni.yaml"))))
                .get("sni");
    }

    @Test
    void aPartyReachedThroughItsAgentGetsAnAgentUnitAndTheProxyAnAgentPort() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create();
        String yaml = FATE.replace("port: 443 }", "port: 443, agent_port: 8443 }")
                .replace("sslPort: 16651 }", "sslPort: 16651, reach: agent }");
        WrittenBundle b = FederationBundle.of(ca, FederationBundle.parse(yaml), null).write(dir);
        List<String> files = b.files().stream().map(f -> dir.relativize(f).toString()).toList();
        assertTrue(files.containsAll(List.of("proxy/agent-tls/cert.pem", "proxy/agent-tls/key.pem",
                "proxy/agent-tls/ca.pem", "party-9999/fedlink-agent.service")), files.toString());
        assertTrue(!files.contains("party-10000/fedlink-agent.service"), "10000 is reached directly");

        // (the proxy's own reader reads it in fedlink-pulsar-it's BundleRoutesIT: no bundle -> sni arrow)
        assertEquals(List.of(Map.of("fqdn", "10000.fate.org", "tunnel_route", "192.168.0.2:6651"),
                Map.of("fqdn", "9999.fate.org", "agent", "9999")), sniEntries(dir));
        String unit = Files.readString(dir.resolve("proxy/fedlink-proxy.service"));
        assertTrue(unit.contains(" --agent-listen 0.0.0.0:8443 --agent-cert /etc/fedlink/proxy/agent-tls/cert.pem"
                + " --agent-key /etc/fedlink/proxy/agent-tls/key.pem --agent-ca /etc/fedlink/proxy/agent-tls/ca.pem"
                + " --agent-domain fate.org\n"), unit);
        java.security.cert.X509Certificate proxyCert = PemCodec.readCertificate(
                Files.readString(dir.resolve("proxy/agent-tls/cert.pem")));
        assertEquals("[[2, proxy.fate.org]]", String.valueOf(proxyCert.getSubjectAlternativeNames()),
                "agents verify the name they dial");
        Path p = dir.resolve("party-9999");
        String agent = Files.readString(p.resolve("fedlink-agent.service"));
        assertTrue(agent.contains(" -jar /opt/fedlink/fedlink-proxy.jar agent --cert " + p.toAbsolutePath()
                .resolve("cert.pem") + " --key " + p.toAbsolutePath().resolve("key.pem") + " --ca "
                + p.toAbsolutePath().resolve("ca.pem") + " --proxy proxy.fate.org:8443 --target 192.168.0.3:16651\n"),
                agent);
        // the party's FATE table still names its own broker: only the proxy's route changes
        assertTrue(Files.readString(p.resolve("pulsar_route_table.yaml")).contains("host: \"192.168.0.3\""));

        byte[] proxyKey = Files.readAllBytes(dir.resolve("proxy/agent-tls/key.pem"));
        FederationBundle.of(ca, FederationBundle.parse(yaml), null).write(dir); // a re-run keeps the proxy's key
        assertTrue(java.util.Arrays.equals(proxyKey, Files.readAllBytes(dir.resolve("proxy/agent-tls/key.pem"))));

        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FederationBundle.parse(FATE.replace("sslPort: 16651 }", "sslPort: 16651, reach: tunnel }")));
        assertTrue(e.getMessage().contains("parties[1].reach: 'tunnel' must be direct or agent"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> FederationBundle
                .parse(yaml.replace("agent_port: 8443", "agent_port: 443")));
        assertTrue(e.getMessage().contains("proxy.agent_port 443 is the proxy's port"), e.getMessage());
    }

    @Test
    void oneFolderPerHostWithEveryFileTheGuideBuildsByHand() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create();
        WrittenBundle b = FederationBundle.of(ca, FederationBundle.parse(FATE), null).write(dir);
        assertEquals(List.of("proxy/sni.yaml", "proxy/fedlink-proxy.service", "party-10000/cert.pem",
                "party-10000/key.pem", "party-10000/ca.pem", "party-10000/standalone-tls.conf",
                "party-10000/pulsar_route_table.yaml", "party-10000/service_conf.yaml", "party-9999/cert.pem",
                "party-9999/key.pem", "party-9999/ca.pem", "party-9999/standalone-tls.conf",
                "party-9999/pulsar_route_table.yaml", "party-9999/service_conf.yaml"),
                b.files().stream().map(f -> dir.relativize(f).toString()).toList());

        assertEquals(List.of(Map.of("fqdn", "10000.fate.org", "tunnel_route", "192.168.0.2:6651"),
                Map.of("fqdn", "9999.fate.org", "tunnel_route", "192.168.0.3:16651")), sniEntries(dir));
        String unit = Files.readString(dir.resolve("proxy/fedlink-proxy.service"));
        // no install dir given: the unit names a path its hardening leaves readable, and says where to copy
        assertTrue(unit.contains("proxy --listen 0.0.0.0:443 --routes /etc/fedlink/proxy/sni.yaml\n"), unit);
        assertTrue(unit.contains("install -D -m 0644 sni.yaml /etc/fedlink/proxy/sni.yaml"), unit);
        assertTrue(unit.contains(" -jar /opt/fedlink/fedlink-proxy.jar proxy "), unit); // the proxy's own jar
        assertTrue(unit.contains("-XX:+UseSerialGC -Xms8m"), unit); // and the JVM settings run.sh uses

        Path p = dir.resolve("party-9999");
        assertEquals("CN=9999.fate.org", PemCodec.readCertificate(Files.readString(p.resolve("cert.pem")))
                .getSubjectX500Principal().getName());
        assertTrue(Files.readString(p.resolve("key.pem")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p.resolve("key.pem"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        String conf = Files.readString(p.resolve("standalone-tls.conf"));
        for (String line : List.of("clusterName=" + p.getFileName().toString().substring("party-".length()),
                "tlsCertificateFilePath=" + p.toAbsolutePath().resolve("cert.pem"),
                "tlsKeyFilePath=" + p.toAbsolutePath().resolve("key.pem"), "tlsRequireTrustedClientCertOnConnect=true",
                "tlsAllowInsecureConnection=false", "tlsHostnameVerificationEnabled=true")) {
            assertTrue(conf.lines().anyMatch(line::equals), line + " missing from\n" + conf);
        }
        // the party's own ports reach its broker: the proxy dials 16651, so the broker must listen there
        assertTrue(conf.lines().anyMatch("brokerServicePortTls=16651"::equals), conf);
        assertTrue(conf.lines().anyMatch("brokerServicePort=6650"::equals), conf);
        // lookups answer with the name the proxy routes and the certificate carries, whatever the host is called
        assertTrue(conf.lines().anyMatch("advertisedAddress=9999.fate.org"::equals), conf);
        // FATE's side: service_conf.yaml names the broker's cluster and this party's route table
        Map<?, ?> service = new org.yaml.snakeyaml.Yaml().load(Files.readString(p.resolve("service_conf.yaml")));
        assertEquals("pulsar", ((Map<?, ?>) service.get("default_engines")).get("federation"));
        Map<?, ?> pulsar = (Map<?, ?>) ((Map<?, ?>) service.get("fate_on_spark")).get("pulsar");
        assertEquals("9999", pulsar.get("cluster"), "the broker's clusterName");
        assertEquals("192.168.0.3", pulsar.get("host"));
        assertEquals(6650, pulsar.get("port"));
        assertEquals(8080, pulsar.get("mng_port"));
        assertEquals("fl-tenant", pulsar.get("tenant"));
        assertEquals("replication", pulsar.get("mode"));
        assertEquals(p.toAbsolutePath().resolve("pulsar_route_table.yaml").toString(), pulsar.get("route_table"));
        PulsarRouteTable table = PulsarRouteTable.read(p.resolve("pulsar_route_table.yaml"));
        assertEquals(Endpoint.parse("proxy.fate.org:443"), table.defaultProxy());
        // FATE looks a party up as route_table.get(int(party_id)): its YAML loader must yield an integer key
        String id = p.getFileName().toString().substring("party-".length());
        Map<?, ?> loaded = new org.yaml.snakeyaml.Yaml().load(Files.readString(p.resolve("pulsar_route_table.yaml")));
        assertTrue(loaded.containsKey(Integer.valueOf(id)), "integer key " + id + " in " + loaded.keySet());
        assertEquals(Boolean.TRUE, ((Map<?, ?>) loaded.get(Integer.valueOf(id))).get("local"));
        assertEquals(id, table.localParty());
        // the default entry in the shape FATE reads for a party it does not list (every port through the proxy,
        // which routes by name: the numbers are what FATE writes into the cluster's URLs)
        Map<?, ?> def = (Map<?, ?>) loaded.get("default");
        assertEquals(List.of("proxy", "domain", "brokerPort", "brokerSslPort"), List.copyOf(def.keySet()));
        assertEquals(6650, def.get("brokerPort"));
        assertEquals(6651, def.get("brokerSslPort"));
        ClusterMetadata other = ClusterMetadata.forParty(table, "10000");
        assertEquals("pulsar+ssl://proxy.fate.org:443", other.proxyServiceUrl());
    }

    @Test
    void descriptionsAreCheckedNamingTheEntry() {
        assertEquals("parties[1]: party 10000 is listed twice", assertThrows(IllegalArgumentException.class,
                () -> FederationBundle.parse(FATE.replace("\"9999\"", "\"10000\""))).getMessage());
        IllegalArgumentException typo = assertThrows(IllegalArgumentException.class,
                () -> FederationBundle.parse(FATE.replace("address: 192.168.0.2", "adress: 192.168.0.2")));
        assertTrue(typo.getMessage().startsWith("parties[0]: unknown key 'adress'"), typo.getMessage());
        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> FederationBundle.parse(FATE.replace("port: 443", "port: 70000")));
        assertEquals("proxy.port: invalid port '70000': 1..65535", port.getMessage());
        assertEquals("abc", FederationBundle.parse(FATE.replace("\"9999\"", "ABC")).parties().get(1).id(),
                "party ids are canonical: lower case");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FederationBundle.parse(FATE.replace("\"9999\"",
                "root"))).getMessage().contains("'root' is reserved"));
        assertEquals("parties: expected a list of { id, address } entries", assertThrows(
                IllegalArgumentException.class, () -> FederationBundle.parse("domain: fate.org\nproxy: {host: p}\n"))
                .getMessage());
    }

    static final String HOSTS = """
            domain: fate.org
            proxy: { host: proxy.fate.org, port: 443, install_dir: /etc/fedlink-proxy }
            parties:
              - { id: "10000", address: 192.168.0.2, install_dir: /opt/pulsar/fedlink }
              - { id: "9999", address: 192.168.0.3 }
            """;

    @Test
    void eachHostHasItsInstallDirAndTheUnitRunsUnderItsHardening() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().permitDns("fate.org").create();
        FederationBundle.Description d = FederationBundle.parse(HOSTS);
        assertEquals(Path.of("/etc/fedlink-proxy"), d.proxyInstallDir());
        assertEquals(Path.of("/opt/pulsar/fedlink"), d.parties().get(0).installDir());
        assertEquals(null, d.parties().get(1).installDir());
        FederationBundle.of(ca, d, Path.of("/srv/fedlink")).write(dir); // --install-dir: the default for the others
        String own = Files.readString(dir.resolve("party-10000/standalone-tls.conf"));
        assertTrue(own.contains("\ntlsKeyFilePath=/opt/pulsar/fedlink/key.pem\n"), own);
        assertTrue(Files.readString(dir.resolve("party-10000/service_conf.yaml"))
                .contains("route_table: \"/opt/pulsar/fedlink/pulsar_route_table.yaml\""));
        String other = Files.readString(dir.resolve("party-9999/standalone-tls.conf"));
        assertTrue(other.contains("\ntlsKeyFilePath=/srv/fedlink/key.pem\n"), other);
        Path unit = dir.resolve("proxy/fedlink-proxy.service");
        String text = Files.readString(unit);
        assertTrue(text.contains(" --routes /etc/fedlink-proxy/sni.yaml\n"), text);
        assertTrue(text.contains("\nProtectHome=yes\n") && text.contains("\nPrivateTmp=yes\n"), text);
        assertTrue(text.contains("# ProtectHome=yes and PrivateTmp=yes hide /home, /root, /run/user and /tmp"), text);
        systemdAnalyzeVerify(unit);

        for (String[] bad : new String[][] {
                {"install_dir: /etc/fedlink-proxy", "install_dir: /home/op/fedlink", "proxy.install_dir: '/home/op/"
                        + "fedlink' is hidden from the proxy's systemd unit (ProtectHome=yes"},
                {"install_dir: /etc/fedlink-proxy", "install_dir: /tmp/fedlink", "(PrivateTmp=yes"},
                {"install_dir: /opt/pulsar/fedlink", "install_dir: opt/fedlink", "parties[0].install_dir: 'opt/fedlink'"
                        + " is not an absolute path"},
                {"install_dir: /opt/pulsar/fedlink", "install_dir: '/opt/a b'", "parties[0].install_dir: '/opt/a b'"},
                {"install_dir: /opt/pulsar/fedlink", "install_dir: /opt/../home/x", "'/opt/../home/x'"}}) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> FederationBundle.parse(HOSTS.replace(bad[0], bad[1]))).getMessage();
            assertTrue(m.contains(bad[2]), m);
        }
        String root = assertThrows(IllegalArgumentException.class, () -> FederationBundle.of(ca,
                FederationBundle.parse(FATE), Path.of("/root/fedlink"))).getMessage();
        assertTrue(root.contains("--install-dir: '/root/fedlink'") && root.contains("ProtectHome=yes")
                && root.contains("proxy.install_dir"), root);
    }

    /** {@code systemd-analyze verify} on the unit, where this machine has it. */
    static void systemdAnalyzeVerify(Path unit) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("systemd-analyze", "verify", unit.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException absent) {
            org.junit.jupiter.api.Assumptions.abort("systemd-analyze is not installed: " + absent.getMessage());
            return;
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "systemd-analyze hung");
        assertEquals(0, p.exitValue(), out);
        assertEquals("", out.strip(), "systemd-analyze verify complains");
    }

    @Test
    void theBrokerClientLinesFollowThePulsarVersion() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().permitDns("fate.org").create();
        FederationBundle.of(ca, FederationBundle.parse(FATE), null).pulsarVersion("2.10.6").write(dir.resolve("old"));
        String old = Files.readString(dir.resolve("old/party-9999/standalone-tls.conf"));
        Path p = dir.resolve("old/party-9999").toAbsolutePath();
        assertTrue(old.contains("\nbrokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationTls"
                + "\nbrokerClientAuthenticationParameters=tlsCertFile:" + p.resolve("cert.pem") + ",tlsKeyFile:"
                + p.resolve("key.pem") + "\n"), old);
        assertTrue(!old.contains("brokerClientCertificateFilePath"), old);
        assertTrue(old.startsWith("# Broker TLS and cluster name of party 9999, for Pulsar 2.10.6"), old);
        FederationBundle.of(ca, FederationBundle.parse(FATE), null).write(dir.resolve("new"));
        String current = Files.readString(dir.resolve("new/party-9999/standalone-tls.conf"));
        assertTrue(current.contains("\nbrokerClientCertificateFilePath=") && !current.contains("AuthenticationTls"),
                current);
        assertTrue(current.startsWith("# Broker TLS and cluster name of party 9999, for Pulsar 4.0"), current);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FederationBundle.of(ca,
                FederationBundle.parse(FATE), null).pulsarVersion("2.6")).getMessage().contains("'2.6'"));
        Path comma = dir.resolve("a,b");
        String m = assertThrows(IllegalArgumentException.class, () -> FederationBundle.of(ca,
                FederationBundle.parse(FATE), null).pulsarVersion("2.10").write(comma)).getMessage();
        assertTrue(m.contains("comma"), m);
        assertTrue(!Files.exists(comma), "refused before any file is written");
    }
}
