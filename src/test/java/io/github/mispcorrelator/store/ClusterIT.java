package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.CorrelatorProcess;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several instances on one PostgreSQL: the re-check queue claimed without overlap (SKIP LOCKED) and given back when
 * a claim expires; two instances (child JVMs) migrating a fresh database at the same moment; the singleton moving
 * to the survivor within the lease when its holder is killed, and the re-checks the dead one had claimed done by the
 * survivor.
 */
class ClusterIT {
    static final String SAMPLE = "config/samples/sysmon-eid3-c2.json";

    static String alert(String id) throws Exception {
        return Files.readString(Path.of(SAMPLE)).strip().replaceFirst("\"id\":\"[0-9]+\\.[0-9]+\"", "\"id\":\"" + id + "\"");
    }

    static void enqueue(Connection c, String manager, int n, String run, String claimedBy, String claimSql) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO recheck_queue (manager, alert_id, alert, reason, claimed_by, "
                + "claimed_until) VALUES (?, ?, ?::jsonb, 'MISP timed out', ?, " + claimSql + ")")) {
            for (int i = 0; i < n; i++) {
                ps.setString(1, manager);
                ps.setString(2, run + "." + i);
                ps.setString(3, alert(run + "." + i).replace("\"wazuh-manager\"", "\"" + manager + "\""));
                ps.setString(4, claimedBy);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    @Test
    void instancesClaimDisjointPagesAndTakeOverExpiredClaims() throws Exception {
        String run = "rq" + System.nanoTime();
        var ds = TestDatabase.dataSource();
        try (Connection c = ds.getConnection()) {
            enqueue(c, run, 1000, run, null, "NULL");
        }
        Vertx vertx = BlockedEventLoops.vertx();
        try {
            WorkerExecutor jdbc = vertx.createSharedWorkerExecutor("rq-it", 4);
            RecheckQueue x = new RecheckQueue(ds, jdbc, 1_000_000, "x", Duration.ofMinutes(1));
            RecheckQueue y = new RecheckQueue(ds, jdbc, 1_000_000, "y", Duration.ofMinutes(1));
            Map<String, String> claimedBy = new ConcurrentHashMap<>();
            List<String> twice = java.util.Collections.synchronizedList(new ArrayList<>());
            // both instances claim pages at the same moments until nothing is left
            boolean more = true;
            while (more) {
                List<Future<List<Alert>>> pages = List.of(x.claim(37), y.claim(37), x.claim(37), y.claim(37));
                Future.join(pages).await(30, TimeUnit.SECONDS);
                more = false;
                for (int i = 0; i < pages.size(); i++) {
                    for (Alert a : pages.get(i).result()) {
                        if (!a.getManager().equals(run)) {
                            continue; // another test's row, or the dead instance's before its claim expired
                        }
                        more = true;
                        if (claimedBy.put(a.getId(), i % 2 == 0 ? "x" : "y") != null) {
                            twice.add(a.getId());
                        }
                    }
                }
            }
            assertThat(twice).isEmpty();
            assertThat(claimedBy).hasSize(1000);
            assertThat(new HashSet<>(claimedBy.values())).containsExactlyInAnyOrder("x", "y");
            assertThat(count("SELECT count(*) FROM recheck_queue WHERE manager = '" + run + "' AND claimed_by IS NULL")).isZero();

            // the dead instance's claims: not before they expire, then by whoever asks
            try (Connection c = ds.getConnection()) {
                enqueue(c, run + "-dead", 20, run, "dead", "now() + interval '2 seconds'");
            }
            assertThat(x.claim(100).await(30, TimeUnit.SECONDS)).noneMatch(a -> a.getManager().equals(run + "-dead"));
            Thread.sleep(2_500);
            List<Alert> taken = x.claim(100).await(30, TimeUnit.SECONDS).stream()
                    .filter(a -> a.getManager().equals(run + "-dead")).toList();
            assertThat(taken).hasSize(20);
            // a row another instance holds is not removed by one whose claim it is not
            Alert first = taken.get(0);
            y.remove(first).await(30, TimeUnit.SECONDS);
            assertThat(count("SELECT count(*) FROM recheck_queue WHERE manager = '" + run + "-dead'")).isEqualTo(20);
            x.remove(first).await(30, TimeUnit.SECONDS);
            assertThat(count("SELECT count(*) FROM recheck_queue WHERE manager = '" + run + "-dead'")).isEqualTo(19);
        } finally {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("DELETE FROM recheck_queue WHERE manager LIKE '" + run + "%'");
            }
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void freshDatabaseTwoInstancesAtOnceSingletonMovesWhenTheHolderIsKilled() throws Exception {
        String run = "cl" + System.nanoTime();
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        String db = "cluster_" + run;
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        String url = env.get("CORRELATOR_DB_URL").replaceFirst("/[^/?]+(\\?|$)", "/" + db + "$1");
        env.put("CORRELATOR_DB_URL", url);
        env.put("CORRELATOR_CLUSTER_HEARTBEAT", "1s");
        env.put("CORRELATOR_CLUSTER_LEASE_TTL", "4s");
        env.put("CORRELATOR_MISP_RECHECK_INTERVAL", "1s");
        Path logs = Fixtures.workDir("cluster-it");
        // started together on an empty database: both run Flyway at the same moment
        CorrelatorProcess a = CorrelatorProcess.start(run + "-a", env, logs);
        CorrelatorProcess b = CorrelatorProcess.start(run + "-b", env, logs);
        try (Connection c = DriverManager.getConnection(url, env.get("CORRELATOR_DB_USER"), env.get("CORRELATOR_DB_PASSWORD"))) {
            a.awaitReady(Duration.ofSeconds(180));
            b.awaitReady(Duration.ofSeconds(180));
            assertThat(count(c, "SELECT count(*) FROM flyway_schema_history WHERE NOT success")).isZero();
            assertThat(count(c, "SELECT count(*) FROM flyway_schema_history WHERE version IS NOT NULL"))
                    .isEqualTo(count(c, "SELECT count(DISTINCT version) FROM flyway_schema_history WHERE version IS NOT NULL"));
            assertThat(count(c, "SELECT count(*) FROM flyway_schema_history WHERE version = '9.1'")).isEqualTo(1);

            awaitTrue("someone holds retention", () -> holder(c) != null);
            String first = holder(c);
            CorrelatorProcess holder = first.equals(a.instance()) ? a : b;
            CorrelatorProcess survivor = holder == a ? b : a;
            assertThat(first).isIn(a.instance(), b.instance());
            Thread.sleep(2_500);
            assertThat(holder(c)).as("the holder renews; the other does not take it").isEqualTo(first);

            // re-checks the holder has claimed when it dies: the survivor does them once the claim expires
            int queued = 50;
            try (Statement s = c.createStatement()) {
                s.execute("SET correlator.instance = 'test'");
            }
            enqueue(c, "wazuh-manager", queued, run, holder.instance(), "now() + interval '4 seconds'");
            holder.kill();
            long killed = System.nanoTime();
            awaitTrue("the survivor holds retention", () -> survivor.instance().equals(holder(c)));
            long takeOverMs = (System.nanoTime() - killed) / 1_000_000;
            awaitTrue("the dead instance's re-checks done", () -> count(c,
                    "SELECT count(*) FROM recheck_queue WHERE alert_id LIKE '" + run + ".%'") == 0);
            long recheckMs = (System.nanoTime() - killed) / 1_000_000;
            long hits = count(c, "SELECT count(*) FROM hits WHERE alert_id LIKE '" + run + ".%'");
            long bySurvivor = count(c, "SELECT count(*) FROM hits WHERE alert_id LIKE '" + run
                    + ".%' AND correlator_instance = '" + survivor.instance() + "'");
            System.out.printf("ClusterIT: retention moved %d ms after SIGKILL (lease 4 s, heartbeat 1 s); the %d re-checks "
                    + "the dead instance had claimed were done by the survivor %d ms after it (claim lease 4 s)%n",
                    takeOverMs, queued, recheckMs);
            assertThat(takeOverMs).isLessThan(4_000 + 2 * 1_000 + 2_000);
            assertThat(hits).isEqualTo(queued);
            assertThat(bySurvivor).isEqualTo(queued);
            assertThat(survivor.logLines()).anyMatch(l -> l.contains("now runs singleton retention"));
            var status = new io.vertx.core.json.JsonObject(survivor.get("/v1/cluster").body());
            assertThat(status.getJsonArray("singletons").getJsonObject(0).getString("holder")).isEqualTo(survivor.instance());
        } finally {
            a.kill();
            b.kill();
        }
    }

    private static String holder(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT holder FROM cluster_leases WHERE name = 'retention' AND expires_at > now()")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void awaitTrue(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    static long count(String sql) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection()) {
            return count(c, sql);
        }
    }

    static long count(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
