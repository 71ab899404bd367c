package io.github.mispcorrelator.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What storing hits costs PostgreSQL, measured on the store alone (no HTTP, no rules): the same alerts saved one at a
 * time (each its own transaction, as before group commit) and from 64 callers at once (group commit), with and
 * without the index V11_2 dropped. PostgreSQL's CPU is read from /proc for the server and all its processes.
 * Opt-in ({@code -Dstore.cost=true}); figures in the issue-16 notes and README.
 */
class HitStoreCostIT {
    static final int ALERTS = Integer.getInteger("store.cost.alerts", 4000);

    @Test
    void perAlertTransactionsAgainstGroupCommit() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("store.cost"), "opt-in: -Dstore.cost=true");
        Vertx vertx = BlockedEventLoops.vertx();
        try {
            WorkerExecutor workers = vertx.createSharedWorkerExecutor("cost-jdbc", 4);
            PostgresHitStore store = new PostgresHitStore(TestDatabase.dataSource(), workers);
            int postmaster = postmaster();
            for (int round = 0; round < 2; round++) {
                for (boolean withIndex : new boolean[]{true, false}) {
                    sql(withIndex ? "CREATE INDEX IF NOT EXISTS hits_detected_at_idx ON hits (detected_at)"
                            : "DROP INDEX IF EXISTS hits_detected_at_idx");
                    for (int callers : new int[]{1, 64}) {
                        TestDatabase.truncateHits();
                        sql("CHECKPOINT");
                        measure(vertx, store, postmaster, callers, withIndex, round);
                    }
                }
            }
        } finally {
            sql("DROP INDEX IF EXISTS hits_detected_at_idx");
            vertx.close();
        }
    }

    private static void measure(Vertx vertx, PostgresHitStore store, int postmaster, int callers, boolean withIndex,
                                int round) throws Exception {
        String template = Files.readString(Path.of("config/samples/sysmon-eid1-eicar.json"));
        long[] groupsBefore = store.groupCounts();
        String wal0 = (String) value("SELECT pg_current_wal_lsn()::text");
        long cpu0 = cpuTicks(postmaster);
        long t0 = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        List<Future<Void>> streams = new ArrayList<>();
        for (int s = 0; s < callers; s++) {
            Promise<Void> done = Promise.promise();
            streams.add(done.future());
            vertx.runOnContext(v -> saveNext(store, template, next, done));
        }
        Future.all(streams).await(600, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (cpuTicks(postmaster) - cpu0) / 100.0;
        long wal = ((Number) value("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '" + wal0 + "')")).longValue();
        long[] groups = store.groupCounts();
        assertThat(((Number) value("SELECT count(*) FROM hits")).longValue()).isEqualTo(ALERTS);
        System.out.printf(Locale.ROOT, "hit store cost, round %d, %s hits_detected_at_idx, %2d caller(s): %,d alerts "
                        + "(1 hit each) in %.2f s = %,.0f alerts/s; PostgreSQL CPU %.0f µs/alert; WAL %,.0f B/alert; "
                        + "%.1f alerts per transaction%n", round, withIndex ? "with   " : "without", callers, ALERTS,
                seconds, ALERTS / seconds, cpu / ALERTS * 1e6, (double) wal / ALERTS,
                (double) (groups[1] - groupsBefore[1]) / Math.max(1, groups[0] - groupsBefore[0]));
    }

    /** One caller: the next alert once the previous one's hits are committed, as an HTTP client waiting for 200. */
    private static void saveNext(PostgresHitStore store, String template, AtomicInteger next, Promise<Void> done) {
        int i = next.getAndIncrement();
        if (i >= ALERTS) {
            done.tryComplete();
            return;
        }
        Alert alert = alert(template, i);
        store.save(alert, List.of(PostgresHitStoreIT.hit(alert, "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2", "a-1")),
                        "v", Origin.LIVE)
                .onSuccess(h -> saveNext(store, template, next, done))
                .onFailure(done::tryFail);
    }

    private static Alert alert(String template, int i) {
        ObjectNode json = AlertParser.parse(template).json().deepCopy();
        json.put("id", "1756800000." + i);
        return new Alert(json, "1756800000." + i);
    }

    /** utime + stime of the server and every process it started, in clock ticks (100 a second). */
    private static long cpuTicks(int postmaster) throws IOException {
        long ticks = 0;
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) dirs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                int pid = Integer.parseInt(name);
                if (pid == postmaster || Integer.parseInt(f[1]) == postmaster) {
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                }
            }
        }
        return ticks;
    }

    private static int postmaster() throws Exception {
        int backend = ((Number) value("SELECT pg_backend_pid()")).intValue();
        String stat = Files.readString(Path.of("/proc/" + backend + "/stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    private static Object value(String sql) throws SQLException {
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getObject(1);
        }
    }

    private static void sql(String sql) throws SQLException {
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
