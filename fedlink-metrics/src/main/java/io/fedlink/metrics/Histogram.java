package io.fedlink.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.concurrent.atomic.LongAdder;

/**
 * One classic histogram series whose {@link #observe} takes no lock and allocates nothing: one {@link LongAdder} per
 * bucket and one for the sum, counted in whole units ({@linkplain #seconds microseconds} for durations,
 * {@linkplain #bytes bytes} for sizes) and exported in the metric's unit. The client library's own histogram briefly
 * locks observers while a scrape reads the series; this one never does, at the cost of a scrape that is not atomic
 * across buckets (a bucket may count an observation the sum does not have yet).
 */
final class Histogram {
    private final double[] bounds; // exported upper bounds, ascending, +Inf last
    private final long[] limits; // the same bounds in observed units, without +Inf
    private final double unitsPerExported;
    private final LongAdder[] counts;
    private final LongAdder sum = new LongAdder();

    private Histogram(double[] upperBounds, long[] limits, double unitsPerExported) {
        this.bounds = new double[upperBounds.length + 1];
        System.arraycopy(upperBounds, 0, bounds, 0, upperBounds.length);
        bounds[upperBounds.length] = Double.POSITIVE_INFINITY;
        this.limits = limits;
        this.unitsPerExported = unitsPerExported;
        this.counts = new LongAdder[bounds.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Durations observed in microseconds and exported in seconds; {@code upperBoundsSeconds} ascending. */
    static Histogram seconds(double[] upperBoundsSeconds) {
        long[] micros = new long[upperBoundsSeconds.length];
        for (int i = 0; i < micros.length; i++) {
            micros[i] = Math.round(upperBoundsSeconds[i] * 1e6);
        }
        return new Histogram(upperBoundsSeconds, micros, 1e6);
    }

    /** Sizes observed and exported in bytes; {@code upperBounds} ascending. */
    static Histogram bytes(long[] upperBounds) {
        double[] exported = new double[upperBounds.length];
        for (int i = 0; i < exported.length; i++) {
            exported[i] = upperBounds[i];
        }
        return new Histogram(exported, upperBounds.clone(), 1);
    }

    /** Counts one observation in whole units (negative values count as zero); a bucket includes its upper bound. */
    void observe(long units) {
        long v = Math.max(0, units);
        int i = 0;
        while (i < limits.length && v > limits[i]) {
            i++;
        }
        counts[i].increment();
        sum.add(v);
    }

    /** The series as the client library exposes it. */
    HistogramDataPointSnapshot snapshot(Labels labels) {
        long[] c = new long[counts.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].sum();
        }
        return HistogramDataPointSnapshot.builder().classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, c))
                .sum(sum.sum() / unitsPerExported).labels(labels).build();
    }
}
