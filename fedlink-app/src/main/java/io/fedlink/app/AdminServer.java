package io.fedlink.app;

import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.BoundedHttpServer.Limits;
import io.fedlink.api.BoundedHttpServer.Refusal;
import io.fedlink.api.BoundedHttpServer.Request;
import io.fedlink.api.BoundedHttpServer.Response;
import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint of {@code fedlink proxy}: actions on the running proxy, separate from the read-only
 * {@code --metrics} port. One action so far:
 * <pre>
 * POST /tunnels/close?server-name=9999.fate.org   the tunnels whose ClientHello named it
 * POST /tunnels/close?route=*.fate.org            the tunnels a route entry (its pattern) serves
 * POST /tunnels/close?all=true                    every tunnel
 *   -&gt; 200 {"closed":2,"selector":"server-name=9999.fate.org"}
 * </pre>
 * closing them ({@link TunnelServer#closeTunnels}, reason {@code ROTATED}) so their clients reconnect with new TLS
 * handshakes. Served on a Unix socket that only the proxy's user can reach ({@link AdminSocket}), or, when asked,
 * on TCP with a bearer token ({@code Authorization: Bearer TOKEN}, compared in constant time; 401 otherwise).
 * Requests a browser could be tricked into sending are refused: any method but POST (405), a request with an
 * {@code Origin} header (403: every browser sends one with a POST, curl and the CLI do not) and a {@code Host} that
 * is not an IP literal or {@code localhost} (403: DNS rebinding). Served by a {@link BoundedHttpServer}: refusals
 * are counted (in {@code fedlink_http_refused_total} with {@code --metrics}) and logged, rate-limited.
 */
public final class AdminServer implements AutoCloseable {
    /** The path of the one action: closing tunnels so their clients reconnect. */
    public static final String CLOSE_PATH = "/tunnels/close";
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    /** Longest query string read. */
    private static final int MAX_QUERY = 1024;
    private static final String JSON_TYPE = "application/json";
    /** The limits: the defaults, no request body, at most 16 connections from one address. */
    static final Limits LIMITS = Limits.DEFAULT.withMaxBodyBytes(0).withMaxConnectionsPerSource(16);

    private final BoundedHttpServer http;
    private final Path socket;

    private AdminServer(BoundedHttpServer http, Path socket) {
        this.http = http;
        this.socket = socket;
    }

    /**
     * Serves on the Unix socket {@code socket} (its folder checked and the file made 0600 by {@link AdminSocket})
     * the actions on the proxy {@code proxy} gives (503 while it gives none: not started yet).
     *
     * @throws IOException when the socket cannot be bound; the message names it
     * @throws IllegalArgumentException when its folder is not safe or another process serves it
     */
    static AdminServer onSocket(Path socket, Supplier<TunnelServer> proxy) throws IOException {
        UnixDomainSocketAddress at = AdminSocket.prepare(socket);
        BoundedHttpServer http = BoundedHttpServer.start("admin-socket", at, LIMITS, r -> handle(r, proxy, null),
                log::info);
        AdminSocket.restrict(at.getPath());
        return new AdminServer(http, at.getPath());
    }

    /**
     * Serves on TCP {@code address}, each request only with {@code Authorization: Bearer TOKEN} for this
     * {@code token}.
     *
     * @throws IOException when the address cannot be bound; the message names it
     */
    static AdminServer onTcp(InetSocketAddress address, byte[] token, Supplier<TunnelServer> proxy)
            throws IOException {
        byte[] expected = sha256(token);
        BoundedHttpServer http = BoundedHttpServer.start("admin", address, LIMITS, r -> handle(r, proxy, expected),
                log::info);
        return new AdminServer(http, null);
    }

    private static byte[] sha256(byte[] b) {
        try { // digests first: equal lengths, so the comparison's time tells nothing of the token's length either
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Whether {@code authorization} carries the bearer token whose digest is {@code expected}. */
    static boolean authorized(String authorization, byte[] expected) {
        String prefix = "Bearer ";
        if (authorization == null || !authorization.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return false;
        }
        byte[] given = authorization.substring(prefix.length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, sha256(given));
    }

    private static Response handle(Request r, Supplier<TunnelServer> proxies, byte[] token) {
        if (token != null && !authorized(r.header("Authorization"), token)) {
            return Response.refusal(Refusal.UNAUTHORIZED, JSON_TYPE, error("give the admin token: Authorization:"
                    + " Bearer TOKEN (the content of the proxy's --admin-token-file)")).withHeader("WWW-Authenticate",
                    "Bearer realm=\"fedlink-admin\"");
        }
        if (!r.path().equals(CLOSE_PATH)) {
            return answer(404, error("not found: the admin endpoint has POST " + CLOSE_PATH));
        }
        if (!r.method().equals("POST")) {
            return answer(405, error(r.method() + " not allowed: use POST " + CLOSE_PATH)).withHeader("Allow", "POST");
        }
        if (r.header("Origin") != null) {
            return Response.refusal(Refusal.FORBIDDEN, JSON_TYPE,
                    error("requests from web pages (with an Origin header) are refused"));
        }
        String host = r.header("Host");
        if (host == null || !localHost(host)) {
            return Response.refusal(Refusal.FORBIDDEN, JSON_TYPE, error("Host "
                    + HostNames.quote(String.valueOf(host)) + " refused: address the admin endpoint by its IP"));
        }
        Selector s;
        try {
            s = Selector.parse(r.rawQuery());
        } catch (IllegalArgumentException e) {
            return answer(400, error(e.getMessage()));
        }
        TunnelServer proxy = proxies.get();
        if (proxy == null) {
            return answer(503, error("the proxy has not started yet"));
        }
        int closed = proxy.closeTunnels(s.which());
        log.info("admin: closed {} tunnels ({}) for {}", closed, s.description(),
                BoundedHttpServer.describe(r.remote()));
        return answer(200, "{\"closed\":" + closed + ",\"selector\":" + json(s.description()) + "}");
    }

    /** Whether a Host header names an IP literal or localhost (with an optional port): not a DNS name. */
    private static boolean localHost(String host) {
        String h = host.strip();
        if (h.startsWith("[")) { // [v6]:port
            int end = h.indexOf(']');
            return end > 0 && HostNames.isIpLiteral(h.substring(1, end));
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0 && h.indexOf(':') == colon) {
            h = h.substring(0, colon);
        }
        return h.equalsIgnoreCase("localhost") || HostNames.isIpLiteral(h);
    }

    /** Which tunnels a request selects, and how to say so. */
    record Selector(Predicate<Tunnel> which, String description) {
        static final String USAGE = "give exactly one of server-name=NAME, route=ENTRY or all=true";

        /** Reads {@code server-name=N}, {@code route=R} or {@code all=true} from a raw query string. */
        static Selector parse(String rawQuery) {
            if (rawQuery == null || rawQuery.isEmpty()) {
                throw new IllegalArgumentException("no selector: " + USAGE);
            }
            if (rawQuery.length() > MAX_QUERY) {
                throw new IllegalArgumentException("query longer than " + MAX_QUERY + " characters: " + USAGE);
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (String pair : rawQuery.split("&", -1)) {
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (!key.equals("server-name") && !key.equals("route") && !key.equals("all")) {
                    throw new IllegalArgumentException("unknown parameter " + HostNames.quote(key) + ": " + USAGE);
                }
                if (params.put(key, value) != null) {
                    throw new IllegalArgumentException("parameter " + key + " given twice: " + USAGE);
                }
            }
            if (params.size() != 1) {
                throw new IllegalArgumentException("parameters " + params.keySet() + " together: " + USAGE);
            }
            Map.Entry<String, String> p = params.entrySet().iterator().next();
            String v = p.getValue();
            return switch (p.getKey()) {
                case "all" -> {
                    if (!v.equals("true")) {
                        throw new IllegalArgumentException("all=" + HostNames.quote(v) + ": only all=true closes"
                                + " every tunnel");
                    }
                    yield new Selector(t -> true, "all");
                }
                case "server-name" -> {
                    String name = HostNames.isIpLiteral(v) ? HostNames.canonicalIpLiteral(v)
                            : HostNames.canonicalDnsName(v);
                    yield new Selector(t -> name.equals(t.serverName()), "server-name=" + name);
                }
                default -> {
                    // canonical form and validation of the pattern as a route file would have it
                    String entry = PartyRoute.of(v, Endpoint.of("127.0.0.1", 1)).serverName();
                    yield new Selector(t -> t.route() != null && entry.equals(t.route().serverName()),
                            "route=" + entry);
                }
            };
        }

        private static String decode(String s) {
            try {
                return URLDecoder.decode(s, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("malformed query: " + e.getMessage());
            }
        }
    }

    private static String error(String message) {
        return "{\"error\":" + json(message) + "}";
    }

    /** A JSON string literal (quotes, backslashes and control characters escaped). */
    static String json(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f || (c >= 0xd800 && c <= 0xdfff)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private static Response answer(int status, String body) {
        return Response.of(status, JSON_TYPE, body + "\n");
    }

    /** The server, for its refusal counts. */
    BoundedHttpServer http() {
        return http;
    }

    /** Where it is served: {@code http://IP:PORT/tunnels/close} or the socket's path. */
    String where() {
        return socket != null ? socket.toString() : "http://" + BoundedHttpServer.describe(http.address()) + CLOSE_PATH;
    }

    /** Stops serving at once; removes the socket file. */
    @Override
    public void close() {
        http.close();
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.info("could not remove the admin socket {}: {}", socket, e.toString());
            }
        }
    }
}
