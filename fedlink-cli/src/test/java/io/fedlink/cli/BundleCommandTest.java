package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleCommandTest {
    @TempDir
    Path dir;

    static Cli ok(String... args) {
        Cli r = Cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    @Test
    void flinkWritesEveryFileNamesThemAndPrintsNoSecret() throws Exception {
        Path out = dir.resolve("flink");
        Cli r = ok("bundle", "flink", "--out", out.toString(), "--rest-name", "flink-jm.example",
                "--install-dir", "/opt/flink/conf/ssl");
        for (String f : new String[] {"internal.keystore.p12", "internal.truststore.p12", "internal.password",
                "rest.keystore.p12", "rest.truststore.p12", "rest.password", "rest-client.pem", "rest-client-key.pem",
                "ca.pem", "flink-ssl.yaml"}) {
            assertTrue(r.out().contains("==> Saved " + out.resolve(f) + "\n"), f + " missing from\n" + r.out());
        }
        assertTrue(r.out().contains("==> Saved " + out.resolve("ca/ca-key.pem") + "\n"), "a dedicated CA is created "
                + "beside the bundle\n" + r.out());
        String conf = Files.readString(out.resolve("flink-ssl.yaml"));
        assertTrue(conf.contains("security.ssl.rest.keystore: /opt/flink/conf/ssl/rest.keystore.p12\n"), conf);
        for (String pw : new String[] {"internal.password", "rest.password"}) {
            String secret = Files.readString(out.resolve(pw)).strip();
            assertFalse(r.out().contains(secret) || r.err().contains(secret), "a password was printed");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(pw))));
        }

        // Again with the same CA folder and a password file: the CA is reused, the password is the given one.
        Path pw = dir.resolve("pw");
        Files.writeString(pw, "given-secret\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
        ok("bundle", "flink", "--out", dir.resolve("again").toString(), "--ca-dir", out.resolve("ca").toString(),
                "--no-internal", "--rest-password-file", pw.toString());
        assertEquals(Files.readString(out.resolve("ca.pem")), Files.readString(dir.resolve("again/ca.pem")));
        assertEquals("given-secret\n", Files.readString(dir.resolve("again/rest.password")));
        assertFalse(Files.exists(dir.resolve("again/internal.keystore.p12")));
    }

    @Test
    void flinkRefusesASharedPasswordFileAndEcKeysInOneLine() throws Exception {
        Path pw = dir.resolve("pw");
        Files.writeString(pw, "secret\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-r--r--"));
        Cli shared = Cli.run("bundle", "flink", "--out", dir.resolve("f").toString(), "--rest-password-file",
                pw.toString());
        assertEquals(1, shared.code());
        assertEquals("fedlink: password file " + pw + " is readable by its group or others (rw-r--r--): run "
                + "'chmod 600 " + pw + "' first\n", shared.err());

        Cli ec = Cli.run("bundle", "flink", "--out", dir.resolve("g").toString(), "--key-type", "ec-p256");
        assertEquals(1, ec.code());
        assertTrue(ec.err().startsWith("fedlink: key type EC_P256 cannot serve the RFC 7525 RSA suites")
                && ec.err().endsWith("use rsa-2048, rsa-3072 or rsa-4096\n"), ec.err());
        assertFalse(Files.exists(dir.resolve("g")), "a refusal writes nothing");
    }

    @Test
    void consulWritesConsulsFileNamesAndNumbersOn() throws Exception {
        Path out = dir.resolve("consul");
        Cli first = ok("bundle", "consul", "--out", out.toString(), "--servers", "3", "--clients", "1", "--clis", "1");
        for (String f : new String[] {"consul-agent-ca.pem", "consul-agent-ca-key.pem",
                "dc1-server-consul-0/dc1-server-consul-0.pem", "dc1-server-consul-0/dc1-server-consul-0-key.pem",
                "dc1-server-consul-0/consul-agent-ca.pem", "dc1-server-consul-2/dc1-server-consul-2.hcl",
                "dc1-client-consul-0/dc1-client-consul-0.pem", "dc1-cli-consul-0/dc1-cli-consul-0-key.pem",
                "dc1-cli-consul-0/dc1-cli-consul-0.env"}) {
            assertTrue(first.out().contains("==> Saved " + out.resolve(f) + "\n"), f + " missing from\n" + first.out());
        }
        Cli second = ok("bundle", "consul", "--out", out.toString(), "--dc", "dc1");
        Path agent = out.resolve("dc1-server-consul-3");
        assertEquals("==> Saved " + agent.resolve("dc1-server-consul-3.pem") + "\n==> Saved "
                + agent.resolve("dc1-server-consul-3-key.pem") + "\n==> Saved " + agent.resolve("consul-agent-ca.pem")
                + "\n==> Saved " + agent.resolve("dc1-server-consul-3.hcl") + "\n", second.out());
        assertTrue(first.out().lines().noneMatch(l -> l.endsWith("/consul-agent-ca-key.pem")
                && !l.equals("==> Saved " + out.resolve("consul-agent-ca-key.pem"))), "the CA key stays at the top\n"
                + first.out());
        Cli bad = Cli.run("bundle", "consul", "--out", out.toString(), "--dc", "dc 1");
        assertEquals(1, bad.code());
        assertEquals("fedlink: invalid datacenter 'dc 1': one DNS label, e.g. dc1\n", bad.err());
    }

    @Test
    void etcdWritesOneCertificatePerMemberAndRefusesBeforeWritingAnything() throws Exception {
        Path out = dir.resolve("etcd");
        Cli r = ok("bundle", "etcd", "--out", out.toString(), "--members", "3", "--host", "10.0.0.1", "--host",
                "10.0.0.2", "--host", "10.0.0.3");
        for (String f : new String[] {"ca.pem", "etcd-0.pem", "etcd-0-key.pem", "etcd-0.flags", "etcd-2.flags",
                "client.pem", "client-key.pem", "etcdctl.flags"}) {
            assertTrue(r.out().contains("==> Saved " + out.resolve(f) + "\n"), f + " missing from\n" + r.out());
        }
        String flags = Files.readString(out.resolve("etcd-1.flags"));
        assertTrue(flags.contains("--advertise-client-urls=https://10.0.0.2:2379\n"), flags);
        assertTrue(Files.exists(out.resolve("ca/ca-key.pem")));

        Path named = dir.resolve("named");
        ok("bundle", "etcd", "--out", named.toString(), "--members", "2", "--host", "etcd.example",
                "--listen-address", "etcd.example=10.0.0.5");
        String second = Files.readString(named.resolve("etcd-1.flags"));
        assertTrue(second.contains("\n--listen-client-urls=https://10.0.0.5:2381\n--advertise-client-urls="
                + "https://etcd.example:2381\n--listen-peer-urls=https://10.0.0.5:2382\n"), second);
        Cli unnamed = Cli.run("bundle", "etcd", "--out", dir.resolve("unnamed").toString(), "--members", "1",
                "--host", "etcd.example");
        assertEquals(1, unnamed.code());
        assertTrue(unnamed.err().startsWith("fedlink: member etcd-0: host etcd.example is a name and etcd listens "
                + "on IP addresses: give the member's listen address (--listen-address etcd.example=IP;"), unnamed.err());
        assertFalse(Files.exists(dir.resolve("unnamed")));
        Cli help = Cli.run("bundle", "etcd", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains("client 2379, peer 2380, the next member 2381, 2382"),
                help.out());

        Cli refused = Cli.run("bundle", "etcd", "--out", dir.resolve("none").toString(), "--members", "0");
        assertEquals(1, refused.code());
        assertTrue(refused.err().startsWith("fedlink: an etcd cluster has 1..99 members, was 0"), refused.err());
        assertFalse(Files.exists(dir.resolve("none")), "a refusal writes nothing, not even a CA");
    }

    @Test
    void federationWritesOneFolderPerHost() throws Exception {
        Path description = dir.resolve("federation.yaml");
        Files.writeString(description, "domain: fate.org\nproxy: { host: proxy.fate.org }\nparties:\n"
                + "  - { id: \"10000\", address: 192.168.0.2 }\n  - { id: \"9999\", address: 192.168.0.3 }\n");
        Path out = dir.resolve("fed");
        Cli r = ok("bundle", "federation", description.toString(), "--out", out.toString());
        for (String f : new String[] {"proxy/sni.yaml", "proxy/fedlink-proxy.service", "party-10000/key.pem",
                "party-9999/cert.pem", "party-9999/standalone-tls.conf", "party-9999/pulsar_route_table.yaml"}) {
            assertTrue(r.out().contains("==> Saved " + out.resolve(f) + "\n"), f + " missing from\n" + r.out());
        }
        assertFalse(r.out().contains("PRIVATE KEY"), r.out());
        assertTrue(Files.readString(out.resolve("ca/ca.pem")).contains("CERTIFICATE"));

        Files.writeString(description, "domain: fate.org\nproxy: { host: proxy.fate.org }\nparties: []\n");
        Cli bad = Cli.run("bundle", "federation", description.toString(), "--out", dir.resolve("none").toString());
        assertEquals(1, bad.code());
        assertEquals("fedlink: " + description + ": parties: expected a list of { id, address } entries\n", bad.err());
        assertFalse(Files.exists(dir.resolve("none")));
    }

    @Test
    void federationPulsarVersionAndInstallDirPerHost() throws Exception {
        Path description = dir.resolve("federation.yaml");
        Files.writeString(description, "domain: fate.org\nproxy: { host: proxy.fate.org, install_dir: /etc/fl }\n"
                + "parties:\n  - { id: \"10000\", address: 192.168.0.2, install_dir: /opt/pulsar/fl }\n"
                + "  - { id: \"9999\", address: 192.168.0.3 }\n");
        Path out = dir.resolve("fed");
        ok("bundle", "federation", description.toString(), "--out", out.toString(), "--pulsar-version", "2.10.6",
                "--install-dir", "/srv/fl");
        String own = Files.readString(out.resolve("party-10000/standalone-tls.conf"));
        assertTrue(own.contains("\nbrokerClientAuthenticationParameters=tlsCertFile:/opt/pulsar/fl/cert.pem,"
                + "tlsKeyFile:/opt/pulsar/fl/key.pem\n"), own);
        assertTrue(Files.readString(out.resolve("party-9999/standalone-tls.conf")).contains("tlsCertFile:/srv/fl/"));
        assertTrue(Files.readString(out.resolve("proxy/fedlink-proxy.service")).contains(" --routes /etc/fl/sni.yaml"));

        Cli bad = Cli.run("bundle", "federation", description.toString(), "--out", dir.resolve("none").toString(),
                "--pulsar-version", "2.10.x");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("fedlink: invalid Pulsar version '2.10.x'"), bad.err());
        assertFalse(Files.exists(dir.resolve("none")), "a refusal writes nothing, not even a CA");
    }

    /**
     * Bundles issue through the CA: recorded in its index with their party (so 'pki party revoke' and the CRL see
     * them), and a re-run keeps every party's key unless told to re-key: adding a party rotates nobody else.
     */
    @Test
    void federationIssuesThroughTheCaAndKeepsKeysOnReRuns() throws Exception {
        Path ca = dir.resolve("fate-ca");
        ok("pki", "ca", "create", "--ca-dir", ca.toString(), "--permit-dns", "fate.org");
        Path description = dir.resolve("federation.yaml");
        String two = "domain: fate.org\nproxy: { host: proxy.fate.org }\nparties:\n"
                + "  - { id: \"10000\", address: 192.168.0.2 }\n  - { id: \"9999\", address: 192.168.0.3 }\n";
        Files.writeString(description, two);
        Path out = dir.resolve("fed");
        ok("bundle", "federation", description.toString(), "--out", out.toString(), "--ca-dir", ca.toString(),
                "--days", "30");
        String key10000 = Files.readString(out.resolve("party-10000/key.pem"));
        java.security.cert.X509Certificate cert = io.fedlink.api.PemCodec.readCertificate(
                Files.readString(out.resolve("party-10000/cert.pem")));
        long days = java.time.Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant())
                .toDays();
        assertTrue(days >= 29 && days <= 31, "--days 30, was " + days);
        String index = Files.readString(ca.resolve("index.tsv"));
        assertTrue(index.contains(cert.getSerialNumber().toString(16)), "recorded in the CA's index\n" + index);

        // a third party joins: only its files and the tables are written, the others keep their keys
        Files.writeString(description, two + "  - { id: \"8888\", address: 192.168.0.4 }\n");
        Cli again = ok("bundle", "federation", description.toString(), "--out", out.toString(), "--ca-dir",
                ca.toString(), "--days", "30");
        assertEquals(key10000, Files.readString(out.resolve("party-10000/key.pem")), "10000 keeps its key");
        assertFalse(again.out().contains(out.resolve("party-10000/key.pem").toString()), again.out());
        assertTrue(again.out().contains("==> Saved " + out.resolve("party-8888/key.pem") + "\n"), again.out());
        assertTrue(again.out().contains("==> Saved " + out.resolve("party-10000/pulsar_route_table.yaml") + "\n"),
                "every party's route table names the new party\n" + again.out());
        assertTrue(Files.readString(out.resolve("proxy/sni.yaml")).contains("8888.fate.org"));

        // --rekey PARTY re-issues that party only
        ok("bundle", "federation", description.toString(), "--out", out.toString(), "--ca-dir", ca.toString(),
                "--rekey", "10000");
        assertFalse(key10000.equals(Files.readString(out.resolve("party-10000/key.pem"))), "re-keyed");

        // the CA knows every certificate the bundle issued: removing a party revokes them all
        Cli revoked = ok("pki", "party", "revoke", "--ca-dir", ca.toString(), "10000");
        assertTrue(revoked.out().contains("Revoked 2 certificate(s) of party 10000"), revoked.out());
    }
}
