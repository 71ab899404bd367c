package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Observations;
import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Feeds the observation index from the live pipeline without slowing it: {@link #record} only adds to an in-memory
 * {@link ObservationBuffer}; every {@code flushEvery} (or at once when the buffer is full) its content is written in
 * one batch on the JDBC worker, one flush at a time. A crash loses what the buffer held, at most the last
 * {@code flushEvery} of observations; hits are written by the alert's own transaction and never wait for this. A failed
 * flush (database down) drops its batch with a warning: observations are a best-effort history, the alerts go on.
 * Also keeps the daily partitions (a pass at start, then hourly).
 */
public final class ObservationIndex implements Observations, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ObservationIndex.class);
    static final Duration MAINTENANCE_EVERY = Duration.ofHours(1);

    private final Vertx vertx;
    private final ObservationStore store;
    private final ObservationBuffer buffer;
    private final int lookbackDays;
    private final AtomicBoolean flushing = new AtomicBoolean();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private volatile Future<Void> lastFlush = Future.succeededFuture();
    private final long flushTimer;
    private final long maintenanceTimer;
    private final WorkerExecutor maintenance;

    public ObservationIndex(Vertx vertx, ObservationStore store, int lookbackDays, Duration flushEvery, int capacity,
                            WorkerExecutor maintenance) {
        this.vertx = vertx;
        this.store = store;
        this.lookbackDays = lookbackDays;
        this.buffer = new ObservationBuffer(capacity, Duration.ofDays(lookbackDays));
        this.maintenance = maintenance;
        this.flushTimer = vertx.setPeriodic(Math.max(1, flushEvery.toMillis()), id -> flush());
        this.maintenanceTimer = vertx.setPeriodic(MAINTENANCE_EVERY.toMillis(), id -> maintain());
    }

    /** Blocking, at start-up: the partitions of the window must exist before the first flush. */
    public void maintainNow() {
        store.maintainNow(lookbackDays);
    }

    private void maintain() {
        maintenance.executeBlocking(() -> store.maintainNow(lookbackDays), false)
                .onFailure(e -> LOG.warn("Observation index maintenance postponed to the next run: {}", e.getMessage()));
    }

    /** The indicators of one alert (not allow-listed; non-global addresses never get here). Never blocks. */
    @Override
    public void record(Alert alert, List<Indicator> indicators) {
        if (buffer.record(alert, indicators, Instant.now())) {
            flush();
        }
    }

    /** Writes what is held now, unless a flush is already writing; completes when the batch is written (or dropped). */
    public Future<Void> flush() {
        if (buffer.size() == 0 || !flushing.compareAndSet(false, true)) {
            return lastFlush;
        }
        // drained and sorted on the JDBC worker too: a full buffer is tens of thousands of keys
        Future<Void> f = store.blocking(() -> {
                    ObservationBuffer.Batch batch = buffer.drain();
                    if (batch.isEmpty()) {
                        return null;
                    }
                    try {
                        written.addAndGet(store.writeNow(batch));
                    } catch (RuntimeException e) {
                        lost.addAndGet(batch.days().size());
                        LOG.warn("Observation index: {} aggregate(s) not written ({}); later alerts are recorded again",
                                batch.days().size(), e.getMessage());
                    }
                    return null;
                })
                .<Void>mapEmpty()
                .otherwiseEmpty()
                .onComplete(ar -> flushing.set(false));
        lastFlush = f;
        return f;
    }

    /** Flushes until the buffer is empty (tests, shutdown). */
    public Future<Void> flushAll() {
        return lastFlush.eventually(() -> flush()).compose(v -> buffer.size() == 0 ? Future.succeededFuture() : flushAll());
    }

    /** The oldest UTC day the index keeps. */
    public LocalDate oldestDay() {
        return LocalDate.now(ZoneOffset.UTC).minusDays(lookbackDays - 1L);
    }

    public ObservationStore store() {
        return store;
    }

    public int lookbackDays() {
        return lookbackDays;
    }

    /** Aggregates written, dropped because the buffer was full, and lost in failed flushes. */
    public long written() {
        return written.get();
    }

    public long dropped() {
        return buffer.dropped();
    }

    public long lost() {
        return lost.get();
    }

    /** Stops the timers; the caller flushes first if it wants the last aggregates written. */
    @Override
    public void close() {
        vertx.cancelTimer(flushTimer);
        vertx.cancelTimer(maintenanceTimer);
    }
}
