package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RouteTable;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SniYamlTest {
    @Test
    void readsTheFateGuidesFile() {
        // The route table of the FATE "Exchange with Pulsar" guide, as written there.
        RouteTable t = SniYaml.parse("""
                sni:
                  - fqdn: 10000.fate.org
                    tunnel_route: 192.168.0.2:6651
                  - fqdn: 9999.fate.org
                    tunnel_route: 192.168.0.3:6651
                """);
        assertEquals(Endpoint.parse("192.168.0.2:6651"), t.resolve("10000.fate.org").target());
        assertEquals(Endpoint.parse("192.168.0.3:6651"), t.resolve("9999.fate.org").target());
        assertEquals(null, t.resolve("8888.fate.org"));
    }

    @Test
    void wildcardsCapturesAllowListsAndProxyProtocol() throws Exception {
        RouteTable t = SniYaml.parse("""
                sni:
                - fqdn: '*.eu.fate.org'
                  tunnel_route: $1.eu.internal:6651
                  ip_allow: 10.0.0.0/8, 192.168.1.0/24
                  proxy_protocol: v2
                - fqdn: v6.fate.org
                  tunnel_route: '[::1]:6651'
                  ip_allow: [ '::1', 127.0.0.1 ]
                - fqdn: '*'
                  tunnel_route: 127.0.0.9:6651
                """);
        var eu = t.resolve("party.eu.fate.org");
        assertEquals(Endpoint.parse("party.eu.internal:6651"), eu.targetFor("party.eu.fate.org"));
        assertTrue(eu.allows(InetAddress.getByName("192.168.1.7")));
        assertEquals(false, eu.allows(InetAddress.getByName("192.168.2.7")));
        assertEquals(ProxyProtocol.V2, eu.proxyProtocol());
        assertEquals(Endpoint.parse("[::1]:6651"), t.resolve("v6.fate.org").target());
        assertTrue(t.resolve("v6.fate.org").allows(InetAddress.getByName("127.0.0.1")));
        assertEquals(Endpoint.parse("127.0.0.9:6651"), t.resolve("elsewhere.org").target());
        assertEquals(t.routes(), SniYaml.parse(SniYaml.write(t)).routes(), "written, then read back: the same routes");
    }

    @Test
    void aRouteMayBeServedByAPartysAgent() {
        RouteTable t = SniYaml.parse("""
                sni:
                - fqdn: 10001.fate.org
                  agent: 10001
                - fqdn: 9999.fate.org
                  tunnel_route: 127.0.0.9:6651
                """);
        var r = t.resolve("10001.fate.org");
        assertTrue(r.viaAgent());
        assertEquals("10001", r.agentParty());
        assertEquals(0, r.targetCount());
        assertEquals("agent:10001", r.targetSpec());
        assertEquals(t.routes(), SniYaml.parse(SniYaml.write(t)).routes(), "written, then read back: the same routes");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "sni: []\\nextra: 1|unexpected top-level keys",
        "routes: []|expected a top-level 'sni:' list",
        "sni: [ 1 ]|sni[0]: expected a mapping",
        "sni: [ { fqdn: a.org } ]|sni[0] (fqdn 'a.org'): missing tunnel_route",
        "sni: [ { tunnel_route: '1.2.3.4:1' } ]|sni[0]: missing fqdn",
        "sni: [ { fqdn: a.org, tunnel_route: 1.2.3.4 } ]|tunnel_route '1.2.3.4' must be host:port",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:x' } ]|has no numeric port",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:70000' } ]|invalid port 70000",
        "sni: [ { fqdn: 'a_b.org', tunnel_route: '1.2.3.4:1' } ]|invalid server name 'a_b.org'",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:1', ip_allow: '10.0.0.1/8' } ]|host bits set",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:1', proxy_protocol: v3 } ]|must be v1, v2 or none",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:1', verify_client: STRICT } ]|unsupported key 'verify_client'",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:1' }, { fqdn: A.org., tunnel_route: '1.2.3.4:2' } ]|sni[1] (fqdn 'A.org.'): duplicate route",
        "sni: [ { fqdn: a.org, fqdn: b.org, tunnel_route: '1.2.3.4:1' } ]|not valid YAML",
        "sni: [ { fqdn: a.org, tunnel_route: '$1:1' } ]|uses $1 but the name is not a *.suffix wildcard",
        "'sni: [ {'|not valid YAML",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:1', agent: '10000' } ]|either tunnel_route or agent, not both",
        "sni: [ { fqdn: a.org, agent: root } ]|agent: party id 'root' is reserved",
        "sni: [ { fqdn: a.org, agent: 'a.b' } ]|agent: invalid party id 'a.b'",
        "sni: [ { fqdn: a.org, agent: [ 1 ] } ]|agent must be a string",
    })
    void refusesNamingTheEntry(String yaml, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SniYaml.parse(yaml.replace("\\n", "\n")));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void fileErrorsNameTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sni.yaml");
        Files.writeString(f, "sni: [ { fqdn: a.org } ]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SniYaml.read(f));
        assertTrue(e.getMessage().startsWith(f + ": sni[0]"), e.getMessage());
        Files.write(f, new byte[(1 << 20) + 1]);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SniYaml.read(f)).getMessage()
                .contains("more than the 1 MiB"));
    }
}
