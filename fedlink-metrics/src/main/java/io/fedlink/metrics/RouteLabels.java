package io.fedlink.metrics;

import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteTable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps a server name to the {@link RouteSeries} of the route entry that serves it, without allocating: exact names
 * through one hash lookup, wildcards by suffix (longest first), then the catch-all. Names no entry serves share the
 * {@value #UNKNOWN} series and hellos without a name the {@value #NONE} series, so the label set is bounded by the
 * configured entries whatever clients send. Immutable; a new one is built for each route table.
 */
final class RouteLabels {
    /** Label of names no route entry serves. */
    static final String UNKNOWN = "unknown";
    /** Label of hellos without a server name. */
    static final String NONE = "none";

    private final Map<String, RouteSeries> exact = new HashMap<>();
    private final List<Map.Entry<String, RouteSeries>> wildcards = new ArrayList<>(); // ".suffix" -> series
    private final RouteSeries catchAll;
    private final RouteSeries unknown;
    private final RouteSeries none;

    /** Resolves against {@code table}; {@code series} gives the (long-lived) series of a label. */
    RouteLabels(RouteTable table, java.util.function.Function<String, RouteSeries> series) {
        for (PartyRoute r : table.routes()) {
            if (r.isWildcard()) {
                wildcards.add(Map.entry(r.wildcardSuffix(), series.apply(r.serverName())));
            } else if (!r.isCatchAll()) {
                exact.put(r.serverName(), series.apply(r.serverName()));
            }
        }
        wildcards.sort(Comparator.comparingInt((Map.Entry<String, RouteSeries> e) -> e.getKey().length()).reversed());
        this.unknown = series.apply(UNKNOWN);
        this.none = series.apply(NONE);
        this.catchAll = table.unknownNameRoute() == null ? unknown : series.apply("*");
    }

    /** The series for a server name as the proxy reports it (canonical form), or {@code null} for none. */
    RouteSeries of(String serverName) {
        if (serverName == null) {
            return none;
        }
        RouteSeries s = exact.get(serverName);
        if (s != null) {
            return s;
        }
        if (isIpLiteral(serverName)) { // only exact entries route IP literals
            return unknown;
        }
        for (int i = 0; i < wildcards.size(); i++) {
            Map.Entry<String, RouteSeries> w = wildcards.get(i);
            String suffix = w.getKey();
            if (serverName.length() > suffix.length() && serverName.endsWith(suffix)) {
                return w.getValue();
            }
        }
        return catchAll;
    }

    /**
     * Whether a canonical server name looks like an IP literal: IPv6 has a colon, IPv4 only digits and dots (an
     * all-numeric DNS name, which no route should serve by wildcard anyway, counts as one too). Unlike
     * {@link io.fedlink.api.HostNames#isIpLiteral}, allocates nothing.
     */
    private static boolean isIpLiteral(String name) {
        if (name.indexOf(':') >= 0) {
            return true;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        return true;
    }
}
