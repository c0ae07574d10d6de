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
}
