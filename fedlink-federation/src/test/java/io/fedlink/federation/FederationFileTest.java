package io.fedlink.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The federation file read into the model. */
class FederationFileTest {
    static final String FILE = """
            domain: FATE.org
            proxy: { host: proxy.fate.org, port: 443, install_dir: /etc/fedlink-proxy }
            parties:
              - { id: "10000", address: 192.168.0.2 }
              - { id: "9999", address: 192.168.0.3, sslPort: 16651, install_dir: /opt/fedlink }
            """;

    @Test
    void fileToModelInFileOrder() {
        FederationFile f = FederationFile.parse(FILE);
        assertEquals("fate.org", f.domain());
        assertEquals(Endpoint.parse("proxy.fate.org:443"), f.proxy());
        assertEquals(Endpoint.parse("0.0.0.0:443"), f.listen(), "listen defaults to every address, the proxy's port");
        assertEquals("/etc/fedlink-proxy", f.proxyInstallDir());
        assertEquals(List.of(new FederationFile.Entry("10000", "192.168.0.2", 6650, 6651, null),
                new FederationFile.Entry("9999", "192.168.0.3", 6650, 16651, "/opt/fedlink")), f.parties());
        assertEquals(List.of("10000.fate.org -> 192.168.0.2:6651", "9999.fate.org -> 192.168.0.3:16651"),
                f.federation().routeTable().routes().stream().map(PartyRoute::toString).toList(),
                "the file's order, not sorted");
        assertEquals("pulsar+ssl://proxy.fate.org:443", f.federation().clusterMetadata("9999").proxyServiceUrl());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "address: 192.168.0.2|adress: 192.168.0.2|parties[0]: unknown key 'adress'",
        "\"9999\"|\"10000\"|parties[1]: party 10000 is listed twice",
        "\"9999\"|root|party id 'root' is reserved",
        "port: 443|port: 0|proxy.port: invalid port '0': 1..65535",
        "192.168.0.3|'bad host'|party 9999: invalid host 'bad host'",
        "domain: FATE.org|domain: [a]|domain: expected a value",
    })
    void refusalsNameTheEntry(String from, String to, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FederationFile.parse(FILE.replace(from, to)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
