package io.fedlink.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.concurrent.atomic.LongAdder;

/**
 * One classic histogram series of sizes in bytes, like {@link LatencyHistogram}: {@link #observe} takes no lock and
 * allocates nothing (one {@link LongAdder} per bucket and one for the sum); a scrape is not atomic across buckets.
 */
final class SizeHistogram {
    private final long[] bounds; // upper bounds in bytes, ascending; +Inf after them
    private final LongAdder[] counts;
    private final LongAdder sum = new LongAdder();

    SizeHistogram(long[] upperBounds) {
        this.bounds = upperBounds.clone();
        this.counts = new LongAdder[bounds.length + 1];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Counts one size (negative values count as zero). */
    void observe(long bytes) {
        long v = Math.max(0, bytes);
        int i = 0;
        while (i < bounds.length && v > bounds[i]) {
            i++;
        }
        counts[i].increment();
        sum.add(v);
    }

    /** The series as the client library exposes it. */
    HistogramDataPointSnapshot snapshot(Labels labels) {
        double[] upper = new double[counts.length];
        long[] c = new long[counts.length];
        for (int i = 0; i < c.length; i++) {
            upper[i] = i < bounds.length ? bounds[i] : Double.POSITIVE_INFINITY;
            c[i] = counts[i].sum();
        }
        return HistogramDataPointSnapshot.builder().classicHistogramBuckets(ClassicHistogramBuckets.of(upper, c))
                .sum(sum.sum()).labels(labels).build();
    }
}
