package io.fedlink.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin port of {@code fedlink proxy --admin}: actions on the running proxy, separate from the read-only
 * {@code --metrics} port. One action so far:
 * <pre>
 * POST /tunnels/close?server-name=9999.fate.org   the tunnels whose ClientHello named it
 * POST /tunnels/close?route=*.fate.org            the tunnels a route entry (its pattern) serves
 * POST /tunnels/close?all=true                    every tunnel
 *   -&gt; 200 {"closed":2,"selector":"server-name=9999.fate.org"}
 * </pre>
 * closing them ({@link TunnelServer#closeTunnels}, reason {@code ROTATED}) so their clients reconnect with new TLS
 * handshakes. There is no authentication: whoever reaches the port can close tunnels, so the CLI binds loopback
 * unless told otherwise. Requests a browser could be tricked into sending are refused: any method but POST (405), a
 * request with an {@code Origin} header (403: every browser sends one with a POST, curl and the CLI do not) and a
 * {@code Host} that is not an IP literal or {@code localhost} (403: DNS rebinding). Served by {@value #THREADS} daemon
 * threads, each client bounded in time by {@code fedlink proxy} ({@link ProxyCommand#boundHttpExchanges}).
 */
final class AdminServer implements AutoCloseable {
    static final String CLOSE_PATH = "/tunnels/close";
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    /** Longest query string read. */
    private static final int MAX_QUERY = 1024;

    /**
     * Threads serving requests: a client that stalls holds one until the JDK's request time limit cuts it
     * ({@code sun.net.httpserver.maxReqTime}; {@code fedlink proxy} sets 10 s), so a few stalled clients cannot
     * stop the rest.
     */
    static final int THREADS = 4;

    private final HttpServer http;
    private final ExecutorService executor;

    private AdminServer(HttpServer http, ExecutorService executor) {
        this.http = http;
        this.executor = executor;
    }

    /**
     * Binds {@code address} and serves actions on the proxy {@code proxy} gives (503 while it gives none: not
     * started yet).
     *
     * @throws IOException when the address cannot be bound; the message names it
     */
    static AdminServer start(InetSocketAddress address, Supplier<TunnelServer> proxy) throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(address, 8);
        } catch (IOException e) {
            throw new IOException("cannot serve the admin endpoint on " + address.getHostString() + ":"
                    + address.getPort() + ": " + e.getMessage() + " (choose another address or port)", e);
        }
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "fedlink-admin-http-" + http.getAddress().getPort());
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        http.createContext("/", ex -> {
            try (ex) {
                handle(ex, proxy);
            } catch (RuntimeException e) {
                log.warn("admin request {} failed", ex.getRequestURI(), e);
                answer(ex, 500, "{\"error\":" + json("internal error: " + e) + "}");
            }
        });
        http.start();
        return new AdminServer(http, executor);
    }

    private static void handle(HttpExchange ex, Supplier<TunnelServer> proxies) throws IOException {
        if (!ex.getRequestURI().getPath().equals(CLOSE_PATH)) {
            answer(ex, 404, error("not found: the admin endpoint has POST " + CLOSE_PATH));
            return;
        }
        if (!ex.getRequestMethod().equals("POST")) {
            ex.getResponseHeaders().set("Allow", "POST");
            answer(ex, 405, error(ex.getRequestMethod() + " not allowed: use POST " + CLOSE_PATH));
            return;
        }
        if (ex.getRequestHeaders().containsKey("Origin")) {
            answer(ex, 403, error("requests from web pages (with an Origin header) are refused"));
            return;
        }
        String host = ex.getRequestHeaders().getFirst("Host");
        if (host == null || !localHost(host)) {
            answer(ex, 403, error("Host " + HostNames.quote(String.valueOf(host)) + " refused: address the admin"
                    + " endpoint by its IP"));
            return;
        }
        Selector s;
        try {
            s = Selector.parse(ex.getRequestURI().getRawQuery());
        } catch (IllegalArgumentException e) {
            answer(ex, 400, error(e.getMessage()));
            return;
        }
        TunnelServer proxy = proxies.get();
        if (proxy == null) {
            answer(ex, 503, error("the proxy has not started yet"));
            return;
        }
        int closed = proxy.closeTunnels(s.which());
        log.info("admin: closed {} tunnels ({}) for {}", closed, s.description(), ex.getRemoteAddress());
        answer(ex, 200, "{\"closed\":" + closed + ",\"selector\":" + json(s.description()) + "}");
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

    private static void answer(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = (body + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** The address bound (useful with port 0). */
    InetSocketAddress address() {
        return http.getAddress();
    }

    /** Stops serving at once. */
    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
