package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Alerts waiting for MISP to answer again, kept in PostgreSQL (they survive a restart) and bounded: past
 * {@code max} rows the oldest are dropped, and the count dropped is reported. Off the event loop.
 */
public final class RecheckQueue {
    static final String ENQUEUE = """
            INSERT INTO recheck_queue (manager, alert_id, alert, reason) VALUES (?, ?, ?::jsonb, ?)
            ON CONFLICT (manager, alert_id) DO UPDATE SET reason = EXCLUDED.reason,
                                                          attempts = recheck_queue.attempts + 1,
                                                          enqueued_at = now()
            """;
    // enqueued_at moves on every failed attempt: alerts that keep failing go to the back, others get their turn
    static final String OLDEST = "SELECT alert_id, alert FROM recheck_queue ORDER BY enqueued_at LIMIT ?";
    static final String REMOVE = "DELETE FROM recheck_queue WHERE manager = ? AND alert_id = ?";
    static final String COUNT = "SELECT count(*) FROM recheck_queue";
    static final String TRIM = """
            DELETE FROM recheck_queue WHERE (manager, alert_id) IN (
                SELECT manager, alert_id FROM recheck_queue ORDER BY enqueued_at DESC OFFSET ?)
            """;

    private final DataSource dataSource;
    private final WorkerExecutor jdbc;
    private final long max;

    public RecheckQueue(DataSource dataSource, WorkerExecutor jdbc, long max) {
        this.dataSource = dataSource;
        this.jdbc = jdbc;
        this.max = max;
    }

    /** Keeps an alert for a later look-up; an alert already waiting is counted as one more attempt. */
    public Future<Void> add(Alert alert, String reason) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
                ps.setString(1, PostgresHitStore.key(alert.getManager()));
                ps.setString(2, PostgresHitStore.key(alert.getId()));
                ps.setString(3, PostgresHitStore.alertJson(alert.json()));
                ps.setString(4, PostgresHitStore.clean(reason));
                ps.executeUpdate();
                return null;
            } catch (SQLException e) {
                throw PostgresHitStore.translate(e);
            }
        }, false);
    }

    /** The oldest waiting alerts. */
    public Future<List<Alert>> oldest(int limit) {
        return jdbc.executeBlocking(() -> {
            List<Alert> out = new ArrayList<>();
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(OLDEST)) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // the stored id, not one derived again: an alert without "id" has a digest of its original
                        // body as id, and its stored JSON is not byte for byte that body
                        com.fasterxml.jackson.databind.JsonNode node = AlertParser.MAPPER.readTree(rs.getString(2));
                        out.add(new Alert((com.fasterxml.jackson.databind.node.ObjectNode) node, rs.getString(1)));
                    }
                }
            } catch (SQLException e) {
                throw PostgresHitStore.translate(e);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("unreadable alert in recheck_queue: " + e.getMessage(), e);
            }
            return out;
        }, false);
    }

    public Future<Void> remove(Alert alert) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(REMOVE)) {
                ps.setString(1, PostgresHitStore.key(alert.getManager()));
                ps.setString(2, PostgresHitStore.key(alert.getId()));
                ps.executeUpdate();
                return null;
            } catch (SQLException e) {
                throw PostgresHitStore.translate(e);
            }
        }, false);
    }

    public Future<Long> size() {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(COUNT);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            } catch (SQLException e) {
                throw PostgresHitStore.translate(e);
            }
        }, false);
    }

    /** Drops the oldest alerts beyond the bound; returns how many were dropped. */
    public Future<Integer> trim() {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(TRIM)) {
                ps.setLong(1, max);
                return ps.executeUpdate();
            } catch (SQLException e) {
                throw PostgresHitStore.translate(e);
            }
        }, false);
    }
}
