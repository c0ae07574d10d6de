package io.fedlink.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PulsarRouteTableTest {
    /** Party 10000's table from the FATE guide. */
    static final String SEED_10000 = """
            10000:
              host: 192.168.0.2
              port: 6650
            default:
              proxy: "proxy.fate.org:443"
              domain: "fate.org"
            """;

    /** The cluster metadata the FATE guide shows for party 9999 as seen from party 10000, verbatim. */
    static final String SEED_JSON = """
            {
              "serviceUrl" : "",
              "serviceUrlTls" : "",
              "brokerServiceUrl" : "pulsar://9999.fate.org:6650",
              "brokerServiceUrlTls" : "pulsar+ssl://9999.fate.org:6651",
              "proxyServiceUrl" : "pulsar+ssl://proxy.fate.org:443",
              "proxyProtocol" : "SNI",
              "peerClusterNames" : [ ]
            }""";

    @Test
    void remotePartyMetadataEqualsTheGuideByteForByte() {
        PulsarRouteTable t = PulsarRouteTable.parse(SEED_10000);
        ClusterMetadata m = ClusterMetadata.forParty(t, "9999");
        assertEquals(SEED_JSON, m.toJson());
        assertEquals("9999", m.clusterName());
    }

    @Test
    void listedPartyUsesItsOwnEntry() {
        PulsarRouteTable t = PulsarRouteTable.parse(SEED_10000);
        PulsarRouteTable.Party p = t.party("10000");
        assertEquals(new PulsarRouteTable.Party("10000", "192.168.0.2", 6650, 6651, null), p);
        ClusterMetadata m = ClusterMetadata.forParty(t, "10000");
        assertEquals("pulsar://192.168.0.2:6650", m.brokerServiceUrl());
        assertEquals("", m.proxyServiceUrl());
        assertNull(m.proxyProtocol());
        assertTrue(!m.toJson().contains("proxyProtocol"));
    }

    @Test
    void defaultsAndPortsFromTheDefaultEntry() {
        PulsarRouteTable t = PulsarRouteTable.parse("""
                9999:
                  host: 9999.internal
                  sslPort: 16651
                  proxy: "edge.fate.org:8443"
                default:
                  domain: FATE.org
                  brokerPort: 16650
                  brokerSslPort: 26651
                """);
        assertEquals(new PulsarRouteTable.Party("9999", "9999.internal", 16650, 16651, Endpoint.parse(
                "edge.fate.org:8443")), t.party("9999"));
        assertEquals(new PulsarRouteTable.Party("7777", "7777.fate.org", 16650, 26651, null), t.party("7777"));
        assertEquals("7777.fate.org", t.serverName("7777"));
    }

    @Test
    void proxyRoutesComeFromTheSameTable() {
        PulsarRouteTable t = PulsarRouteTable.parse("""
                10000:
                  host: 192.168.0.2
                9999:
                  host: 192.168.0.3
                  sslPort: 7651
                default:
                  domain: fate.org
                """);
        RouteTable routes = t.proxyRoutes();
        assertEquals(Endpoint.parse("192.168.0.2:6651"), routes.resolve("10000.fate.org").target());
        assertEquals(Endpoint.parse("192.168.0.3:7651"), routes.resolve("9999.fate.org").target());
        assertNull(routes.resolve("8888.fate.org"));
    }

    @Test
    void tlsFieldsFollowTheSevenFateFields() {
        ClusterMetadata m = ClusterMetadata.forParty(PulsarRouteTable.parse(SEED_10000), "9999")
                .withTls("/certs/ca.pem", "/certs/10000.pem", "/certs/10000-key.pem");
        String json = m.toJson();
        assertTrue(json.startsWith(SEED_JSON.substring(0, SEED_JSON.length() - 2) + ",\n"), json);
        assertTrue(json.contains("\"brokerClientTlsEnabled\" : true"), json);
        assertTrue(json.contains("\"brokerClientKeyFilePath\" : \"/certs/10000-key.pem\""), json);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "9999: { host: a.org, ports: 1 }|party 9999: unknown key 'ports'",
        "9999: { host: a.org, port: 0 }|party 9999: port '0' is not a port",
        "9999: { host: a.org, sslPort: x }|party 9999: sslPort 'x' is not a port",
        "9999: { host: 'a b' }|party 9999: invalid host 'a b'",
        "9999: { port: 6650 }|party 9999: no host, and no default.domain",
        "9999: { host: a.org, proxy: 'proxy.fate.org' }|party 9999: proxy 'proxy.fate.org' must be host:port",
        "default: { domain: 'bad_domain' }|default: invalid domain 'bad_domain'",
        "default: { domain: fate.org, brokerPort: 70000 }|default: brokerPort '70000' is not a port",
        "default: { domains: fate.org }|default: unknown key 'domains'",
        "'a.b': { host: x.org }|party 'a.b': a party id is letters",
        "9999: 6650|party 9999: expected a mapping",
        "- 1|expected a mapping of party ids",
        "9999: { host: a.org, host: b.org }|not valid YAML",
    })
    void refusesNamingTheEntry(String yaml, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PulsarRouteTable.parse(yaml));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void unknownPartyWithoutDomainIsRefused() {
        PulsarRouteTable t = PulsarRouteTable.parse("10000: { host: 192.168.0.2 }");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.party("9999")).getMessage()
                .contains("'9999' is not in the route table and it has no default.domain"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.proxyRoutes()).getMessage()
                .contains("no default.domain"));
    }
}
