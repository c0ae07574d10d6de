package io.fedlink.sni;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RouteTable;
import io.fedlink.api.SafeYaml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.Yaml;

/**
 * Reads (and {@link #write writes}) the Apache Traffic Server {@code sni.yaml} subset that describes blind tunnels, so a Traffic Server user
 * can point fedlink at the file they have:
 *
 * <pre>
 * sni:
 * - fqdn: 10000.fate.org
 *   tunnel_route: 192.168.0.2:6651
 * - fqdn: '*.eu.fate.org'
 *   tunnel_route: $1.eu.internal:6651     # $1: the labels the wildcard covered
 *   ip_allow: 10.0.0.0/8,192.168.1.0/24   # or a YAML list
 *   proxy_protocol: v2                    # fedlink extension: v1 | v2 | none
 * - fqdn: '*'                              # names no other entry matches
 *   tunnel_route: 192.168.0.9:6651
 * - fqdn: 9999.fate.org                    # fedlink extension: several targets
 *   tunnel_route:
 *   - 192.168.0.3:6651
 *   - 192.168.0.4:6651
 *   balance: least_connections             # fedlink extension: round_robin (default) | least_connections
 * - fqdn: 10001.fate.org                   # fedlink extension: the party opens no inbound port; its agent
 *   agent: '10001'                         # dials the proxy and carries this name's tunnels (instead of tunnel_route)
 * </pre>
 *
 * <p>{@code tunnel_route} is Traffic Server's single {@code host:port} string, or a YAML list of up to
 * {@value io.fedlink.api.PartyRoute#MAX_TARGETS} of them (all fixed, or all {@code $1} templates); {@link #write}
 * writes a one-target route in the plain string form, so such a file stays readable by Traffic Server.
 *
 * <p>Refused, with the entry's index and fqdn in the message: a file that is not YAML or has no {@code sni} list,
 * duplicate YAML keys, entries without {@code fqdn} or {@code tunnel_route}, invalid names or targets, duplicate
 * names, bad CIDR blocks, and any other key (Traffic Server keys that terminate TLS, such as {@code forward_route}
 * or {@code verify_client}, have no meaning for a blind tunnel). Files over 1 MiB are refused before parsing.
 */
public final class SniYaml {
    /** Largest route file accepted (1 MiB). */
    public static final int MAX_FILE_BYTES = 1 << 20;
    private static final Set<String> KEYS = Set.of("fqdn", "tunnel_route", "ip_allow", "proxy_protocol",
            "balance", "agent");

    private SniYaml() {}

    /**
     * Reads a route file.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException naming the file and the entry when the content is refused
     */
    public static RouteTable read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(file + ": " + size + " bytes is more than the 1 MiB a route file may be");
        }
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses route-file text; see the class comment for what is refused. */
    public static RouteTable parse(String yaml) {
        Object root = SafeYaml.load(yaml, MAX_FILE_BYTES);
        if (!(root instanceof Map<?, ?> top) || !(top.get("sni") instanceof List<?> entries)) {
            throw new IllegalArgumentException("expected a top-level 'sni:' list of entries");
        }
        if (top.size() != 1) {
            throw new IllegalArgumentException("unexpected top-level keys besides 'sni': " + top.keySet());
        }
        RouteTable.Builder table = RouteTable.builder();
        for (int i = 0; i < entries.size(); i++) {
            Object e = entries.get(i);
            String where = "sni[" + i + "]";
            if (!(e instanceof Map<?, ?> entry)) {
                throw new IllegalArgumentException(where + ": expected a mapping with fqdn and tunnel_route");
            }
            Object fqdn = entry.get("fqdn");
            if (fqdn != null) {
                where += " (fqdn " + HostNames.quote(String.valueOf(fqdn)) + ")";
            }
            try {
                table.add(route(entry));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(where + ": " + ex.getMessage(), ex);
            }
        }
        return table.build();
    }

    /**
     * Writes {@code table} as a route file that {@link #parse} reads back to an equal table. The route for hellos
     * without a server name has no {@code sni.yaml} form and is left out.
     */
    public static String write(RouteTable table) {
        StringBuilder out = new StringBuilder("sni:\n");
        for (PartyRoute r : table.routes()) {
            out.append("  - fqdn: ").append(scalar(r.serverName())).append('\n');
            if (r.viaAgent()) {
                out.append("    agent: '").append(r.agentParty()).append("'\n");
            } else if (r.targetCount() == 1) {
                out.append("    tunnel_route: ").append(scalar(r.targetSpec())).append('\n');
            } else {
                out.append("    tunnel_route:\n");
                for (String t : r.targetSpecs()) {
                    out.append("      - ").append(scalar(t)).append('\n');
                }
            }
            if (r.balancing() != PartyRoute.Balancing.ROUND_ROBIN) {
                out.append("    balance: ").append(r.balancing().fileName()).append('\n');
            }
            if (!r.allowedClients().isEmpty()) {
                out.append("    ip_allow: ").append(String.join(",", r.allowedClients().stream()
                        .map(CidrBlock::toString).toList())).append('\n');
            }
            if (r.proxyProtocol() != ProxyProtocol.NONE) {
                out.append("    proxy_protocol: ").append(r.proxyProtocol().name().toLowerCase(Locale.ROOT))
                        .append('\n');
            }
        }
        return out.toString();
    }

    /** Quotes what YAML would read as an alias ({@code *...}) or a flow sequence ({@code [::1]:443}). */
    private static String scalar(String s) {
        return s.startsWith("*") || s.startsWith("[") ? "'" + s + "'" : s;
    }

    private static PartyRoute route(Map<?, ?> entry) {
        for (Object key : entry.keySet()) {
            if (!KEYS.contains(String.valueOf(key))) {
                throw new IllegalArgumentException("unsupported key " + HostNames.quote(String.valueOf(key))
                        + " (fedlink reads " + KEYS.stream().sorted().toList() + "; it never terminates TLS)");
            }
        }
        String fqdn = string(entry, "fqdn");
        PartyRoute.Builder b = PartyRoute.builder(fqdn);
        Object routes = entry.get("tunnel_route");
        if (entry.containsKey("agent")) {
            if (routes != null) {
                throw new IllegalArgumentException("give either tunnel_route or agent, not both");
            }
            b.agent(string(entry, "agent"));
        } else if (routes instanceof List<?> list) {
            if (list.isEmpty()) {
                throw new IllegalArgumentException("tunnel_route is an empty list: give at least one host:port");
            }
            if (list.size() > PartyRoute.MAX_TARGETS) {
                throw new IllegalArgumentException("tunnel_route lists " + list.size() + " targets, more than the "
                        + PartyRoute.MAX_TARGETS + " a route may list");
            }
            for (int i = 0; i < list.size(); i++) {
                Object t = list.get(i);
                if (t == null || t instanceof Map || t instanceof List) {
                    throw new IllegalArgumentException("tunnel_route[" + i + "] must be a host:port string");
                }
                addTarget(b, "tunnel_route[" + i + "]", String.valueOf(t).strip());
            }
        } else {
            addTarget(b, "tunnel_route", string(entry, "tunnel_route"));
        }
        Object balance = entry.get("balance");
        if (balance != null) {
            if (balance instanceof Map || balance instanceof List) {
                throw new IllegalArgumentException("balance must be round_robin or least_connections");
            }
            b.balancing(PartyRoute.Balancing.parse(String.valueOf(balance)));
        }
        Object allow = entry.get("ip_allow");
        if (allow != null) {
            List<String> blocks = new ArrayList<>();
            if (allow instanceof List<?> list) {
                list.forEach(x -> blocks.add(String.valueOf(x)));
            } else {
                for (String s : String.valueOf(allow).split(",")) {
                    blocks.add(s.strip());
                }
            }
            List<CidrBlock> parsed = new ArrayList<>();
            for (String s : blocks) {
                parsed.add(CidrBlock.parse(s));
            }
            b.allowClients(parsed);
        }
        Object pp = entry.get("proxy_protocol");
        if (pp != null) {
            String v = String.valueOf(pp).toUpperCase(Locale.ROOT);
            try {
                b.proxyProtocol(ProxyProtocol.valueOf(v));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("proxy_protocol " + HostNames.quote(String.valueOf(pp))
                        + " must be v1, v2 or none");
            }
        }
        return b.build();
    }

    /** Adds one {@code host:port} (IPv6 in brackets) target; {@code what} names it in messages. */
    private static void addTarget(PartyRoute.Builder b, String what, String route) {
        int colon = route.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(what + " " + HostNames.quote(route) + " must be host:port");
        }
        String host = route.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(route.substring(colon + 1));
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException(what + " " + HostNames.quote(route) + " has no numeric port");
        }
        b.addTarget(host, port);
    }

    private static String string(Map<?, ?> entry, String key) {
        Object v = entry.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        if (v instanceof Map || v instanceof List) {
            throw new IllegalArgumentException(key + " must be a string");
        }
        return String.valueOf(v).strip();
    }
}
