package io.fedlink.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.concurrent.atomic.LongAdder;

/**
 * One classic histogram series whose {@link #observe} takes no lock and allocates nothing: one {@link LongAdder} per
 * bucket and one for the sum (in microseconds). The client library's own histogram briefly locks observers while a
 * scrape reads the series; this one never does, at the cost of a scrape that is not atomic across buckets (a bucket
 * may count an observation the sum does not have yet).
 */
final class LatencyHistogram {
    private final double[] bounds; // upper bounds in seconds, ascending, +Inf last
    private final long[] boundMicros;
    private final LongAdder[] counts;
    private final LongAdder sumMicros = new LongAdder();

    LatencyHistogram(double[] upperBoundsSeconds) {
        this.bounds = new double[upperBoundsSeconds.length + 1];
        System.arraycopy(upperBoundsSeconds, 0, bounds, 0, upperBoundsSeconds.length);
        bounds[upperBoundsSeconds.length] = Double.POSITIVE_INFINITY;
        this.boundMicros = new long[upperBoundsSeconds.length];
        for (int i = 0; i < boundMicros.length; i++) {
            boundMicros[i] = Math.round(upperBoundsSeconds[i] * 1e6);
        }
        this.counts = new LongAdder[bounds.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Counts one observation of {@code micros} microseconds (negative values count as zero). */
    void observe(long micros) {
        long v = Math.max(0, micros);
        int i = 0;
        while (i < boundMicros.length && v > boundMicros[i]) {
            i++;
        }
        counts[i].increment();
        sumMicros.add(v);
    }

    /** The series as the client library exposes it. */
    HistogramDataPointSnapshot snapshot(Labels labels) {
        long[] c = new long[counts.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].sum();
        }
        return HistogramDataPointSnapshot.builder().classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, c))
                .sum(sumMicros.sum() / 1e6).labels(labels).build();
    }
}
