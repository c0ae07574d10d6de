package io.fedlink.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The listener side without a proxy: route labels, histograms, composition, and no allocation per event. */
class ProxyMetricsTest {
    static final Endpoint TARGET = Endpoint.of("127.0.0.1", 9);

    /** A tunnel as a proxy reports it. */
    record FakeTunnel(String serverName, Instant openedAt, CloseReason closeReason) implements Tunnel {
        @Override
        public long id() {
            return 1;
        }

        @Override
        public InetSocketAddress clientAddress() {
            return new InetSocketAddress("127.0.0.1", 40000);
        }

        @Override
        public Endpoint target() {
            return TARGET;
        }

        @Override
        public long bytesFromClient() {
            return 300;
        }

        @Override
        public long bytesToClient() {
            return 200;
        }

        @Override
        public boolean isOpen() {
            return closeReason == null;
        }

        @Override
        public void close() {
            // nothing to close
        }
    }

    static RouteTable table() {
        return RouteTable.builder().add("10000.fate.org", TARGET).add("*.fate.org", TARGET)
                .add("*.b.fate.org", TARGET).add("127.0.0.2", TARGET).build();
    }

    private static double value(ProxyMetrics m, String name, Labels labels) {
        for (MetricSnapshot s : m.collect()) {
            if (s.getMetadata().getPrometheusName().equals(name)) {
                for (DataPointSnapshot p : s.getDataPoints()) {
                    if (p.getLabels().equals(labels)) {
                        return p instanceof CounterSnapshot.CounterDataPointSnapshot c ? c.getValue()
                                : p instanceof GaugeSnapshot.GaugeDataPointSnapshot g ? g.getValue()
                                : ((HistogramSnapshot.HistogramDataPointSnapshot) p).getCount();
                    }
                }
            }
        }
        return Double.NaN;
    }

    private static Labels route(String r) {
        return Labels.of("route", r);
    }

    @Test
    void serverNamesMapToTheirRouteEntryAndNothingElse() {
        RouteLabels l = new RouteLabels(table(), RouteSeries::new);
        assertEquals("10000.fate.org", l.of("10000.fate.org").route);
        assertEquals("*.fate.org", l.of("a.fate.org").route);
        assertEquals("*.b.fate.org", l.of("x.y.b.fate.org").route, "the longest suffix wins");
        assertEquals("*.fate.org", l.of("b.fate.org").route, "a wildcard covers at least one label");
        assertEquals("unknown", l.of("fate.org").route);
        assertEquals("unknown", l.of("other.example").route);
        assertEquals("127.0.0.2", l.of("127.0.0.2").route);
        assertEquals("unknown", l.of("127.0.0.3").route);
        assertEquals("none", l.of(null).route);
        RouteLabels withCatchAll = new RouteLabels(table().toBuilder().whenUnknownName(TARGET).build(),
                RouteSeries::new);
        assertEquals("*", withCatchAll.of("other.example").route);
        assertEquals("unknown", withCatchAll.of("127.0.0.3").route, "a catch-all never routes IP literals");
    }

    @Test
    void countsFollowEventsAndSurviveReloads() {
        RouteHolder routes = new RouteHolder(table());
        ProxyMetrics m = ProxyMetrics.watching(routes);
        Instant then = Instant.now().minusSeconds(5);
        m.tunnelOpened(new FakeTunnel("a.fate.org", then, null));
        m.tunnelClosed(new FakeTunnel("a.fate.org", then, CloseReason.IDLE_TIMEOUT));
        m.connectionRefused(null, "10000.fate.org", RefusalReason.CONNECT_TIMEOUT);
        m.connectionRefused(null, null, RefusalReason.HELLO_TIMEOUT);
        assertEquals(1, value(m, "fedlink_tunnels_opened", route("*.fate.org")));
        assertEquals(1, value(m, "fedlink_tunnel_duration_seconds", route("*.fate.org")));
        assertEquals(1, value(m, "fedlink_connect_failures", route("10000.fate.org")));
        assertEquals(1, value(m, "fedlink_timeouts", Labels.of("phase", "idle")));
        assertEquals(1, value(m, "fedlink_timeouts", Labels.of("phase", "hello")));
        assertEquals(1, value(m, "fedlink_timeouts", Labels.of("phase", "connect")));
        assertEquals(1, value(m, "fedlink_tunnels_closed", Labels.of("reason", "idle_timeout")));
        assertEquals(0, value(m, "fedlink_tunnels_closed", Labels.of("reason", "rotated")), "every reason listed");
        m.tunnelClosed(new FakeTunnel("a.fate.org", then, CloseReason.ROTATED));
        assertEquals(1, value(m, "fedlink_tunnels_closed", Labels.of("reason", "rotated")));

        routes.swap(RouteTable.of(io.fedlink.api.PartyRoute.of("9999.fate.org", TARGET)));
        assertEquals(2, value(m, "fedlink_route_table_version", Labels.EMPTY));
        assertEquals(1, value(m, "fedlink_route_table_entries", Labels.EMPTY));
        assertEquals(1, value(m, "fedlink_tunnels_opened", route("*.fate.org")), "a removed entry keeps its count");
        m.tunnelOpened(new FakeTunnel("a.fate.org", then, null));
        assertEquals(1, value(m, "fedlink_tunnels_opened", route("unknown")), "resolved against the new table");
        assertEquals(0, value(m, "fedlink_ready", Labels.EMPTY), "no proxy observed");
    }

    @Test
    void reloadFailuresShowWhenTheSourceReportsThem() {
        ProxyMetrics m = ProxyMetrics.watching(new RouteHolder(table()));
        assertTrue(Double.isNaN(value(m, "fedlink_route_reload_failing", Labels.EMPTY)));
        AtomicBoolean failing = new AtomicBoolean();
        m.reloadFailing(failing::get);
        assertEquals(0, value(m, "fedlink_route_reload_failing", Labels.EMPTY));
        failing.set(true);
        assertEquals(1, value(m, "fedlink_route_reload_failing", Labels.EMPTY));
    }

    @Test
    void histogramBucketsAreUpperInclusive() {
        Histogram h = Histogram.seconds(new double[] {0.001, 0.01});
        h.observe(1_000);
        h.observe(1_001);
        h.observe(20_000);
        h.observe(-5);
        HistogramSnapshot.HistogramDataPointSnapshot s = h.snapshot(Labels.EMPTY);
        assertEquals(2, s.getClassicBuckets().getCount(0));
        assertEquals(1, s.getClassicBuckets().getCount(1));
        assertEquals(1, s.getClassicBuckets().getCount(2));
        assertEquals(0.022001, s.getSum(), 1e-9);
    }

    @Test
    void sizeBucketsAreUpperInclusiveAndBounded() {
        Histogram h = Histogram.bytes(RouteSeries.HELLO_BOUNDS);
        h.observe(256);
        h.observe(257);
        h.observe(65_536);
        h.observe(1 << 20); // beyond any hello cap: +Inf
        h.observe(-1);
        HistogramSnapshot.HistogramDataPointSnapshot s = h.snapshot(Labels.EMPTY);
        assertEquals(RouteSeries.HELLO_BOUNDS.length + 1, s.getClassicBuckets().size());
        assertEquals(2, s.getClassicBuckets().getCount(0));
        assertEquals(1, s.getClassicBuckets().getCount(1));
        assertEquals(1, s.getClassicBuckets().getCount(RouteSeries.HELLO_BOUNDS.length - 1));
        assertEquals(1, s.getClassicBuckets().getCount(RouteSeries.HELLO_BOUNDS.length));
        assertEquals(256 + 257 + 65_536 + (1 << 20), s.getSum(), 0);
    }

    @Test
    void listenerCallbacksDoNotAllocate() {
        ProxyMetrics m = ProxyMetrics.watching(new RouteHolder(table()));
        Tunnel[] tunnels = {new FakeTunnel("10000.fate.org", Instant.now(), null),
            new FakeTunnel("x.b.fate.org", Instant.now(), CloseReason.COMPLETED),
            new FakeTunnel(null, Instant.now(), CloseReason.CLIENT_ABORTED)};
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        Runnable events = () -> {
            for (int i = 0; i < 100_000; i++) {
                Tunnel t = tunnels[i % tunnels.length];
                m.tunnelOpened(t);
                m.tunnelClosed(t);
                m.connectionRefused(null, "10000.fate.org", RefusalReason.CONNECT_FAILED);
            }
        };
        events.run(); // warm up (LongAdder cells, JIT)
        long before = threads.getThreadAllocatedBytes(tid);
        events.run();
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 10_000, allocated + " bytes allocated for 300,000 events");
    }

    @Test
    void composedListenersAllRunAndTheFirstFailureSurfaces() {
        List<String> seen = new ArrayList<>();
        TunnelListener failing = new TunnelListener() {
            @Override
            public void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {
                seen.add("first");
                throw new IllegalStateException("first");
            }
        };
        TunnelListener second = new TunnelListener() {
            @Override
            public void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {
                seen.add("second " + reason);
            }
        };
        TunnelListener both = TunnelListeners.all(failing, second);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> both.connectionRefused(null, null, RefusalReason.NOT_TLS));
        assertEquals("first", e.getMessage());
        assertEquals(List.of("first", "second NOT_TLS"), seen);
        assertSame(second, TunnelListeners.all(second));
    }
}
