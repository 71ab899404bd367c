package io.github.mispcorrelator.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/** Latencies of one phase, kept whole (a phase is bounded in count) so percentiles are exact. */
final class Latencies {
    private final long[] nanos;
    private final AtomicInteger count = new AtomicInteger();

    Latencies(int capacity) {
        this.nanos = new long[Math.max(1, capacity)];
    }

    void record(long n) {
        int i = count.getAndIncrement();
        if (i < nanos.length) {
            nanos[i] = n;
        }
    }

    /** Percentiles in milliseconds. */
    record Summary(int samples, double p50, double p99, double p999, double max, double mean) {
        static final Summary NONE = new Summary(0, 0, 0, 0, 0, 0);
    }

    Summary summary() {
        int n = Math.min(count.get(), nanos.length);
        if (n == 0) {
            return Summary.NONE;
        }
        long[] sorted = Arrays.copyOf(nanos, n);
        Arrays.sort(sorted);
        double sum = 0;
        for (long v : sorted) {
            sum += v;
        }
        return new Summary(n, ms(at(sorted, 0.50)), ms(at(sorted, 0.99)), ms(at(sorted, 0.999)), ms(sorted[n - 1]),
                ms((long) (sum / n)));
    }

    /** Nearest-rank percentile. */
    static long at(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
