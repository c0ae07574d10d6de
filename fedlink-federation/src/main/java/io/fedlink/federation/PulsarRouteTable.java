package io.fedlink.federation;

import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import io.fedlink.api.RouteTable;
import io.fedlink.api.SafeYaml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * FATE's {@code conf/pulsar_route_table.yaml}, read as FATE reads it: per-party entries keyed by party id with
 * {@code host}, {@code port}, {@code sslPort}, {@code proxy} and {@code local} (FATE marks its own party
 * {@code local: true}, the others {@code false}), and a {@code default} entry with {@code domain},
 * {@code proxy}, {@code brokerPort} and {@code brokerSslPort} (ports default to 6650 and 6651). A party missing from
 * the table is reached as {@code <party>.<domain>} through {@code default.proxy}.
 *
 * <pre>
 * 10000:
 *   host: 192.168.0.2
 *   port: 6650
 * default:
 *   proxy: "proxy.fate.org:443"
 *   domain: "fate.org"
 * </pre>
 *
 * <p>Refused, naming the entry: unknown keys, ports outside 1..65535 or not numbers, invalid hosts or party ids,
 * a proxy that is not {@code host:port}, a missing {@code default.domain} when some party needs it, and duplicate
 * YAML keys. It is also the one source of truth for the SNI proxy's routes ({@link #proxyRoutes()}).
 */
public final class PulsarRouteTable {
    /** Pulsar's binary port. */
    public static final int DEFAULT_BROKER_PORT = 6650;
    /** Pulsar's TLS binary port. */
    public static final int DEFAULT_BROKER_SSL_PORT = 6651;

    private static final Set<String> PARTY_KEYS = Set.of("host", "port", "sslPort", "proxy", "local");
    private static final Set<String> DEFAULT_KEYS = Set.of("domain", "proxy", "brokerPort", "brokerSslPort");

    /**
     * Where one party's Pulsar is.
     *
     * @param partyId the party id
     * @param host    broker host (a DNS name or IP)
     * @param port    binary port
     * @param sslPort TLS binary port
     * @param proxy   the SNI proxy ({@code host:port}) in front of it, or {@code null} for a direct connection
     */
    public record Party(String partyId, String host, int port, int sslPort, Endpoint proxy) {}

    private final Map<String, Party> parties;
    private final String domain;
    private final Endpoint defaultProxy;
    private final int brokerPort;
    private final int brokerSslPort;
    private final String localParty;

    private PulsarRouteTable(Map<String, Party> parties, String domain, Endpoint defaultProxy, int brokerPort,
                             int brokerSslPort, String localParty) {
        this.parties = Collections.unmodifiableMap(parties);
        this.localParty = localParty;
        this.domain = domain;
        this.defaultProxy = defaultProxy;
        this.brokerPort = brokerPort;
        this.brokerSslPort = brokerSslPort;
    }

    /** Reads a route table file; errors name the file and the entry. */
    public static PulsarRouteTable read(Path file) throws IOException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses route table text. */
    public static PulsarRouteTable parse(String yaml) {
        Object root = SafeYaml.load(yaml);
        if (!(root instanceof Map<?, ?> top)) {
            throw new IllegalArgumentException("expected a mapping of party ids (and 'default') to entries");
        }
        String domain = null;
        Endpoint defaultProxy = null;
        int brokerPort = DEFAULT_BROKER_PORT;
        int brokerSslPort = DEFAULT_BROKER_SSL_PORT;
        Object d = top.get("default");
        if (d != null) {
            Map<?, ?> def = mapping("default", d, DEFAULT_KEYS);
            if (def.get("domain") != null) {
                String dom = string(def.get("domain"));
                if (!HostNames.isDnsName(dom)) {
                    throw new IllegalArgumentException("default: invalid domain " + HostNames.quote(dom));
                }
                domain = HostNames.canonicalDnsName(dom);
            }
            defaultProxy = proxy("default", def.get("proxy"));
            brokerPort = port("default", "brokerPort", def.get("brokerPort"), DEFAULT_BROKER_PORT);
            brokerSslPort = port("default", "brokerSslPort", def.get("brokerSslPort"), DEFAULT_BROKER_SSL_PORT);
        }
        Map<String, Party> parties = new LinkedHashMap<>();
        String localParty = null;
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String id = String.valueOf(e.getKey());
            if (id.equals("default")) {
                continue;
            }
            checkId(id);
            Map<?, ?> p = mapping("party " + id, e.getValue(), PARTY_KEYS);
            Object h = p.get("host");
            String host;
            if (h == null) {
                if (domain == null) {
                    throw new IllegalArgumentException("party " + id + ": no host, and no default.domain to make "
                            + id + ".<domain>");
                }
                host = id + "." + domain;
            } else {
                host = host(id, string(h));
            }
            int port = port("party " + id, "port", p.get("port"), brokerPort);
            int sslPort = port("party " + id, "sslPort", p.get("sslPort"), brokerSslPort);
            Endpoint proxy = proxy("party " + id, p.get("proxy"));
            if (local("party " + id, p.get("local"))) {
                if (localParty != null) {
                    throw new IllegalArgumentException("parties " + localParty + " and " + id + " are both marked "
                            + "local: true: only this FATE's own party is local, every other party is local: false");
                }
                localParty = id;
            }
            parties.put(id, new Party(id, host, port, sslPort, proxy));
        }
        return new PulsarRouteTable(parties, domain, defaultProxy, brokerPort, brokerSslPort, localParty);
    }

    /** A party id as FATE's table allows it; a refusal names it. */
    static void checkId(String id) {
        if (!PartyIds.isValid(id)) {
            throw new IllegalArgumentException("party " + HostNames.quote(id)
                    + ": a party id is letters, digits and '-' (1..63)");
        }
    }

    /** A broker host in canonical form (a DNS name or an IP literal); a refusal names the party and the host. */
    static String host(String id, String host) {
        try {
            return Endpoint.of(host, 1).host();
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("party " + id + ": invalid host " + HostNames.quote(host));
        }
    }

    /**
     * The table of a federation: its settings as the {@code default} entry and every party listed with its broker,
     * in order. Nothing is parsed: the values are already valid ({@link Federation} checked them).
     */
    static PulsarRouteTable of(FederationSettings settings, Iterable<io.fedlink.federation.Party> parties) {
        Map<String, Party> entries = new LinkedHashMap<>();
        for (io.fedlink.federation.Party p : parties) {
            entries.put(p.id(), new Party(p.id(), p.host(), p.port(), p.sslPort(), null));
        }
        return new PulsarRouteTable(entries, settings.domain(), settings.proxy(), settings.brokerPort(),
                settings.brokerSslPort(), null);
    }

    private static Map<?, ?> mapping(String where, Object value, Set<String> allowed) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(where + ": expected a mapping, found " + HostNames.quote(
                    String.valueOf(value)));
        }
        for (Object k : m.keySet()) {
            if (!allowed.contains(String.valueOf(k))) {
                throw new IllegalArgumentException(where + ": unknown key " + HostNames.quote(String.valueOf(k))
                        + " (allowed: " + allowed.stream().sorted().toList() + ")");
            }
        }
        return m;
    }

    /** FATE's {@code local} flag: a YAML boolean (absent means false). */
    private static boolean local(String where, Object v) {
        if (v == null || v instanceof Boolean) {
            return Boolean.TRUE.equals(v);
        }
        throw new IllegalArgumentException(where + ": local " + HostNames.quote(string(v)) + " must be true or false");
    }

    private static String string(Object v) {
        return String.valueOf(v).strip();
    }

    /** A port value, {@code dflt} when absent; a refusal names {@code where} and {@code key}. */
    static int port(String where, String key, Object v, int dflt) {
        if (v == null || string(v).isEmpty()) {
            return dflt;
        }
        try {
            int p = Integer.parseInt(string(v));
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException(where + ": " + key + " " + HostNames.quote(string(v))
                + " is not a port (1..65535)");
    }

    private static Endpoint proxy(String where, Object v) {
        if (v == null || string(v).isEmpty()) {
            return null;
        }
        try {
            return Endpoint.parse(string(v));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": proxy " + HostNames.quote(string(v))
                    + " must be host:port (" + e.getMessage() + ")");
        }
    }

    /**
     * How to reach {@code partyId}: its own entry, or {@code <party>.<domain>} on the default ports through the
     * default proxy.
     *
     * @throws IllegalArgumentException when the party is not listed and the table has no default domain
     */
    public Party party(String partyId) {
        Party p = parties.get(partyId);
        if (p != null) {
            return p;
        }
        if (domain == null) {
            throw new IllegalArgumentException("party " + HostNames.quote(partyId) + " is not in the route table and "
                    + "it has no default.domain");
        }
        if (!PartyIds.isValid(partyId)) {
            throw new IllegalArgumentException("invalid party id " + HostNames.quote(partyId));
        }
        return new Party(partyId, partyId + "." + domain, brokerPort, brokerSslPort, defaultProxy);
    }

    /** The parties listed explicitly, in file order. */
    public Map<String, Party> parties() {
        return parties;
    }

    /** The federation's domain ({@code default.domain}), or {@code null}. */
    public String domain() {
        return domain;
    }

    /**
     * The YAML key a party's entry needs for FATE to find it. FATE looks a party up as
     * {@code route_table.get(int(party_id))}, so a numeric id must be a YAML integer ({@code 10000:}, not
     * {@code '10000':}); other ids (and numeric ones with a leading zero, which an integer would not give back) stay
     * strings. Returns an {@link Integer}, {@link Long} or {@link java.math.BigInteger} for SnakeYAML, else the id.
     */
    public static Object fateKey(String partyId) {
        if (!partyId.isEmpty() && partyId.chars().allMatch(c -> c >= '0' && c <= '9')
                && (partyId.length() == 1 || partyId.charAt(0) != '0')) {
            java.math.BigInteger n = new java.math.BigInteger(partyId);
            return n.bitLength() < 32 ? (Object) n.intValue() : n.bitLength() < 64 ? (Object) n.longValue() : n;
        }
        return partyId;
    }

    /**
     * The table as FATE's {@code pulsar_route_table.yaml}: the {@code default} entry first ({@code domain},
     * {@code proxy}, {@code brokerPort}, {@code brokerSslPort}), then each listed party ({@code host}, {@code port},
     * {@code sslPort}, and {@code proxy} and {@code local} when set), keyed as FATE looks it up ({@link #fateKey}).
     * {@link #parse} reads it back to an equal table.
     */
    public String toYaml() {
        Map<Object, Object> root = new LinkedHashMap<>();
        Map<String, Object> def = new LinkedHashMap<>();
        if (domain != null) {
            def.put("domain", domain);
        }
        if (defaultProxy != null) {
            def.put("proxy", defaultProxy.toString());
        }
        def.put("brokerPort", brokerPort);
        def.put("brokerSslPort", brokerSslPort);
        root.put("default", def);
        for (Party p : parties.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("host", p.host());
            e.put("port", p.port());
            e.put("sslPort", p.sslPort());
            if (p.proxy() != null) {
                e.put("proxy", p.proxy().toString());
            }
            if (p.partyId().equals(localParty)) {
                e.put("local", true);
            }
            root.put(fateKey(p.partyId()), e); // an integer key for a numeric id, as FATE looks it up
        }
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(root);
    }

    /** The party marked {@code local: true} (this FATE's own), or {@code null} when none is. */
    public String localParty() {
        return localParty;
    }

    /**
     * This table with {@code domain} as its federation domain, for a table without {@code default.domain} (FATE's
     * shipped file has none).
     *
     * @throws IllegalArgumentException when the table names another domain, or {@code domain} is not a DNS name
     */
    public PulsarRouteTable withDomain(String domain) {
        if (!HostNames.isDnsName(domain)) {
            throw new IllegalArgumentException("invalid domain " + HostNames.quote(domain));
        }
        String d = HostNames.canonicalDnsName(domain);
        if (this.domain != null && !this.domain.equals(d)) {
            throw new IllegalArgumentException("the route table's default.domain is " + this.domain + ", not " + d
                    + ": leave the domain out or make the two agree");
        }
        return new PulsarRouteTable(parties, d, defaultProxy, brokerPort, brokerSslPort, localParty);
    }

    /** The default proxy, or {@code null}. */
    public Endpoint defaultProxy() {
        return defaultProxy;
    }

    /** The TLS server name of a party: {@code <party>.<domain>}. */
    public String serverName(String partyId) {
        if (domain == null) {
            throw new IllegalArgumentException("the route table has no default.domain: server names are "
                    + "<party>.<domain>; add 'domain' to its default entry, or give --domain (e.g. --domain fate.org)");
        }
        return FederationSettings.serverName(partyId, domain);
    }

    /**
     * The SNI proxy's routes from the same table: {@code <party>.<domain> -> host:sslPort} for every listed party.
     * One source of truth for FATE and for the proxy.
     */
    public RouteTable proxyRoutes() {
        RouteTable.Builder b = RouteTable.builder();
        for (Party p : parties.values()) {
            b.add(serverName(p.partyId()), Endpoint.of(p.host(), p.sslPort()));
        }
        return b.build();
    }
}
