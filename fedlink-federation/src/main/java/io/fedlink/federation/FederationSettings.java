package io.fedlink.federation;

import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import java.util.Objects;

/**
 * A federation's settings: the domain party names live in ({@code <party>.<domain>}, {@link #serverName}), the
 * proxy address as parties dial it, and the broker ports a party gets when it names none. Validated with the rules
 * of FATE's route table {@code default} entry ({@link PulsarRouteTable}); a bad value is refused naming it.
 * Immutable.
 */
public final class FederationSettings {
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
        return new FederationSettings(HostNames.canonicalDnsName(domain), p,
                PulsarRouteTable.port("default", "brokerPort", brokerPort == 0 ? null : brokerPort,
                        PulsarRouteTable.DEFAULT_BROKER_PORT),
                PulsarRouteTable.port("default", "brokerSslPort", brokerSslPort == 0 ? null : brokerSslPort,
                        PulsarRouteTable.DEFAULT_BROKER_SSL_PORT));
    }

    /**
     * The naming rule: party {@code partyId} is {@code <partyId>.<domain>}, the TLS server name its broker's
     * certificate carries and the proxy routes by.
     *
     * @throws IllegalArgumentException naming the id when it is not a party id ({@link PartyIds#RULE})
     */
    public static String serverName(String partyId, String domain) {
        if (!PartyIds.isValid(partyId)) {
            throw new IllegalArgumentException("invalid party id " + HostNames.quote(partyId) + ": " + PartyIds.RULE);
        }
        return partyId + "." + domain;
    }

    /** The server name of party {@code partyId} in this federation ({@link #serverName(String, String)}). */
    public String serverName(String partyId) {
        return serverName(partyId, domain);
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
