package io.fedlink.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import io.fedlink.federation.PulsarRouteTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How the registry stores the {@link io.fedlink.federation.Federation} model, with {@link RegistryJson}'s rules:
 * settings as {@code {"version":1,"domain":"fate.org","proxy":"proxy.fate.org:443","brokerPort":6650,
 * "brokerSslPort":6651}} and each party as {@code {"version":1,"id":"10000","host":"10.0.0.2","port":6650,
 * "sslPort":6651,"allow":["10.0.0.0/8"],"egress":["192.0.2.0/24"],"reach":"agent"}} under {@code <prefix>parties/<id in lower
 * case>}. A value is read back through the model's own checks, so a bad one is refused naming its key.
 */
final class FederationJson {
    private static final Set<String> SETTINGS_FIELDS = Set.of("domain", "proxy", "brokerPort", "brokerSslPort");
    private static final Set<String> PARTY_FIELDS = Set.of("id", "host", "port", "sslPort", "allow", "egress",
            "reach");

    private FederationJson() {}

    /** Reads stored settings; {@code what} names the key in errors. */
    static FederationSettings settings(String what, byte[] value) {
        ObjectNode o = RegistryJson.parse(what, value, SETTINGS_FIELDS);
        String domain = RegistryJson.text(what, o, "domain");
        String proxy = RegistryJson.text(what, o, "proxy");
        int port = RegistryJson.port(what, o, "brokerPort", PulsarRouteTable.DEFAULT_BROKER_PORT);
        int sslPort = RegistryJson.port(what, o, "brokerSslPort", PulsarRouteTable.DEFAULT_BROKER_SSL_PORT);
        return RegistryJson.in(what, () -> FederationSettings.of(domain, proxy, port, sslPort));
    }

    /** The stored form of settings. */
    static byte[] bytes(FederationSettings s) {
        return RegistryJson.bytes(RegistryJson.object().put("domain", s.domain()).put("proxy", s.proxy().toString())
                .put("brokerPort", s.brokerPort()).put("brokerSslPort", s.brokerSslPort()));
    }

    /**
     * Reads a stored party and checks it against {@code settings}; {@code what} names the key in errors.
     *
     * @param keyId the id its key names (lower case), or {@code null} not to compare: a value whose id is not its
     *              key's is refused before anything else is checked
     */
    static Party party(String what, byte[] value, String keyId, FederationSettings settings) {
        ObjectNode o = RegistryJson.parse(what, value, PARTY_FIELDS);
        String id = RegistryJson.text(what, o, "id");
        String host = RegistryJson.text(what, o, "host");
        int port = RegistryJson.port(what, o, "port", settings.brokerPort());
        int sslPort = RegistryJson.port(what, o, "sslPort", settings.brokerSslPort());
        List<String> allow = cidrs(what, o, "allow");
        List<String> egress = cidrs(what, o, "egress");
        JsonNode reach = o.get("reach");
        if (reach != null && !(reach.isTextual() && (reach.textValue().equals("agent")
                || reach.textValue().equals("direct")))) {
            throw new IllegalArgumentException(what + ": field 'reach' must be \"direct\" or \"agent\", found "
                    + HostNames.quote(reach.toString()));
        }
        boolean viaAgent = reach != null && reach.textValue().equals("agent");
        if (keyId != null && !id.toLowerCase(Locale.ROOT).equals(keyId)) {
            throw new IllegalArgumentException(what + ": id " + HostNames.quote(id) + " does not match its key");
        }
        return RegistryJson.in(what, () -> {
            Party p = Party.of(id, host, port, sslPort, allow, egress, settings);
            return viaAgent ? p.reachedThroughAgent() : p;
        });
    }

    /** An optional list of CIDR strings. */
    private static List<String> cidrs(String what, ObjectNode o, String field) {
        List<String> out = new ArrayList<>();
        JsonNode a = o.get(field);
        if (a != null) {
            if (!a.isArray()) {
                throw new IllegalArgumentException(what + ": field '" + field + "' must be a list of CIDR blocks, "
                        + "found " + HostNames.quote(a.toString()));
            }
            for (JsonNode n : a) {
                if (!n.isTextual()) {
                    throw new IllegalArgumentException(what + ": '" + field + "' entry "
                            + HostNames.quote(n.toString()) + " is not a string");
                }
                out.add(n.textValue());
            }
        }
        return out;
    }

    /** The stored form of a party. */
    static byte[] bytes(Party p) {
        ObjectNode o = RegistryJson.object().put("id", p.id()).put("host", p.host()).put("port", p.port())
                .put("sslPort", p.sslPort());
        blocks(o, "allow", p.allow());
        blocks(o, "egress", p.egress()); // written only when given, so values without it stay readable by older proxies
        if (p.viaAgent()) {
            o.put("reach", "agent"); // likewise: a party reached directly is written as before
        }
        return RegistryJson.bytes(o);
    }

    private static void blocks(ObjectNode o, String field, List<CidrBlock> blocks) {
        if (!blocks.isEmpty()) {
            ArrayNode a = o.putArray(field);
            blocks.forEach(b -> a.add(b.toString()));
        }
    }
}
