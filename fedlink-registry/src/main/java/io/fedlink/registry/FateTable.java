package io.fedlink.registry;

import io.fedlink.pulsar.PulsarRouteTable;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The registry seen as FATE's {@code pulsar_route_table.yaml}: rendered from settings and parties, then read back by
 * {@link PulsarRouteTable#parse}, so every value the registry stores passes exactly the rules FATE's table is read
 * with (party ids, hosts, ports, domain, proxy).
 */
final class FateTable {
    private FateTable() {}

    /** The route table text for these settings and parties. */
    static String yaml(FederationSettings settings, Collection<PartyEntry> parties) {
        Map<Object, Object> root = new LinkedHashMap<>();
        Map<String, Object> def = new LinkedHashMap<>();
        def.put("domain", settings.domain());
        def.put("proxy", settings.proxy().toString());
        def.put("brokerPort", settings.brokerPort());
        def.put("brokerSslPort", settings.brokerSslPort());
        root.put("default", def);
        for (PartyEntry p : parties) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("host", p.host());
            e.put("port", p.port());
            e.put("sslPort", p.sslPort());
            root.put(PulsarRouteTable.fateKey(p.id()), e); // an integer key for a numeric id, as FATE looks it up
        }
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(root);
    }

    /** Renders and reads back; a refusal names the entry. */
    static PulsarRouteTable table(FederationSettings settings, Collection<PartyEntry> parties) {
        return PulsarRouteTable.parse(yaml(settings, parties));
    }
}
