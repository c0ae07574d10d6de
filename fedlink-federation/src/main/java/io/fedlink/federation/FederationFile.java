package io.fedlink.federation;

import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import io.fedlink.api.SafeYaml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A federation file: a whole federation in one YAML description, as {@code fedlink bundle federation} reads it.
 *
 * <pre>
 * domain: fate.org
 * proxy: { host: proxy.fate.org, port: 443 }          # what parties dial; listen defaults to 0.0.0.0:port
 * parties:
 *   - { id: "10000", address: 192.168.0.2 }          # port 6650 and sslPort 6651 unless given
 *   - { id: "9999", address: 192.168.0.3, reach: agent }   # no inbound port: its agent dials the proxy
 * </pre>
 *
 * <p>{@code reach: agent} (default {@code direct}) routes the party through its agent (see fedlink-sni's
 * {@code Agent}); agents dial the proxy's {@code agent_port} (default {@value #DEFAULT_AGENT_PORT}).
 *
 * <p>Refused, naming the entry: unknown and duplicate keys, bad names and ports, a party listed twice, reserved or
 * invalid ids, and anything the {@link Federation} model refuses. Where each host keeps its files
 * ({@code install_dir}, on the proxy and on each party) is read as given; its rules are the bundle's.
 *
 * @param domain          the parties' domain (canonical)
 * @param proxy           the proxy as parties dial it
 * @param listen          where the proxy listens
 * @param proxyInstallDir {@code proxy.install_dir} as written, or {@code null}
 * @param parties         the parties, in file order
 * @param agentPort       the proxy's port for party agents ({@code proxy.agent_port})
 */
public record FederationFile(String domain, Endpoint proxy, Endpoint listen, String proxyInstallDir,
                             List<Entry> parties, int agentPort) {
    /** The proxy's agent port unless {@code proxy.agent_port} says otherwise. */
    public static final int DEFAULT_AGENT_PORT = 7443;
    /** The description key of a host's install folder. */
    public static final String INSTALL_DIR = "install_dir";
    private static final Set<String> TOP_KEYS = Set.of("domain", "proxy", "parties");
    private static final Set<String> PROXY_KEYS = Set.of("host", "port", "listen", "agent_port", INSTALL_DIR);
    private static final Set<String> PARTY_KEYS = Set.of("id", "address", "port", "sslPort", "reach", INSTALL_DIR);

    /**
     * One party as the file lists it.
     *
     * @param id         the canonical party id ({@link PartyIds#canonical})
     * @param address    where its broker runs, as written (DNS name or IP)
     * @param port       its plain broker port
     * @param sslPort    its TLS broker port, which the proxy routes to
     * @param installDir its {@code install_dir} as written, or {@code null}
     * @param viaAgent   {@code reach: agent}: the proxy reaches it through its agent
     */
    public record Entry(String id, String address, int port, int sslPort, String installDir, boolean viaAgent) {
        /** A party the proxy reaches directly. */
        public Entry(String id, String address, int port, int sslPort, String installDir) {
            this(id, address, port, sslPort, installDir, false);
        }
    }

    /** Copies the list. */
    public FederationFile {
        parties = List.copyOf(parties);
    }

    /** A federation file whose proxy takes agents on {@link #DEFAULT_AGENT_PORT}. */
    public FederationFile(String domain, Endpoint proxy, Endpoint listen, String proxyInstallDir,
                          List<Entry> parties) {
        this(domain, proxy, listen, proxyInstallDir, parties, DEFAULT_AGENT_PORT);
    }

    /** Reads a federation file; errors name the file and the entry. */
    public static FederationFile read(Path file) throws IOException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses a federation file's text. */
    public static FederationFile parse(String yaml) {
        Map<?, ?> top = mapping("the description", SafeYaml.load(yaml), TOP_KEYS);
        String domain = HostNames.canonicalDnsName(text("domain", top.get("domain")));
        Map<?, ?> proxy = mapping("proxy", top.get("proxy"), PROXY_KEYS);
        int proxyPort = port("proxy.port", proxy.get("port"), 443);
        String host = text("proxy.host", proxy.get("host"));
        Endpoint dialled = Endpoint.parse((host.contains(":") ? "[" + host + "]" : host) + ":" + proxyPort);
        Endpoint listen = proxy.get("listen") == null ? Endpoint.parse("0.0.0.0:" + proxyPort)
                : Endpoint.parse(text("proxy.listen", proxy.get("listen")));
        String proxyInstallDir = optionalText("proxy." + INSTALL_DIR, proxy.get(INSTALL_DIR));
        int agentPort = port("proxy.agent_port", proxy.get("agent_port"), DEFAULT_AGENT_PORT);
        if (!(top.get("parties") instanceof List<?> list) || list.isEmpty()) {
            throw new IllegalArgumentException("parties: expected a list of { id, address } entries");
        }
        List<Entry> parties = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "parties[" + i + "]";
            Map<?, ?> p = mapping(where, list.get(i), PARTY_KEYS);
            String id = PartyIds.canonical(text(where + ".id", p.get("id"))); // lower case; reserved names refused
            if (parties.stream().anyMatch(q -> q.id().equals(id))) {
                throw new IllegalArgumentException(where + ": party " + id + " is listed twice");
            }
            String reach = p.get("reach") == null ? "direct" : text(where + ".reach", p.get("reach"));
            if (!reach.equals("direct") && !reach.equals("agent")) {
                throw new IllegalArgumentException(where + ".reach: " + HostNames.quote(reach) + " must be direct or"
                        + " agent");
            }
            parties.add(new Entry(id, text(where + ".address", p.get("address")),
                    port(where + ".port", p.get("port"), PulsarRouteTable.DEFAULT_BROKER_PORT),
                    port(where + ".sslPort", p.get("sslPort"), PulsarRouteTable.DEFAULT_BROKER_SSL_PORT),
                    optionalText(where + "." + INSTALL_DIR, p.get(INSTALL_DIR)), reach.equals("agent")));
        }
        if (agentPort == proxyPort && parties.stream().anyMatch(Entry::viaAgent)) {
            throw new IllegalArgumentException("proxy.agent_port " + agentPort + " is the proxy's port: agents need"
                    + " a port of their own");
        }
        FederationFile f = new FederationFile(domain, dialled, listen, proxyInstallDir, parties, agentPort);
        f.federation(); // validates every party as the registry does
        return f;
    }

    /**
     * The federation the file defines, in its order: the proxy as parties dial it, FATE's default ports, and every
     * party's broker.
     *
     * @throws IllegalArgumentException naming the first party the model refuses
     */
    public Federation federation() {
        FederationSettings settings = FederationSettings.of(domain, proxy.toString(), 0, 0);
        List<Party> model = new ArrayList<>();
        for (Entry p : parties) {
            Party party = Party.of(p.id(), p.address(), p.port(), p.sslPort(), List.of(), settings);
            model.add(p.viaAgent() ? party.reachedThroughAgent() : party);
        }
        return Federation.of(settings, model);
    }

    private static Map<?, ?> mapping(String where, Object o, Set<String> keys) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(where + ": expected a mapping with " + keys);
        }
        for (Object k : m.keySet()) {
            if (!keys.contains(String.valueOf(k))) {
                throw new IllegalArgumentException(where + ": unknown key " + HostNames.quote(String.valueOf(k))
                        + " (known: " + keys + ")");
            }
        }
        return m;
    }

    private static String text(String where, Object o) {
        if (o == null || o instanceof Map || o instanceof List) {
            throw new IllegalArgumentException(where + ": expected a value");
        }
        return String.valueOf(o).strip();
    }

    private static String optionalText(String where, Object o) {
        return o == null ? null : text(where, o);
    }

    private static int port(String where, Object o, int dflt) {
        if (o == null) {
            return dflt;
        }
        if (!(o instanceof Integer p) || p < 1 || p > 65535) {
            throw new IllegalArgumentException(where + ": invalid port " + HostNames.quote(String.valueOf(o))
                    + ": 1..65535");
        }
        return p;
    }
}
