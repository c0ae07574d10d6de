package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RouteTable;
import io.fedlink.sni.SniYaml;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fedlink pulsar} as a user runs it: the real jar as a process, reading its standard output, on FATE's own
 * shipped {@code conf/pulsar_route_table.yaml} (FATE 1.11: parties keyed by number, {@code local: true|false},
 * {@code proxy: ""}) and on a star-deployment table with a {@code default} entry.
 */
class PulsarCommandIT {
    @TempDir
    Path dir;

    private Path fateShipped() throws IOException {
        Path table = dir.resolve("pulsar_route_table.yaml");
        try (InputStream in = getClass().getResourceAsStream("/fate/pulsar_route_table.yaml")) {
            Files.copy(in, table);
        }
        return table;
    }

    @Test
    void routesPrintsTheSniYamlOfFatesShippedTable() throws Exception {
        Cli routes = ProxyProcess.runSplit(ProxyProcess.fullJar(), "pulsar", "routes", "--route-table",
                fateShipped().toString(), "--domain", "fate.org");
        assertEquals(0, routes.code(), routes.err());
        RouteTable read = SniYaml.parse(routes.out());
        assertEquals("192.168.0.4:6651", read.resolve("9999.fate.org").targetFor("9999.fate.org").toString(),
                routes.out());
        assertEquals("192.168.0.3:6651", read.resolve("10000.fate.org").targetFor("10000.fate.org").toString());
        assertTrue(routes.err().contains("local party 10000"), routes.err());
    }

    @Test
    void routesPrintsAStarTableWithADefault() throws Exception {
        Path table = dir.resolve("star.yaml");
        Files.writeString(table, """
                10000:
                  host: 127.0.0.2
                  sslPort: 7651
                default:
                  proxy: "127.0.0.1:443"
                  domain: "fate.org"
                """);
        Cli routes = ProxyProcess.runSplit(ProxyProcess.fullJar(), "pulsar", "routes", "--route-table",
                table.toString());
        assertEquals(0, routes.code(), routes.err());
        assertTrue(routes.out().contains("10000.fate.org") && routes.out().contains("127.0.0.2:7651"), routes.out());
    }

    @Test
    void routesWithoutADomainSayWhereToGiveIt() throws Exception {
        Cli routes = ProxyProcess.runSplit(ProxyProcess.fullJar(), "pulsar", "routes", "--route-table",
                fateShipped().toString());
        assertEquals(1, routes.code());
        assertEquals("", routes.out());
        assertTrue(routes.err().contains("--domain"), routes.err());
    }

    @Test
    void clusterDescribesTheRemotePartyOfFatesShippedTable() throws Exception {
        Cli cluster = ProxyProcess.runSplit(ProxyProcess.fullJar(), "pulsar", "cluster", "--route-table",
                fateShipped().toString(), "--party", "9999");
        assertEquals(0, cluster.code(), cluster.err());
        assertTrue(cluster.out().contains("pulsar+ssl://192.168.0.4:6651"), cluster.out());
    }

    @Test
    void twoLocalPartiesAreRefusedNamingThem() throws Exception {
        Path table = dir.resolve("two-local.yaml");
        Files.writeString(table, Files.readString(fateShipped()).replace("local: false", "local: true"));
        Cli routes = ProxyProcess.runSplit(ProxyProcess.fullJar(), "pulsar", "routes", "--route-table",
                table.toString(), "--domain", "fate.org");
        assertEquals(1, routes.code());
        assertTrue(routes.err().contains("9999") && routes.err().contains("10000")
                && routes.err().contains("local"), routes.err());
    }
}
