package io.fedlink.registry;

import io.fedlink.api.HostNames;
import io.fedlink.api.RouteTable;
import io.fedlink.federation.Federation;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import io.fedlink.federation.PulsarRouteTable;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable snapshot of one federation read from the registry: its settings (or {@code null} before
 * {@code init}), its valid parties by id key, the values that were skipped as invalid (key -> reason), and the etcd
 * revision it was read at. The {@link Federation} model of it ({@link #federation()}) gives the proxy's routes and
 * FATE's route table.
 *
 * @param keys     the federation's key layout
 * @param settings the settings, or {@code null} when the federation was not initialised (or its settings are invalid)
 * @param parties  valid parties by {@link Party#key()}, sorted
 * @param skipped  invalid values by etcd key, with the reason
 * @param revision the etcd revision of the read
 */
public record FederationSnapshot(RegistryKeys keys, FederationSettings settings, SortedMap<String, Party> parties,
                                 SortedMap<String, String> skipped, long revision) {

    /** Freezes the maps. */
    public FederationSnapshot {
        parties = Collections.unmodifiableSortedMap(new TreeMap<>(parties));
        skipped = Collections.unmodifiableSortedMap(new TreeMap<>(skipped));
    }

    /** Whether the federation has settings. */
    public boolean initialised() {
        return settings != null;
    }

    /** A party by id (case-insensitive), or {@code null}. */
    public Party party(String id) {
        return parties.get(id.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * The model: the settings and the valid parties.
     *
     * @throws IllegalStateException when the federation has no settings ({@code fedlink federation init} not run)
     */
    public Federation federation() {
        if (settings == null) {
            throw new IllegalStateException("federation " + HostNames.quote(keys.federation())
                    + " has no settings: run 'fedlink federation init' first");
        }
        return Federation.of(settings, parties.values());
    }

    /** The proxy's routes ({@link Federation#routeTable()}); an empty table without settings. */
    public RouteTable routeTable() {
        return settings == null ? RouteTable.empty() : federation().routeTable();
    }

    /** FATE's {@code pulsar_route_table.yaml} for this federation. */
    public String fateYaml() {
        return pulsarRouteTable().toYaml();
    }

    /** FATE's route table for this federation (for {@code FederationAdmin} and Pulsar clients). */
    public PulsarRouteTable pulsarRouteTable() {
        return federation().fateTable();
    }
}
