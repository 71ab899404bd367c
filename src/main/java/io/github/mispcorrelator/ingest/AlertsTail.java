package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.store.StoreUnavailableException;
import io.github.mispcorrelator.store.TailOffsets;
import io.github.mispcorrelator.correlate.EventSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Follows the manager's {@code alerts.json}: for a correlator on the manager host, the fastest way in (no HTTP, no
 * process per alert). Each chunk of lines is correlated, its events are sent straight to analysisd, and only then
 * is the read position committed to PostgreSQL — so a restart neither loses nor repeats a stored hit (events of the
 * last uncommitted chunk may be sent twice: at least once). Unparsable lines are counted, logged and skipped; a
 * database outage stops the tailer at the first unstored line until the database is back.
 */
public final class AlertsTail implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AlertsTail.class);
    static final int MAX_LINES = 500;
    static final int MAX_BYTES = 4 << 20;

    /** Where to begin a file never read before. */
    public enum StartAt { BEGINNING, END }

    private final Vertx vertx;
    private final Path path;
    private final String name;
    private final Correlator correlator;
    private final TailOffsets offsets;
    private final EventSink events;
    private final StartAt startAt;
    private final Duration poll;
    private final WorkerExecutor io;
    private final AlertsFile file;
    private final AtomicLong alerts = new AtomicLong();
    private final AtomicLong badLines = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong undelivered = new AtomicLong();
    private volatile boolean closed;
    private boolean busy;
    private long timer = -1;

    /** @param events where the events go: analysisd's socket, or {@link EventSink#NONE} to store hits only */
    public AlertsTail(Vertx vertx, Path path, Correlator correlator, TailOffsets offsets, EventSink events,
                      StartAt startAt, Duration poll) {
        this.vertx = vertx;
        this.path = path;
        this.name = path.toAbsolutePath().normalize().toString();
        this.correlator = correlator;
        this.offsets = offsets;
        this.events = events;
        this.startAt = startAt;
        this.poll = poll;
        this.io = vertx.createSharedWorkerExecutor("alerts-tail", 1);
        this.file = new AlertsFile(path);
    }

    /** Resumes from the committed offset (or {@code startAt} for a new file) and starts polling. */
    public Future<Void> start() {
        return offsets.load(name).compose(stored -> io.executeBlocking(() -> {
            if (stored.isPresent()) {
                if (file.open(stored.get().position(), stored.get().fileKey())) {
                    LOG.info("Tailing {} from byte {}{}", name, stored.get().position(),
                            file.fileKey().equals(stored.get().fileKey()) ? "" : " — rotated while stopped, from its start");
                }
            } else if (file.open(0, null) && startAt == StartAt.END) {
                file.seek(file.fileKey(), file.size());
                LOG.info("Tailing {} from its end (first start)", name);
            }
            return null;
        }, true)).<Void>mapEmpty().onSuccess(v -> schedule(0));
    }

    private void schedule(long delayMs) {
        if (!closed) {
            timer = vertx.setTimer(Math.max(1, delayMs), id -> step());
        }
    }

    private void step() {
        if (busy || closed) {
            return;
        }
        busy = true;
        io.executeBlocking(() -> file.read(MAX_LINES, MAX_BYTES), true)
                .compose(this::process)
                .onComplete(ar -> {
                    busy = false;
                    if (ar.failed()) {
                        LOG.warn("Tailing {} paused: {}", name, ar.cause().getMessage());
                        schedule(Math.max(poll.toMillis(), 2_000));
                    } else {
                        schedule(ar.result() ? 0 : poll.toMillis());
                    }
                });
    }

    /** Correlates a chunk in order of completion, then commits; true when more lines are waiting. */
    private Future<Boolean> process(AlertsFile.Chunk chunk) {
        if (chunk.lines().isEmpty()) {
            return Future.succeededFuture(chunk.more());
        }
        List<Future<Correlation>> results = new ArrayList<>(chunk.lines().size());
        for (AlertsFile.Line line : chunk.lines()) {
            if (line.text().isBlank()) {
                results.add(Future.succeededFuture(null));
                continue;
            }
            Alert alert;
            try {
                alert = AlertParser.parse(line.text());
            } catch (InvalidAlertException e) {
                badLines.incrementAndGet();
                LOG.warn("{}: skipped a line ending at byte {}: {}", name, line.endPosition(), e.getMessage());
                results.add(Future.succeededFuture(null));
                continue;
            }
            alerts.incrementAndGet();
            results.add(correlator.process(alert).compose(c -> deliver(c).map(c)));
        }
        return Future.join(results).transform(ar -> {
            // commit up to the first line that could not be stored; re-read from there next time
            AlertsFile.Line last = null;
            for (int i = 0; i < results.size(); i++) {
                Future<Correlation> f = results.get(i);
                if (f.failed() && (f.cause() instanceof StoreUnavailableException
                        || f.cause() instanceof UndeliveredException)) {
                    // not stored, or stored but not yet told to Wazuh: read again from this line next time
                    AlertsFile.Line first = chunk.lines().get(i);
                    file.seek(first.fileKey(), first.startPosition());
                    return commit(last).compose(v -> Future.failedFuture(f.cause()));
                }
                if (f.failed()) {
                    LOG.error("{}: alert ending at byte {} failed and is skipped: {}", name,
                            chunk.lines().get(i).endPosition(), f.cause().getMessage());
                } else if (f.result() != null) {
                    hits.addAndGet(f.result().hits().size());
                }
                last = chunk.lines().get(i);
            }
            return commit(last).map(chunk.more());
        });
    }

    private Future<Void> commit(AlertsFile.Line last) {
        return last == null ? Future.succeededFuture()
                : offsets.save(name, new TailOffsets.Offset(last.fileKey(), last.endPosition()));
    }

    /**
     * Sends the alert's events; fails with {@link UndeliveredException} when analysisd does not take them (a manager
     * restart), so the line is read again: events are delivered at least once, the hits are stored once.
     */
    private Future<Void> deliver(Correlation c) {
        return events.deliver(c).recover(err -> {
            undelivered.incrementAndGet();
            return Future.failedFuture(new UndeliveredException("events for alert " + c.alert().getId()
                    + " not delivered to analysisd: " + err.getMessage()));
        });
    }

    /** analysisd did not take an event; the tailer pauses and re-reads from that alert. */
    static final class UndeliveredException extends RuntimeException {
        UndeliveredException(String message) {
            super(message, null, false, false);
        }
    }

    public JsonObject status() {
        return new JsonObject().put("file", name).put("alerts", alerts.get()).put("bad_lines", badLines.get())
                .put("hits", hits.get()).put("undelivered_events", undelivered.get());
    }

    @Override
    public void close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        io.close();
        try {
            file.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
