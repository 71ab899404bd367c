package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.store.RecheckQueue;
import io.github.mispcorrelator.correlate.EventSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks again the alerts whose indicators could not be looked up (they wait in {@link RecheckQueue}): as soon as
 * MISP answers again (the circuit breaker closes) and every {@code interval} anyway. An alert leaves the queue once
 * every one of its values got an answer; its hits are stored (and sent to analysisd when a socket is configured),
 * so a MISP outage loses no hit.
 */
public final class Rechecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Rechecker.class);
    static final int PAGE = 100;

    private final Vertx vertx;
    private final RecheckQueue queue;
    private final Correlator correlator;
    private final MispSource misp;
    private final EventSink events;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong recovered = new AtomicLong();
    private final long timer;

    /** @param events where the events of hits found on re-check go ({@link EventSink#NONE}: stored only) */
    public Rechecker(Vertx vertx, RecheckQueue queue, Correlator correlator, MispSource misp, EventSink events,
                     Duration interval) {
        this.vertx = vertx;
        this.queue = queue;
        this.correlator = correlator;
        this.misp = misp;
        this.events = events;
        this.timer = vertx.setPeriodic(Math.max(1, interval.toMillis()), id -> {
            // the bound holds during an outage too, when no re-check runs
            queue.trim().onSuccess(dropped -> {
                if (dropped > 0) {
                    LOG.warn("Re-check queue full: dropped the {} oldest alerts (raise MISP_RECHECK_MAX)", dropped);
                }
            });
            trigger();
        });
    }

    /** Starts a drain now unless one runs; returns when the queue is empty or MISP fails again. */
    public Future<Void> trigger() {
        if (!misp.ready() || !running.compareAndSet(false, true)) {
            return Future.succeededFuture();
        }
        return drain()
                .onComplete(ar -> {
                    running.set(false);
                    if (ar.failed()) {
                        LOG.warn("Re-check paused: {}", ar.cause().getMessage());
                    }
                });
    }

    private Future<Void> drain() {
        return queue.claim(PAGE).compose(alerts -> {
            if (alerts.isEmpty() || !misp.ready()) {
                return Future.succeededFuture();
            }
            List<Future<Boolean>> done = new ArrayList<>();
            for (Alert a : alerts) {
                done.add(correlator.recheck(a).compose(c -> c.lookupErrors().isEmpty()
                        ? deliver(c).compose(v -> queue.remove(a)).map(true)
                        : Future.succeededFuture(false)));
            }
            return Future.join(done).transform(ar -> {
                long ok = done.stream().filter(f -> f.succeeded() && f.result()).count();
                recovered.addAndGet(ok);
                if (ok > 0) {
                    LOG.info("Re-checked {} alert(s) after a MISP failure", ok);
                }
                // a full page that all went through: there may be more
                return ok == alerts.size() && alerts.size() == PAGE ? drain() : Future.succeededFuture();
            });
        });
    }

    /**
     * Events of hits the first pass did not store (a re-check's correlation reports only those); those it did store
     * already went to Wazuh with that answer. An event analysisd does not take is not retried: the hit is stored.
     */
    private Future<Void> deliver(Correlation c) {
        return events.deliver(c).otherwiseEmpty();
    }

    public long recovered() {
        return recovered.get();
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
    }
}
