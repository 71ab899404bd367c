package io.github.mispcorrelator.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.UncheckedAlerts;
import io.github.mispcorrelator.json.Json;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import java.time.Duration;
import javax.sql.DataSource;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/**
 * Alerts waiting for MISP to answer again, kept in PostgreSQL (they survive a restart) and bounded: past
 * {@code max} rows the oldest are dropped, and the count dropped is reported. Off the event loop.
 */
public final class RecheckQueue implements UncheckedAlerts {
    static final String ENQUEUE = """
            INSERT INTO recheck_queue (manager, alert_id, alert, reason) VALUES (?, ?, ?::jsonb, ?)
            ON CONFLICT (manager, alert_id) DO UPDATE SET reason = EXCLUDED.reason,
                                                          attempts = recheck_queue.attempts + 1,
                                                          enqueued_at = now(),
                                                          correlator_instance = EXCLUDED.correlator_instance,
                                                          claimed_by = NULL, claimed_until = NULL
            """;
    // enqueued_at moves on every failed attempt: alerts that keep failing go to the back, others get their turn
    // several instances share the queue: each claims a page of rows nobody holds (or whose claim expired: its
    // instance died) for a lease; SKIP LOCKED lets two instances claim at the same moment without waiting or overlap
    static final String CLAIM = """
            UPDATE recheck_queue q SET claimed_by = ?, claimed_until = now() + make_interval(secs => ?)
            FROM (SELECT manager, alert_id FROM recheck_queue
                  WHERE claimed_until IS NULL OR claimed_until < now()
                  ORDER BY enqueued_at LIMIT ? FOR UPDATE SKIP LOCKED) free
            WHERE q.manager = free.manager AND q.alert_id = free.alert_id
            RETURNING q.alert_id, q.alert, q.enqueued_at
            """;
    // a row claimed again by another instance after our claim expired is theirs now
    static final String REMOVE = """
            DELETE FROM recheck_queue WHERE manager = ? AND alert_id = ? AND (claimed_by IS NULL OR claimed_by = ?)
            """;
    static final String COUNT = "SELECT count(*) FROM recheck_queue";
    static final String TRIM = """
            DELETE FROM recheck_queue WHERE (manager, alert_id) IN (
                SELECT manager, alert_id FROM recheck_queue ORDER BY enqueued_at DESC OFFSET ?)
            """;

    private final Jdbc jdbc;
    private final long max;
    private final String instance;
    private final double claimSeconds;

    public RecheckQueue(DataSource dataSource, WorkerExecutor jdbc, long max) {
        this(dataSource, jdbc, max, "local", Duration.ofMinutes(5));
    }

    /**
     * @param instance this correlator's CORRELATOR_INSTANCE_ID, written as the claimant
     * @param claim    how long a claimed alert stays with this instance; past it another may re-check it
     */
    public RecheckQueue(DataSource dataSource, WorkerExecutor jdbc, long max, String instance, Duration claim) {
        this.jdbc = new Jdbc(dataSource, jdbc);
        this.max = max;
        this.instance = instance;
        this.claimSeconds = claim.toMillis() / 1000.0;
    }

    /** Keeps an alert for a later look-up; an alert already waiting is counted as one more attempt. */
    @Override
    public Future<Void> add(Alert alert, String reason) {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
                ps.setString(1, PostgresHitStore.key(alert.getManager()));
                ps.setString(2, PostgresHitStore.key(alert.getId()));
                ps.setString(3, PostgresHitStore.alertJson(alert.json()));
                ps.setString(4, PostgresHitStore.clean(reason));
                ps.executeUpdate();
                return null;
            }
        });
    }

    /**
     * Claims the oldest waiting alerts no other instance holds, for this instance's claim lease; each leaves the
     * queue by {@link #remove} once re-checked, or is queued again ({@link #add}, which ends the claim).
     */
    public Future<List<Alert>> claim(int limit) {
        return jdbc.run(c -> {
            List<Alert> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
                ps.setString(1, instance);
                ps.setDouble(2, claimSeconds);
                ps.setInt(3, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // the stored id, not one derived again: an alert without "id" has a digest of its original
                        // body as id, and its stored JSON is not byte for byte that body
                        out.add(new Alert(stored(rs.getString(2)), rs.getString(1)));
                    }
                }
            }
            return out;
        });
    }

    private static ObjectNode stored(String json) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException("unreadable alert in recheck_queue: " + e.getMessage(), e);
        }
    }

    public Future<Void> remove(Alert alert) {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(REMOVE)) {
                ps.setString(1, PostgresHitStore.key(alert.getManager()));
                ps.setString(2, PostgresHitStore.key(alert.getId()));
                ps.setString(3, instance);
                ps.executeUpdate();
                return null;
            }
        });
    }

    public Future<Long> size() {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(COUNT); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Drops the oldest alerts beyond the bound; returns how many were dropped. */
    public Future<Integer> trim() {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(TRIM)) {
                ps.setLong(1, max);
                return ps.executeUpdate();
            }
        });
    }
}
