package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import java.net.InetAddress;

/**
 * The routing phase of a connection, without I/O: which route a parsed ClientHello gets (or why it is refused), and
 * whether a later route table still serves a tunnel (a tunnel the operator's change no longer routes is cut).
 * Pure functions of the table, the server name and the client address.
 */
final class Routing {
    private Routing() {}

    /** A hello's route, or the reason it gets none ({@code refusal} set; {@code route} may be set too). */
    record Decision(PartyRoute route, RefusalReason refusal, String detail) {
        boolean refused() {
            return refusal != null;
        }
    }

    /**
     * The route for a hello naming {@code serverName} ({@code null}: no name) from {@code client}: refused when the
     * table has none, the route's allow list leaves the client out, or a {@code $1} template cannot be filled from
     * the name. A route served by a party's agent has no target to fill.
     */
    static Decision decide(RouteTable table, String serverName, InetAddress client) {
        PartyRoute route = table.resolve(serverName);
        if (route == null) {
            return new Decision(null, serverName == null ? RefusalReason.NO_SERVER_NAME
                    : RefusalReason.UNKNOWN_SERVER_NAME, "no route");
        }
        if (!route.allows(client)) {
            return new Decision(route, RefusalReason.CLIENT_NOT_ALLOWED, "client not in the route's allow list");
        }
        if (!route.viaAgent()) {
            try {
                route.targetFor(serverName);
            } catch (IllegalArgumentException e) {
                return new Decision(route, RefusalReason.UNKNOWN_SERVER_NAME, e.getMessage());
            }
        }
        return new Decision(route, null, null);
    }

    /**
     * Whether {@code now} would still send a tunnel where it goes: the name resolves to a route that admits the
     * client and lists the tunnel's {@code target} (or, for a tunnel through a party's agent, names the same party's
     * agent).
     */
    static boolean serves(RouteTable now, String serverName, InetAddress client, PartyRoute was, Endpoint target) {
        PartyRoute r = now.resolve(serverName);
        if (r == null || !r.allows(client)) {
            return false;
        }
        if (was.viaAgent() || r.viaAgent()) {
            return was.viaAgent() && was.agentParty().equals(r.agentParty());
        }
        for (int i = 0; i < r.targetCount(); i++) {
            try {
                if (r.targetFor(i, serverName).equals(target)) {
                    return true;
                }
            } catch (IllegalArgumentException e) {
                // a template this name cannot fill: not this target
            }
        }
        return false;
    }
}
