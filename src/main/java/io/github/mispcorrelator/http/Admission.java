package io.github.mispcorrelator.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission control for the ingest endpoints, shared by every HTTP verticle: at most {@code maxAlerts} single alerts
 * and {@code maxBatches} batches in flight (each batch runs at most {@code BatchIngest.CONCURRENCY} alerts at once),
 * counted from before the body is read, so the bodies held in memory are bounded too. A request beyond is answered
 * 503 with {@code Retry-After} at once, without reading its body. Under load the service sheds instead of queueing:
 * its heap stays bounded and the callers (the forwarder, a shipper) retry later.
 */
public final class Admission {
    /** How long after shedding a request the service still reports itself as shedding (readiness). */
    private static final long SHEDDING_MEMORY_NANOS = 5_000_000_000L;

    private final int maxAlerts;
    private final int maxBatches;
    private final AtomicInteger alerts = new AtomicInteger();
    private final AtomicInteger batches = new AtomicInteger();
    private final AtomicLong lastShed = new AtomicLong(System.nanoTime() - 2 * SHEDDING_MEMORY_NANOS);
    private volatile boolean closed;
    private Counter shedAlerts;
    private Counter shedBatches;

    public Admission(int maxAlerts, int maxBatches) {
        this.maxAlerts = maxAlerts;
        this.maxBatches = maxBatches;
    }

    /** Counters {@code http_shed_requests_total{endpoint}} and gauges of what is in flight. */
    public Admission register(MeterRegistry registry) {
        shedAlerts = Counter.builder("http_shed_requests").tag("endpoint", "alerts")
                .description("Requests answered 503 because the service was full").register(registry);
        shedBatches = Counter.builder("http_shed_requests").tag("endpoint", "alerts_batch")
                .description("Requests answered 503 because the service was full").register(registry);
        Gauge.builder("http_in_flight", alerts, AtomicInteger::get).tag("endpoint", "alerts").register(registry);
        Gauge.builder("http_in_flight", batches, AtomicInteger::get).tag("endpoint", "alerts_batch").register(registry);
        return this;
    }

    /** Takes a slot for one alert; false (and counted as shed) when full or stopping. */
    public boolean tryAlert() {
        return take(alerts, maxAlerts, shedAlerts);
    }

    /** Takes a slot for one batch; false (and counted as shed) when full or stopping. */
    public boolean tryBatch() {
        return take(batches, maxBatches, shedBatches);
    }

    public void releaseAlert() {
        alerts.decrementAndGet();
    }

    public void releaseBatch() {
        batches.decrementAndGet();
    }

    private boolean take(AtomicInteger used, int max, Counter shed) {
        if (!closed) {
            while (true) {
                int n = used.get();
                if (n >= max) {
                    break;
                }
                if (used.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }
        lastShed.set(System.nanoTime());
        if (shed != null) {
            shed.increment();
        }
        return false;
    }

    /** Whether a request was turned away in the last few seconds, or the service is stopping. */
    public boolean shedding() {
        return closed || System.nanoTime() - lastShed.get() < SHEDDING_MEMORY_NANOS;
    }

    /** Requests admitted and not yet answered. */
    public int inFlight() {
        return alerts.get() + batches.get();
    }

    /** From now on every request is turned away (shutting down); those in flight go on. */
    public void close() {
        closed = true;
    }

    /**
     * Waits until nothing admitted is in flight, at most {@code timeoutMillis}.
     *
     * @return whether everything finished in time
     */
    public boolean awaitIdle(long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (inFlight() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
