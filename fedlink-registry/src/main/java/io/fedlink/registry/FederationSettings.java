package io.fedlink.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.pulsar.PulsarRouteTable;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A federation's settings, stored once under its prefix: the domain party names live in ({@code <party>.<domain>}),
 * the proxy address as parties dial it, and the broker ports a party gets when it names none. Validated with the
 * rules of FATE's route table {@code default} entry ({@link PulsarRouteTable}); a bad value is refused naming it.
 *
 * <p>Stored as {@code {"version":1,"domain":"fate.org","proxy":"proxy.fate.org:443","brokerPort":6650,
 * "brokerSslPort":6651}}. Immutable.
 */
public final class FederationSettings {
    private static final Set<String> FIELDS = Set.of("domain", "proxy", "brokerPort", "brokerSslPort");

    private final String domain;
    private final Endpoint proxy;
    private final int brokerPort;
    private final int brokerSslPort;

    private FederationSettings(String domain, Endpoint proxy, int brokerPort, int brokerSslPort) {
        this.domain = domain;
        this.proxy = proxy;
        this.brokerPort = brokerPort;
        this.brokerSslPort = brokerSslPort;
    }

    /**
     * Validated settings.
     *
     * @param domain        DNS domain of the parties' server names
     * @param proxy         the SNI proxy as parties dial it, {@code host:port}
     * @param brokerPort    default plain broker port (FATE's 6650 when 0)
     * @param brokerSslPort default TLS broker port (FATE's 6651 when 0)
     * @throws IllegalArgumentException naming the bad value
     */
    public static FederationSettings of(String domain, String proxy, int brokerPort, int brokerSslPort) {
        if (domain == null || !HostNames.isDnsName(domain)) {
            throw new IllegalArgumentException("invalid domain " + HostNames.quote(domain) + ": "
                    + HostNames.dnsNameProblem(domain));
        }
        if (proxy == null || proxy.isBlank()) {
            throw new IllegalArgumentException("the federation needs the proxy address (host:port) parties dial");
        }
        Endpoint p;
        try {
            p = Endpoint.parse(proxy);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid proxy address: " + e.getMessage(), e);
        }
        FederationSettings s = new FederationSettings(HostNames.canonicalDnsName(domain), p,
                brokerPort == 0 ? PulsarRouteTable.DEFAULT_BROKER_PORT : brokerPort,
                brokerSslPort == 0 ? PulsarRouteTable.DEFAULT_BROKER_SSL_PORT : brokerSslPort);
        FateTable.table(s, List.of()); // FATE's rules for the default entry
        return s;
    }

    /** Reads stored settings; {@code what} names the key in errors. */
    static FederationSettings fromJson(String what, byte[] value) {
        ObjectNode o = RegistryJson.parse(what, value, FIELDS);
        String domain = RegistryJson.text(what, o, "domain");
        String proxy = RegistryJson.text(what, o, "proxy");
        int port = RegistryJson.port(what, o, "brokerPort", PulsarRouteTable.DEFAULT_BROKER_PORT);
        int sslPort = RegistryJson.port(what, o, "brokerSslPort", PulsarRouteTable.DEFAULT_BROKER_SSL_PORT);
        return RegistryJson.in(what, () -> of(domain, proxy, port, sslPort));
    }

    /** The stored form. */
    byte[] toJson() {
        return RegistryJson.bytes(RegistryJson.object().put("domain", domain).put("proxy", proxy.toString())
                .put("brokerPort", brokerPort).put("brokerSslPort", brokerSslPort));
    }

    /** The canonical domain. */
    public String domain() {
        return domain;
    }

    /** The proxy parties dial. */
    public Endpoint proxy() {
        return proxy;
    }

    /** Default plain broker port. */
    public int brokerPort() {
        return brokerPort;
    }

    /** Default TLS broker port. */
    public int brokerSslPort() {
        return brokerSslPort;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FederationSettings s && s.domain.equals(domain) && s.proxy.equals(proxy)
                && s.brokerPort == brokerPort && s.brokerSslPort == brokerSslPort;
    }

    @Override
    public int hashCode() {
        return Objects.hash(domain, proxy, brokerPort, brokerSslPort);
    }

    @Override
    public String toString() {
        return "domain " + domain + ", proxy " + proxy + ", broker ports " + brokerPort + "/" + brokerSslPort;
    }
}
