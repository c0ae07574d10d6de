package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteTable;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code tunnel_route} as a list of targets and the {@code balance} key: read, written, refused. */
class SniYamlTargetsTest {
    @Test
    void readsAListAndAPolicyAndWritesThemBack() {
        RouteTable t = SniYaml.parse("""
                sni:
                - fqdn: 10000.fate.org
                  tunnel_route:
                  - 192.168.0.2:6651
                  - '[::1]:6651'
                  balance: least_connections
                - fqdn: '*.eu.fate.org'
                  tunnel_route: [ $1.a.internal:6651, $1.b.internal:6651 ]
                - fqdn: 9999.fate.org
                  tunnel_route: 192.168.0.3:6651
                """);
        PartyRoute p = t.resolve("10000.fate.org");
        assertEquals(List.of(Endpoint.parse("192.168.0.2:6651"), Endpoint.parse("[::1]:6651")), p.targets());
        assertEquals(PartyRoute.Balancing.LEAST_CONNECTIONS, p.balancing());
        PartyRoute eu = t.resolve("x.eu.fate.org");
        assertEquals(Endpoint.parse("x.b.internal:6651"), eu.targetFor(1, "x.eu.fate.org"));
        assertEquals(PartyRoute.Balancing.ROUND_ROBIN, eu.balancing());
        assertEquals(List.of(Endpoint.parse("192.168.0.3:6651")), t.resolve("9999.fate.org").targets());

        String written = SniYaml.write(t);
        assertEquals(t.routes(), SniYaml.parse(written).routes(), "written, then read back: the same routes");
        assertTrue(written.contains("""
                  - fqdn: 10000.fate.org
                    tunnel_route:
                      - 192.168.0.2:6651
                      - '[::1]:6651'
                    balance: least_connections
                """), written);
        assertTrue(written.contains("""
                  - fqdn: 9999.fate.org
                    tunnel_route: 192.168.0.3:6651
                """), "a single target keeps Traffic Server's plain form: " + written);
    }

    @Test
    void aSingleTargetTableIsWrittenInTrafficServersPlainForm() {
        RouteTable t = SniYaml.parse("""
                sni:
                  - fqdn: 10000.fate.org
                    tunnel_route: 192.168.0.2:6651
                """);
        assertEquals("sni:\n  - fqdn: 10000.fate.org\n    tunnel_route: 192.168.0.2:6651\n", SniYaml.write(t));
        RouteTable listOfOne = SniYaml.parse("sni: [ { fqdn: 10000.fate.org, tunnel_route: [ '192.168.0.2:6651' ] } ]");
        assertEquals(t.routes(), listOfOne.routes(), "a list of one is the same route as the plain form");
        assertFalse(SniYaml.write(listOfOne).contains("balance"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "sni: [ { fqdn: a.org, tunnel_route: [] } ]|sni[0] (fqdn 'a.org'): tunnel_route is an empty list",
        "sni: [ { fqdn: a.org, tunnel_route: [ '1.2.3.4:1', { x: 1 } ] } ]|sni[0] (fqdn 'a.org'): tunnel_route[1] must be a host:port string",
        "sni: [ { fqdn: a.org, tunnel_route: [ '1.2.3.4:1', '1.2.3.4' ] } ]|sni[0] (fqdn 'a.org'): tunnel_route[1] '1.2.3.4' must be host:port",
        "sni: [ { fqdn: a.org, tunnel_route: [ '1.2.3.4:1', '1.2.3.4:x' ] } ]|tunnel_route[1] '1.2.3.4:x' has no numeric port",
        "sni: [ { fqdn: a.org, tunnel_route: [ '1.2.3.4:1', '1.2.3.4:1' ] } ]|sni[0] (fqdn 'a.org'): route 'a.org' lists target '1.2.3.4:1' twice",
        "sni: [ { fqdn: '*.a.org', tunnel_route: [ '$1.x:1', '1.2.3.4:1' ] } ]|sni[0] (fqdn '*.a.org'): route '*.a.org' mixes $1 templates",
        "sni: [ { fqdn: a.org, tunnel_route: [ '1.2.3.4:1', '1.2.3.5:1' ], balance: random } ]|sni[0] (fqdn 'a.org'): balancing 'random' must be round_robin or least_connections",
        "sni: [ { fqdn: a.org, tunnel_route: '1.2.3.4:1', balance: [ x ] } ]|balance must be round_robin or least_connections",
    })
    void refusalsNameTheEntry(String yaml, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SniYaml.parse(yaml));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void moreThanSixtyFourTargetsAreRefusedNamingTheEntry() {
        StringBuilder y = new StringBuilder("sni:\n- fqdn: a.org\n  tunnel_route:\n");
        for (int i = 1; i <= 65; i++) {
            y.append("  - 127.0.0.1:").append(i).append('\n');
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SniYaml.parse(y.toString()));
        assertEquals("sni[0] (fqdn 'a.org'): tunnel_route lists 65 targets, more than the 64 a route may list",
                e.getMessage());
    }
}
