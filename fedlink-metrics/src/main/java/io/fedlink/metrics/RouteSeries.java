package io.fedlink.metrics;

import io.prometheus.metrics.model.snapshots.Labels;
import java.util.concurrent.atomic.LongAdder;

/**
 * The per-route counters of one route label: resolved once per route table, so a listener callback only increments
 * what it is handed.
 */
final class RouteSeries {
    /** Tunnel durations: 10 ms to 1 day. */
    static final double[] DURATION_BOUNDS = {0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600};
    /** Accept to target connected: 1 ms to 10 s. */
    static final double[] SETUP_BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    /**
     * ClientHello sizes: 256 B to the 64 KiB cap. Classic hellos are a few hundred bytes; post-quantum key shares
     * (X25519MLKEM768) take them past 1 KiB, and 2 records (over 16 KiB) are rare.
     */
    static final long[] HELLO_BOUNDS = {256, 512, 1024, 1536, 2048, 4096, 8192, 16384, 32768, 65536};

    final String route;
    final Labels labels;
    final Labels fromClient;
    final Labels toClient;
    final LongAdder opened = new LongAdder();
    final LongAdder connectFailures = new LongAdder();
    final LongAdder bytesFromClient = new LongAdder();
    final LongAdder bytesToClient = new LongAdder();
    final Histogram duration = Histogram.seconds(DURATION_BOUNDS);
    final Histogram setup = Histogram.seconds(SETUP_BOUNDS);
    final Histogram connect = Histogram.seconds(SETUP_BOUNDS);
    final Histogram helloBytes = Histogram.bytes(HELLO_BOUNDS);

    RouteSeries(String route) {
        this.route = route;
        this.labels = Labels.of("route", route);
        this.fromClient = Labels.of("route", route, "direction", ProxyMetrics.FROM_CLIENT);
        this.toClient = Labels.of("route", route, "direction", ProxyMetrics.TO_CLIENT);
    }
}
