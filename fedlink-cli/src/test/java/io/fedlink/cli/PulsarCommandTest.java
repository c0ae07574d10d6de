package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.sni.SniYaml;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PulsarCommandTest {
    @TempDir
    Path dir;

    @Test
    void clusterJsonAndRoutesFromOneTable() throws Exception {
        Path table = dir.resolve("pulsar_route_table.yaml");
        Files.writeString(table, """
                10000:
                  host: 192.168.0.2
                  port: 6650
                default:
                  proxy: "proxy.fate.org:443"
                  domain: "fate.org"
                """);
        Cli cluster = Cli.run("pulsar", "cluster", "--route-table", table.toString(), "--party", "9999");
        assertEquals(0, cluster.code(), cluster.err());
        assertTrue(cluster.out().contains("\"brokerServiceUrlTls\" : \"pulsar+ssl://9999.fate.org:6651\""),
                cluster.out());
        Cli routes = Cli.run("pulsar", "routes", "--route-table", table.toString());
        assertEquals(0, routes.code(), routes.err());
        Path sni = dir.resolve("sni.yaml");
        Files.writeString(sni, routes.out());
        assertEquals(Endpoint.parse("192.168.0.2:6651"), SniYaml.read(sni).resolve("10000.fate.org").target(),
                "the printed routes are a valid route file for the proxy");
        Files.writeString(table, "9999: { port: 99999 }\ndefault: { domain: fate.org }\n");
        Cli bad = Cli.run("pulsar", "cluster", "--route-table", table.toString(), "--party", "9999");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("party 9999: port '99999' is not a port"), bad.err());
    }

    @Test
    void syncRefusalsNameTheValue() throws Exception {
        String[] base = {"pulsar", "sync", "--etcd", "http://127.0.0.1:1", "--federation", "fl", "--party", "10000"};
        assertEquals("fedlink: invalid --admin-url 'ftp://x': use http://host:port or https://host:port\n",
                sync(base, "--admin-url", "ftp://x").err());
        assertEquals("fedlink: an https --admin-url needs --admin-trust FILE\n",
                sync(base, "--admin-url", "https://127.0.0.1:8443").err());
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        assertTrue(sync(base, "--admin-url", "http://127.0.0.1:8080", "--admin-trust", ca.toString()).err()
                .contains("--admin-trust is for an https --admin-url, not 'http://127.0.0.1:8080'"));
        assertTrue(sync(base, "--admin-url", "https://127.0.0.1:8443", "--admin-trust", ca.toString(),
                "--admin-cert", ca.toString()).err().contains("--admin-cert and --admin-key go together"));
        assertTrue(sync(base, "--admin-url", "https://127.0.0.1:8443", "--admin-trust", "no-such.pem").err()
                .contains("'no-such.pem' is not a readable file"));
        String badProxy = sync(base, "--admin-url", "http://127.0.0.1:1", "--once", "--proxy", "127.0.0.1:x").err();
        assertTrue(badProxy.startsWith("fedlink: ") && badProxy.contains("'127.0.0.1:x'")
                && badProxy.contains("the proxy this party's broker dials"), badProxy);
    }

    @Test
    void unreachableEtcdIsOneLine() {
        for (String mode : new String[] {"--once", "--admin-timeout=1s"}) {
            Cli c = Cli.run("pulsar", "sync", "--etcd", "http://127.0.0.1:1", "--etcd-timeout", "1s",
                    "--federation", "fl", "--party", "10000", "--admin-url", "http://127.0.0.1:1", mode);
            assertEquals(1, c.code(), c.err());
            assertTrue(c.err().startsWith("fedlink: ") && c.err().contains("127.0.0.1:1"), c.err());
            assertEquals(1, c.err().lines().count(), "one line, no stack trace: " + c.err());
        }
    }

    private static Cli sync(String[] base, String... more) {
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        Cli c = Cli.run(args);
        assertEquals(1, c.code(), c.err());
        return c;
    }
}
