package io.fedlink.federation;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyRoute;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One party of a federation: its id, where its broker is (host, plain and TLS ports), an optional allow list of
 * client networks for its route on the proxy, and optionally the party's own source networks ({@code egress}: where
 * its broker's connections come from), and how the proxy reaches it: directly, or through the party's agent
 * ({@link #reachedThroughAgent()}: the party opens no inbound port). Validated against the federation's {@link FederationSettings} with the
 * rules of FATE's route table ({@link PulsarRouteTable}) and of the proxy's {@link PartyRoute}; a bad value is
 * refused naming it. Immutable.
 */
public final class Party {
    /** An allow list no client matches: what a route admits when its allow list and the egress rule do not meet. */
    private static final List<CidrBlock> NOBODY = List.of(CidrBlock.parse("0.0.0.0/32"), CidrBlock.parse("::/128"));

    private final String id;
    private final String host;
    private final int port;
    private final int sslPort;
    private final List<CidrBlock> allow;
    private final List<CidrBlock> egress;
    private final boolean viaAgent;

    private Party(String id, String host, int port, int sslPort, List<CidrBlock> allow, List<CidrBlock> egress,
                  boolean viaAgent) {
        this.id = id;
        this.host = host;
        this.port = port;
        this.sslPort = sslPort;
        this.allow = List.copyOf(allow);
        this.egress = List.copyOf(egress);
        this.viaAgent = viaAgent;
    }

    /**
     * This party reached through its agent: the proxy's route for it names the party's agent (which dials out to
     * the proxy with the party's certificate) instead of its broker address, so the party opens no inbound port.
     * The broker host and ports stay what the party's own FATE route table says.
     *
     * @throws IllegalArgumentException when the id cannot name an agent (it must be a canonical party id)
     */
    public Party reachedThroughAgent() {
        try {
            io.fedlink.api.PartyIds.canonical(id);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("party " + HostNames.quote(id) + " cannot be reached through an agent: "
                    + e.getMessage(), e);
        }
        return new Party(id, host, port, sslPort, allow, egress, true);
    }

    /** Whether the proxy reaches this party through its agent. */
    public boolean viaAgent() {
        return viaAgent;
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
    public static Party of(String id, String host, int port, int sslPort, List<String> allow,
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
    public static Party of(String id, String host, int port, int sslPort, List<String> allow,
                           List<String> egress, FederationSettings settings) {
        if (id == null || id.equalsIgnoreCase("default")) {
            throw new IllegalArgumentException("invalid party id " + HostNames.quote(id)
                    + ": 'default' names FATE's default entry");
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("party " + HostNames.quote(id) + ": no broker host");
        }
        List<CidrBlock> allowed = blocks(id, "allow list", allow);
        List<CidrBlock> sources = blocks(id, "egress", egress);
        PulsarRouteTable.checkId(id); // FATE's rules for the id, host and ports
        String where = "party " + id;
        Party p = new Party(id, PulsarRouteTable.host(id, host.strip()),
                PulsarRouteTable.port(where, "port", port == 0 ? null : port, settings.brokerPort()),
                PulsarRouteTable.port(where, "sslPort", sslPort == 0 ? null : sslPort, settings.brokerSslPort()),
                allowed, sources, false);
        p.route(settings); // the proxy's rules for the server name and target
        return p;
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

    /** This party checked against other settings (a federation's new settings must keep its parties valid). */
    Party under(FederationSettings settings) {
        route(settings);
        return this;
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
        PartyRoute.Builder b = PartyRoute.builder(settings.serverName(id)).allowClients(admitted);
        return (viaAgent ? b.agent(id) : b.target(Endpoint.of(host, sslPort))).build();
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
        return o instanceof Party p && p.id.equals(id) && p.host.equals(host) && p.port == port
                && p.sslPort == sslPort && p.allow.equals(allow) && p.egress.equals(egress) && p.viaAgent == viaAgent;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, host, port, sslPort, allow, egress, viaAgent);
    }

    @Override
    public String toString() {
        return id + " " + host + ":" + port + "/" + sslPort + (allow.isEmpty() ? "" : " allow " + allow)
                + (egress.isEmpty() ? "" : " egress " + egress) + (viaAgent ? " reach agent" : "");
    }
}
