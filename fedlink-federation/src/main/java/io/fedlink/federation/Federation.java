package io.fedlink.federation;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import io.fedlink.api.RouteTable;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One federation: its {@link FederationSettings} and its {@link Party parties}, each valid under them, by
 * {@linkplain Party#key() key} in the order given (the registry's is sorted, a federation file's is the file's). The registry stores and watches it, the bundle writes its files from it; the proxy's
 * routes, FATE's route table and the Pulsar cluster metadata are pure functions of it. Immutable.
 *
 * <pre>{@code
 * FederationSettings s = FederationSettings.of("fate.org", "proxy.fate.org:443", 0, 0);
 * Federation f = Federation.of(s, List.of(Party.of("10000", "10.0.0.2", 0, 0, List.of(), s)));
 * RouteTable routes = f.routeTable();          // 10000.fate.org -> 10.0.0.2:6651
 * String yaml = f.fateTable().toYaml();        // FATE's pulsar_route_table.yaml
 * ClusterMetadata m = f.clusterMetadata("10000"); // what another party's broker registers for 10000
 * }</pre>
 */
public final class Federation {
    private final FederationSettings settings;
    private final Map<String, Party> parties;

    private Federation(FederationSettings settings, Map<String, Party> parties) {
        this.settings = settings;
        this.parties = Collections.unmodifiableMap(parties);
    }

    /**
     * A federation of {@code parties} under {@code settings}: each party is checked against the settings (its
     * server name {@code <id>.<domain>} must be a valid name, see {@link FederationSettings#serverName}).
     *
     * @throws IllegalArgumentException naming the first party that is invalid under the settings, or an id listed
     *                                  twice (ids differing only in case are one party)
     */
    public static Federation of(FederationSettings settings, Collection<Party> parties) {
        Objects.requireNonNull(settings, "settings");
        Map<String, Party> byKey = new LinkedHashMap<>();
        for (Party p : parties) {
            if (byKey.put(p.key(), p.under(settings)) != null) {
                throw new IllegalArgumentException("party " + HostNames.quote(p.id()) + " is listed twice");
            }
        }
        return new Federation(settings, byKey);
    }

    /** The settings. */
    public FederationSettings settings() {
        return settings;
    }

    /** The parties by {@link Party#key()}, in the order given. */
    public Map<String, Party> parties() {
        return parties;
    }

    /** A party by id (case-insensitive), or {@code null}. */
    public Party party(String id) {
        return parties.get(id.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * The proxy's routes: {@code <id>.<domain> -> host:sslPort} for every party. When every party has its
     * {@linkplain Party#egress() egress} networks recorded, each route admits only clients from those networks
     * (within the route's own allow list, if any): a party removed from the federation then loses its routes and
     * its sources at once, so the proxies refuse and close its connections to the others too.
     */
    public RouteTable routeTable() {
        return routes(settings, parties.values());
    }

    /**
     * FATE's route table of this federation as the operator sees it: the settings as the {@code default} entry and
     * every party's broker. {@link PulsarRouteTable#toYaml()} prints it as {@code pulsar_route_table.yaml}.
     */
    public PulsarRouteTable fateTable() {
        return PulsarRouteTable.of(settings, parties.values());
    }

    /**
     * The Pulsar cluster metadata a party's broker registers for the remote party {@code partyId}, as FATE derives
     * it from a party's own route table (which lists only the party itself): {@code <id>.<domain>} on the default
     * ports, through the federation's proxy with SNI. A party's real host and ports are the proxy's business.
     */
    public ClusterMetadata clusterMetadata(String partyId) {
        return ClusterMetadata.forParty(PulsarRouteTable.of(settings, List.of()), partyId);
    }

    /** The routes of {@code parties} under {@code settings}. */
    static RouteTable routes(FederationSettings settings, Collection<Party> parties) {
        List<CidrBlock> sources = egressRule(parties);
        RouteTable.Builder b = RouteTable.builder();
        for (Party p : parties) {
            b.add(p.route(settings, sources));
        }
        return b.build();
    }

    /** Every party's egress networks, or {@code null} (the rule is off) when a party has none or there is none. */
    static List<CidrBlock> egressRule(Collection<Party> parties) {
        Set<CidrBlock> all = new LinkedHashSet<>();
        for (Party p : parties) {
            if (p.egress().isEmpty()) {
                return null;
            }
            all.addAll(p.egress());
        }
        return all.isEmpty() ? null : List.copyOf(all);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Federation f && f.settings.equals(settings) && f.parties.equals(parties);
    }

    @Override
    public int hashCode() {
        return Objects.hash(settings, parties);
    }

    @Override
    public String toString() {
        return settings + ", parties " + parties.values();
    }
}
