package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.Tunnels;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The connect phase without sockets, on a fake clock: deadline shares, failover, counting, refusal reasons. */
class AttemptsTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long T0 = 1_000_000 * MS;
    private final TunnelEvents events = new TunnelEvents(TunnelListener.NONE, "attempts-test-log",
            io.fedlink.api.AccessLogFormat.TEXT, null);
    private final RouteHolder holder = new RouteHolder(RouteTable.empty());

    @AfterEach
    void stop() {
        events.stop();
    }

    private TargetHealth.Group group(PartyRoute r, int failures) {
        holder.swap(RouteTable.of(r));
        TargetHealth h = new TargetHealth(Tunnels.server().routes(holder).targetFailures(failures)
                .targetEjection(Duration.ofSeconds(10)).connectTimeout(Duration.ofSeconds(1)).build(), events,
                holder::current);
        return h.of(holder.current(), r, false);
    }

    private static PartyRoute route(int targets) {
        PartyRoute.Builder b = PartyRoute.builder("a.org");
        for (int i = 1; i <= targets; i++) {
            b.addTarget(Endpoint.of("127.0.0." + i, 6651));
        }
        return b.build();
    }

    @Test
    void oneTargetKeepsTheWholeConnectTime() {
        Attempts a = new Attempts(group(route(1), 1), "a.org", T0 + 1000 * MS);
        Attempts.Attempt first = a.next(T0);
        assertEquals(Endpoint.of("127.0.0.1", 6651), first.target());
        assertEquals(T0 + 1000 * MS, first.deadline());
        a.failed(RefusalReason.CONNECT_TIMEOUT, "connect to 127.0.0.1:6651 timed out", T0 + 1000 * MS);
        assertNull(a.next(T0 + 1000 * MS), "one target, tried");
        assertEquals(RefusalReason.CONNECT_TIMEOUT, a.reason());
        assertEquals("connect to 127.0.0.1:6651 timed out", a.detail());
        assertEquals("PT1S", a.share(Duration.ofSeconds(1)));
    }

    @Test
    void eachAttemptButTheLastGetsHalfOfWhatIsLeft() {
        TargetHealth.Group g = group(route(3), 0);
        Attempts a = new Attempts(g, "a.org", T0 + 800 * MS);
        Attempts.Attempt first = a.next(T0);
        assertEquals(T0 + 400 * MS, first.deadline());
        assertEquals(1, g.states[first.index()].connections.get(), "the attempt's target counts one connection");
        a.failed(RefusalReason.CONNECT_FAILED, "refused", T0 + 100 * MS);
        assertEquals(0, g.states[first.index()].connections.get());
        Attempts.Attempt second = a.next(T0 + 100 * MS);
        assertEquals(T0 + 450 * MS, second.deadline(), "half of the 700 ms left");
        assertFalse(a.current(first.generation()), "an answer for the first attempt is stale");
        assertTrue(a.current(second.generation()));
        a.failed(RefusalReason.CONNECT_TIMEOUT, "timed out", T0 + 450 * MS);
        Attempts.Attempt third = a.next(T0 + 450 * MS);
        assertEquals(T0 + 800 * MS, third.deadline(), "the last untried target gets all that is left");
        a.succeeded();
        assertEquals(1, g.states[third.index()].connections.get(), "counted while the tunnel lasts");
        a.release();
        a.release();
        assertEquals(0, g.states[third.index()].connections.get(), "released once");
    }

    @Test
    void failuresCountAgainstHealthButABusyLookupDoesNot() {
        TargetHealth.Group g = group(route(2), 1);
        Attempts a = new Attempts(g, "a.org", T0 + 1000 * MS);
        Attempts.Attempt first = a.next(T0);
        a.failed(RefusalReason.RESOLVER_BUSY, "resolver busy", T0);
        assertTrue(g.states[first.index()].up(), "not the target's fault");
        Attempts.Attempt second = a.next(T0);
        a.failed(RefusalReason.CONNECT_FAILED, "refused", T0);
        assertFalse(g.states[second.index()].up(), "a refused connect ejects at threshold 1");
        assertNull(a.next(T0));
        assertEquals(RefusalReason.CONNECT_FAILED, a.reason());
        assertEquals("refused (2 targets tried)", a.detail());
    }

    @Test
    void noTimeLeftMeansNoAttempt() {
        Attempts a = new Attempts(group(route(2), 1), "a.org", T0);
        assertNull(a.next(T0));
        assertEquals(RefusalReason.CONNECT_FAILED, a.reason());
        assertEquals("no target", a.detail());
    }

    @Test
    void aTemplateTheNameCannotFillIsSkippedWithItsReason() {
        PartyRoute r = PartyRoute.builder("*.fate.org").target("$1.1", 6651).build();
        Attempts a = new Attempts(group(r, 1), "127.0.0.fate.org", T0 + 1000 * MS);
        assertNull(a.next(T0));
        assertEquals(RefusalReason.UNKNOWN_SERVER_NAME, a.reason());
        Attempts ok = new Attempts(group(r, 1), "abc.fate.org", T0 + 1000 * MS);
        Attempts.Attempt filled = ok.next(T0);
        assertNotNull(filled);
        assertEquals("abc.1", filled.target().host());
    }
}
