package io.fedlink.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedlink.api.CidrBlock;
import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyRoute;
import io.fedlink.pulsar.PulsarRouteTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One party of a federation as the registry stores it: its id, where its broker is (host, plain and TLS ports) and
 * an optional allow list of client networks for its route on the proxy, and optionally the party's own source
 * networks ({@code egress}: where its broker's connections come from). Validated against the federation's
 * {@link FederationSettings} with the rules of FATE's route table ({@link PulsarRouteTable}) and of the proxy's
 * {@link PartyRoute}; a bad value is refused naming it.
 *
 * <p>Stored as {@code {"version":1,"id":"10000","host":"10.0.0.2","port":6650,"sslPort":6651,
 * "allow":["10.0.0.0/8"]}} under {@code <prefix>parties/<id in lower case>}. Immutable.
 */
public final class PartyEntry {
    private static final Set<String> FIELDS = Set.of("id", "host", "port", "sslPort", "allow", "egress");
    /** An allow list no client matches: what a route admits when its allow list and the egress rule do not meet. */
    private static final List<CidrBlock> NOBODY = List.of(CidrBlock.parse("0.0.0.0/32"), CidrBlock.parse("::/128"));

    private final String id;
    private final String host;
    private final int port;
    private final int sslPort;
    private final List<CidrBlock> allow;
    private final List<CidrBlock> egress;

    private PartyEntry(String id, String host, int port, int sslPort, List<CidrBlock> allow, List<CidrBlock> egress) {
        this.id = id;
        this.host = host;
        this.port = port;
        this.sslPort = sslPort;
        this.allow = List.copyOf(allow);
        this.egress = List.copyOf(egress);
    }

    /**
     * A party validated against the federation's settings.
     *
     * @param id       party id: letters, digits and '-' (1..63), not {@code default}
     * @param host     broker host (DNS name or IP literal)
     * @param port     plain broker port, or 0 for the federation's default
     * @param sslPort  TLS broker port, or 0 for the federation's default
     * @param allow    client networks allowed to use its route (CIDR), empty for every client
     * @param settings the federation's settings
     * @throws IllegalArgumentException naming the bad value
     */
    public static PartyEntry of(String id, String host, int port, int sslPort, List<String> allow,
                                FederationSettings settings) {
        return of(id, host, port, sslPort, allow, List.of(), settings);
    }

    /**
     * A party with its source networks, validated against the federation's settings.
     *
     * @param egress networks the party's own connections come from (CIDR), empty when not recorded; once every
     *               party of the federation has them, every route admits only these sources (see
     *               {@link Federation#routeTable()})
     * @see #of(String, String, int, int, List, FederationSettings)
     */
    public static PartyEntry of(String id, String host, int port, int sslPort, List<String> allow,
                                List<String> egress, FederationSettings settings) {
        return checked(List.of(unchecked(id, host, port, sslPort, allow, egress, settings)), settings).get(0);
    }

    /** The cheap checks only (id not 'default', a host given, allow and egress CIDRs); see {@link #checked}. */
    static PartyEntry unchecked(String id, String host, int port, int sslPort, List<String> allow,
                                List<String> egress, FederationSettings settings) {
        if (id == null || id.equalsIgnoreCase("default")) {
            throw new IllegalArgumentException("invalid party id " + HostNames.quote(id)
                    + ": 'default' names FATE's default entry");
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("party " + HostNames.quote(id) + ": no broker host");
        }
        return new PartyEntry(id, host.strip(), port == 0 ? settings.brokerPort() : port,
                sslPort == 0 ? settings.brokerSslPort() : sslPort, blocks(id, "allow list", allow),
                blocks(id, "egress", egress));
    }

    private static List<CidrBlock> blocks(String id, String what, List<String> cidrs) {
        List<CidrBlock> blocks = new ArrayList<>();
        for (String a : cidrs) {
            try {
                blocks.add(CidrBlock.parse(a));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("party " + HostNames.quote(id) + ": " + what + ": "
                        + e.getMessage(), e);
            }
        }
        return blocks;
    }

    /**
     * Checks parties from {@link #unchecked} together, in one pass of FATE's route-table reader, then builds each
     * one's proxy route; returns them canonicalised, in order. A refusal names the first bad party.
     */
    static List<PartyEntry> checked(Collection<PartyEntry> raw, FederationSettings settings) {
        Map<String, PulsarRouteTable.Party> fate = FateTable.table(settings, raw).parties();
        List<PartyEntry> out = new ArrayList<>(raw.size());
        for (PartyEntry r : raw) {
            PulsarRouteTable.Party c = fate.get(r.id);
            PartyEntry p = new PartyEntry(r.id, c.host(), c.port(), c.sslPort(), r.allow, r.egress);
            p.route(settings); // the proxy's rules for the server name and target
            out.add(p);
        }
        return out;
    }

    /** Reads a stored party and checks it; {@code what} names the key in errors. */
    static PartyEntry fromJson(String what, byte[] value, FederationSettings settings) {
        PartyEntry raw = uncheckedFromJson(what, value, settings);
        return RegistryJson.in(what, () -> checked(List.of(raw), settings).get(0));
    }

    /** Reads a stored party with the cheap checks only; {@code what} names the key in errors. */
    static PartyEntry uncheckedFromJson(String what, byte[] value, FederationSettings settings) {
        ObjectNode o = RegistryJson.parse(what, value, FIELDS);
        String id = RegistryJson.text(what, o, "id");
        String host = RegistryJson.text(what, o, "host");
        int port = RegistryJson.port(what, o, "port", settings.brokerPort());
        int sslPort = RegistryJson.port(what, o, "sslPort", settings.brokerSslPort());
        List<String> allow = cidrs(what, o, "allow");
        List<String> egress = cidrs(what, o, "egress");
        return RegistryJson.in(what, () -> unchecked(id, host, port, sslPort, allow, egress, settings));
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

    /** The stored form. */
    byte[] toJson() {
        ObjectNode o = RegistryJson.object().put("id", id).put("host", host).put("port", port).put("sslPort", sslPort);
        if (!allow.isEmpty()) {
            ArrayNode a = o.putArray("allow");
            allow.forEach(b -> a.add(b.toString()));
        }
        if (!egress.isEmpty()) { // written only when given, so values without it stay readable by older proxies
            ArrayNode a = o.putArray("egress");
            egress.forEach(b -> a.add(b.toString()));
        }
        return RegistryJson.bytes(o);
    }

    /** The proxy route: {@code <id>.<domain> -> host:sslPort}, with the allow list. */
    public PartyRoute route(FederationSettings settings) {
        return route(settings, null);
    }

    /**
     * The proxy route under the federation's egress rule: with {@code sources} (every party's egress networks, or
     * {@code null} when the rule is off) the route admits only clients from them, and within its own allow list
     * when it has one (the blocks both lists contain).
     */
    PartyRoute route(FederationSettings settings, List<CidrBlock> sources) {
        List<CidrBlock> admitted = allow;
        if (sources != null) {
            admitted = allow.isEmpty() ? sources : intersection(allow, sources);
        }
        return PartyRoute.builder(id + "." + settings.domain()).target(Endpoint.of(host, sslPort))
                .allowClients(admitted).build();
    }

    /** The blocks in both lists (two CIDR blocks meet only when one contains the other); never empty. */
    private static List<CidrBlock> intersection(List<CidrBlock> a, List<CidrBlock> b) {
        List<CidrBlock> out = new ArrayList<>();
        for (CidrBlock x : a) {
            for (CidrBlock y : b) {
                CidrBlock both = x.contains(y) ? y : y.contains(x) ? x : null;
                if (both != null && !out.contains(both)) {
                    out.add(both);
                }
            }
        }
        return out.isEmpty() ? NOBODY : out;
    }

    /** The key part ids are compared by: ids differing only in case name the same server and clash. */
    public String key() {
        return id.toLowerCase(Locale.ROOT);
    }

    /** The party id as given. */
    public String id() {
        return id;
    }

    /** Canonical broker host. */
    public String host() {
        return host;
    }

    /** Plain broker port. */
    public int port() {
        return port;
    }

    /** TLS broker port. */
    public int sslPort() {
        return sslPort;
    }

    /** Client networks allowed to use the route; empty for every client. */
    public List<CidrBlock> allow() {
        return allow;
    }

    /** Networks the party's own connections come from; empty when not recorded. */
    public List<CidrBlock> egress() {
        return egress;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PartyEntry p && p.id.equals(id) && p.host.equals(host) && p.port == port
                && p.sslPort == sslPort && p.allow.equals(allow) && p.egress.equals(egress);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, host, port, sslPort, allow, egress);
    }

    @Override
    public String toString() {
        return id + " " + host + ":" + port + "/" + sslPort + (allow.isEmpty() ? "" : " allow " + allow)
                + (egress.isEmpty() ? "" : " egress " + egress);
    }
}
