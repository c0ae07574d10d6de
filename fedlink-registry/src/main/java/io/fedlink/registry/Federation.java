package io.fedlink.registry;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import io.fedlink.api.RouteTable;
import io.fedlink.pulsar.PulsarRouteTable;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable snapshot of one federation read from the registry: its settings (or {@code null} before
 * {@code init}), its valid parties by id key, the values that were skipped as invalid (key -> reason), and the etcd
 * revision it was read at. The proxy's routes and FATE's route table are views of it.
 *
 * @param keys     the federation's key layout
 * @param settings the settings, or {@code null} when the federation was not initialised (or its settings are invalid)
 * @param parties  valid parties by {@link PartyEntry#key()}, sorted
 * @param skipped  invalid values by etcd key, with the reason
 * @param revision the etcd revision of the read
 */
public record Federation(RegistryKeys keys, FederationSettings settings, SortedMap<String, PartyEntry> parties,
                         SortedMap<String, String> skipped, long revision) {

    /** Freezes the maps. */
    public Federation {
        parties = Collections.unmodifiableSortedMap(new TreeMap<>(parties));
        skipped = Collections.unmodifiableSortedMap(new TreeMap<>(skipped));
    }

    /** Whether the federation has settings. */
    public boolean initialised() {
        return settings != null;
    }

    /** A party by id (case-insensitive), or {@code null}. */
    public PartyEntry party(String id) {
        return parties.get(id.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * The proxy's routes: {@code <id>.<domain> -> host:sslPort} for every valid party. When every party has its
     * {@linkplain PartyEntry#egress() egress} networks recorded, each route admits only clients from those networks
     * (within the route's own allow list, if any): a party removed from the registry then loses its routes and its
     * sources at once, so the proxies refuse and close its connections to the others too.
     */
    public RouteTable routeTable() {
        return routes(settings, parties.values());
    }

    /** FATE's {@code pulsar_route_table.yaml} for this federation. */
    public String fateYaml() {
        return FateTable.yaml(requireSettings(), parties.values());
    }

    /** FATE's route table for this federation (for {@code FederationAdmin} and Pulsar clients). */
    public PulsarRouteTable pulsarRouteTable() {
        return FateTable.table(requireSettings(), parties.values());
    }

    private FederationSettings requireSettings() {
        if (settings == null) {
            throw new IllegalStateException("federation " + HostNames.quote(keys.federation())
                    + " has no settings: run 'fedlink federation init' first");
        }
        return settings;
    }

    /** The routes of {@code parties}; an empty table without settings. */
    static RouteTable routes(FederationSettings settings, Iterable<PartyEntry> parties) {
        if (settings == null) {
            return RouteTable.empty();
        }
        List<CidrBlock> sources = egressRule(parties);
        RouteTable.Builder b = RouteTable.builder();
        for (PartyEntry p : parties) {
            b.add(p.route(settings, sources));
        }
        return b.build();
    }

    /** Every party's egress networks, or {@code null} (the rule is off) when a party has none or there is none. */
    static List<CidrBlock> egressRule(Iterable<PartyEntry> parties) {
        Set<CidrBlock> all = new LinkedHashSet<>();
        for (PartyEntry p : parties) {
            if (p.egress().isEmpty()) {
                return null;
            }
            all.addAll(p.egress());
        }
        return all.isEmpty() ? null : List.copyOf(all);
    }
}
