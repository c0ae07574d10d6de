package io.fedlink.sni;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RouteTable;
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
 * </pre>
 *
 * <p>Refused, with the entry's index and fqdn in the message: a file that is not YAML or has no {@code sni} list,
 * duplicate YAML keys, entries without {@code fqdn} or {@code tunnel_route}, invalid names or targets, duplicate
 * names, bad CIDR blocks, and any other key (Traffic Server keys that terminate TLS, such as {@code forward_route}
 * or {@code verify_client}, have no meaning for a blind tunnel). Files over 1 MiB are refused before parsing.
 */
public final class SniYaml {
    /** Largest route file accepted (1 MiB). */
    public static final int MAX_FILE_BYTES = 1 << 20;
    private static final Set<String> KEYS = Set.of("fqdn", "tunnel_route", "ip_allow", "proxy_protocol");

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
            out.append("    tunnel_route: ").append(scalar(r.targetSpec())).append('\n');
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
        String route = string(entry, "tunnel_route");
        int colon = route.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("tunnel_route " + HostNames.quote(route) + " must be host:port");
        }
        String host = route.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(route.substring(colon + 1));
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("tunnel_route " + HostNames.quote(route) + " has no numeric port");
        }
        PartyRoute.Builder b = PartyRoute.builder(fqdn).target(host, port);
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
