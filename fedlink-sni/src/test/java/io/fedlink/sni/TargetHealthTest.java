package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.Tunnels;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Target choice and passive health, on a fake clock: trials, fallbacks, policies, reloads. */
class TargetHealthTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private final TunnelEvents events = new TunnelEvents(TunnelListener.NONE, "target-health-test-log",
            io.fedlink.api.AccessLogFormat.TEXT, null);
    private final RouteHolder holder = new RouteHolder(RouteTable.empty());

    @AfterEach
    void stop() {
        events.stop();
    }

    private TargetHealth health(int failures) {
        return new TargetHealth(Tunnels.server().routes(holder).targetFailures(failures)
                .targetEjection(Duration.ofSeconds(10)).connectTimeout(Duration.ofSeconds(1)).build(), events,
                holder::current);
    }

    private static PartyRoute route(String name, PartyRoute.Balancing policy, int targets) {
        PartyRoute.Builder b = PartyRoute.builder(name).balancing(policy);
        for (int i = 1; i <= targets; i++) {
            b.addTarget(Endpoint.of("127.0.0." + i, 6651));
        }
        return b.build();
    }

    private TargetHealth.Group group(TargetHealth h, PartyRoute r) {
        return h.of(holder.current(), r, false);
    }

    @Test
    void roundRobinSkipsAnEjectedTargetUntilItsTrialThenOneTrialAtATime() {
        PartyRoute r = route("a.org", PartyRoute.Balancing.ROUND_ROBIN, 3);
        holder.swap(RouteTable.of(r));
        TargetHealth h = health(2);
        TargetHealth.Group g = group(h, r);
        long t = 1_000 * SECOND;
        assertEquals(List.of(0, 1, 2, 0), List.of(g.pick(0, t), g.pick(0, t), g.pick(0, t), g.pick(0, t)));
        g.failed(1, t, "refused");
        assertTrue(g.states[1].up(), "one failure of two");
        g.failed(1, t, "refused");
        assertFalse(g.states[1].up(), "ejected after two in a row");
        for (int i = 0; i < 6; i++) {
            assertTrue(g.pick(0, t + SECOND) != 1, "an ejected target is skipped");
        }
        long later = t + 11 * SECOND;
        int trial = -1;
        for (int i = 0; i < 3 && trial != 1; i++) {
            trial = g.pick(0, later);
        }
        assertEquals(1, trial, "after the ejection, one connection tries it");
        for (int i = 0; i < 6; i++) {
            assertTrue(g.pick(0, later) != 1, "while its trial runs, others skip it");
        }
        g.failed(1, later, "refused again");
        assertFalse(g.states[1].up());
        for (int i = 0; i < 6; i++) {
            assertTrue(g.pick(0, later + 5 * SECOND) != 1, "a failed trial skips it for another period");
        }
        int again = -1;
        for (int i = 0; i < 3 && again != 1; i++) {
            again = g.pick(0, later + 11 * SECOND);
        }
        assertEquals(1, again);
        g.succeeded(1);
        assertTrue(g.states[1].up(), "a successful trial brings it back");
        assertEquals(0, g.states[1].consecutiveFailures());
    }

    @Test
    void aLostTrialExpiresAfterAConnectTimeout() {
        PartyRoute r = route("a.org", PartyRoute.Balancing.ROUND_ROBIN, 2);
        holder.swap(RouteTable.of(r));
        TargetHealth.Group g = group(health(1), r);
        long t = 1_000 * SECOND;
        g.failed(0, t, "refused");
        long after = t + 10 * SECOND;
        assertEquals(0, g.pick(1L << 1, after), "the trial is claimed");
        assertFalse(g.states[0].available(after), "and held");
        assertTrue(g.states[0].available(after + 2 * SECOND), "a trial nobody finished is released");
    }

    @Test
    void whenEveryUntriedTargetIsDownTheLeastRecentlyFailedIsTried() {
        PartyRoute r = route("a.org", PartyRoute.Balancing.ROUND_ROBIN, 3);
        holder.swap(RouteTable.of(r));
        TargetHealth.Group g = group(health(1), r);
        long t = 1_000 * SECOND;
        g.failed(2, t, "refused");
        g.failed(0, t + SECOND, "refused");
        g.failed(1, t + 2 * SECOND, "refused");
        assertEquals(2, g.pick(0, t + 3 * SECOND));
        assertEquals(0, g.pick(1L << 2, t + 3 * SECOND));
        assertEquals(1, g.pick(1L << 2 | 1L, t + 3 * SECOND));
        assertEquals(-1, g.pick(7, t + 3 * SECOND), "every target tried");
    }

    @Test
    void leastConnectionsTakesTheLeastLoadedAndRotatesTies() {
        PartyRoute r = route("a.org", PartyRoute.Balancing.LEAST_CONNECTIONS, 3);
        holder.swap(RouteTable.of(r));
        TargetHealth.Group g = group(health(3), r);
        g.states[0].connections.set(5);
        g.states[1].connections.set(2);
        g.states[2].connections.set(7);
        assertEquals(1, g.pick(0, 0));
        assertEquals(0, g.pick(1L << 1, 0), "the next least loaded among the untried");
        g.states[0].connections.set(0);
        g.states[1].connections.set(0);
        g.states[2].connections.set(0);
        assertEquals(List.of(0, 1, 2), List.of(g.pick(0, 0), g.pick(0, 0), g.pick(0, 0)).stream().sorted().toList(),
                "ties rotate");
    }

    @Test
    void templatesAreNeverEjected() {
        PartyRoute r = PartyRoute.builder("*.a.org").target("$1.x.internal", 1).addTarget("$1.y.internal", 1).build();
        holder.swap(RouteTable.of(r));
        TargetHealth.Group g = group(health(1), r);
        for (int i = 0; i < 5; i++) {
            g.failed(0, i, "cannot resolve");
        }
        assertTrue(g.states[0].up());
        assertEquals(5, g.states[0].failures.sum());
    }

    @Test
    void reloadsKeepTheStateOfWhatStaysAndForgetTheRest() {
        PartyRoute r = route("a.org", PartyRoute.Balancing.ROUND_ROBIN, 2);
        holder.swap(RouteTable.builder().add(r).whenNoServerName(Endpoint.of("127.0.0.9", 1)).build());
        TargetHealth h = health(1);
        TargetHealth.Group g = group(h, r);
        TargetHealth.State kept = g.states[1];
        assertEquals(3, h.kept());
        assertEquals("none", h.of(holder.current(), holder.current().noServerNameRoute(), true).states[0].route);

        RouteTable t2 = RouteTable.of(PartyRoute.builder("a.org").target(Endpoint.of("127.0.0.2", 6651)).build(),
                PartyRoute.of("b.org", Endpoint.of("127.0.0.2", 6651)));
        RouteTable old = holder.swap(t2);
        TargetHealth.Group g2 = group(h, t2.routes().get(0));
        assertSame(kept, g2.states[0], "same route entry and target: same state");
        assertNotSame(kept, group(h, t2.routes().get(1)).states[0], "another route entry: its own state");
        assertEquals(2, h.kept(), "the removed target and route are forgotten");

        TargetHealth.Group stale = h.of(old, r, false);
        assertNotSame(g, stale, "a connection holding the swapped-out table gets throw-away state");
        assertEquals(2, h.kept(), "which is not kept");
    }
}
