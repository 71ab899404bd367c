package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.store.Jdbc;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the monthly partitions of {@code hits}: creates this month's and the next ahead of time, and drops whole months
 * once they are older than {@code RETENTION_DAYS}. The work is {@code hits_maintain()} in migrations/V3, which the
 * application's role may run although it may not delete a single row itself.
 */
public final class Retention {
    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    static final String MAINTAIN = "SELECT action, partition_name, row_count FROM hits_maintain(?, ?)";
    /** Months created ahead, so that inserts at the turn of a month find their partition. */
    static final int MONTHS_AHEAD = 1;

    public record Action(String action, String partition, long rows) {
        @Override
        public String toString() {
            return action + " " + partition + (rows > 0 ? " (" + rows + " hits)" : "");
        }
    }

    private final Jdbc jdbc;
    private final int retentionDays;

    /** @param retentionDays 0 keeps every hit */
    public Retention(DataSource dataSource, int retentionDays) {
        this.jdbc = new Jdbc(dataSource, null);
        this.retentionDays = retentionDays;
    }

    /** Blocking: one maintenance pass. */
    public List<Action> runNow() {
        // one transaction: hits_maintain's lock_timeout is SET LOCAL
        List<Action> actions = jdbc.transactionNow(c -> {
            List<Action> done = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(MAINTAIN)) {
                ps.setInt(1, retentionDays);
                ps.setInt(2, MONTHS_AHEAD);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        done.add(new Action(rs.getString(1), rs.getString(2), rs.getLong(3)));
                    }
                }
            }
            return done;
        });
        actions.forEach(a -> LOG.info("Hits partitions: {}", a));
        return actions;
    }

    /** Runs a pass now and then every {@code every}, on {@code executor}; a failed pass is retried at the next. */
    public long schedule(Vertx vertx, WorkerExecutor executor, Duration every) {
        return schedule(vertx, executor, every, () -> true);
    }

    /** As above, each pass only when {@code mayRun} says so (this instance holds the retention singleton). */
    public long schedule(Vertx vertx, WorkerExecutor executor, Duration every, BooleanSupplier mayRun) {
        return vertx.setPeriodic(0, every.toMillis(), id -> {
            if (mayRun.getAsBoolean()) {
                runLogged(executor);
            }
        });
    }

    Future<List<Action>> runLogged(WorkerExecutor executor) {
        return executor.executeBlocking(this::runNow, false).onFailure(e -> LOG.warn(
                "Hits partition maintenance postponed to the next run (a long export holding the table?): {}",
                e.getMessage()));
    }
}
