package io.fedlink.registry;

import io.fedlink.api.HostNames;
import io.fedlink.api.RouteTable;
import io.fedlink.pulsar.PulsarRouteTable;
import java.util.Collections;
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

    /** The proxy's routes: {@code <id>.<domain> -> host:sslPort} for every valid party. */
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
        RouteTable.Builder b = RouteTable.builder();
        for (PartyEntry p : parties) {
            b.add(p.route(settings));
        }
        return b.build();
    }
}
