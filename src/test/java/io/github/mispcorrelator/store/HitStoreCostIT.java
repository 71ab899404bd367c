package io.github.mispcorrelator.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.misp.MispAttribute;
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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What storing hits costs PostgreSQL, measured on the store alone (no HTTP, no rules): the same alerts saved one at a
 * time (each its own transaction, as before group commit) and from 64 callers at once (group commit), with and
 * without the index V11_2 dropped; and the alert document stored once per alert (V11_3) against once per hit, as
 * before V11_3. PostgreSQL's CPU is read from /proc for the server and all its processes.
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

    /**
     * The alert document once per alert (hits + alerts, the service's statement) against once per hit (the V11_2
     * layout: a table like hits with the alert jsonb on every row, and V11_2's statement), same alerts, same group
     * sizes, one driver: groups of 1 and 64 alerts per transaction, 1 and 3 hits per alert, written from one thread.
     */
    @Test
    void alertStoredOnceAgainstAlertPerHit() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("store.cost"), "opt-in: -Dstore.cost=true");
        String template = Files.readString(Path.of("config/samples/sysmon-eid1-eicar.json"));
        int postmaster = postmaster();
        sql("DROP TABLE IF EXISTS cost_alert_per_hit");
        sql("CREATE TABLE cost_alert_per_hit (LIKE hits INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)");
        sql("ALTER TABLE cost_alert_per_hit DROP COLUMN alert_digest, ADD COLUMN alert jsonb NOT NULL");
        try {
            for (int round = 0; round < 2; round++) {
                for (int hitsPerAlert : new int[]{1, 3}) {
                    for (int groupSize : new int[]{1, 64}) {
                        for (boolean once : new boolean[]{false, true}) {
                            sql("TRUNCATE hits, alerts, cost_alert_per_hit");
                            sql("CHECKPOINT");
                            String wal0 = (String) value("SELECT pg_current_wal_lsn()::text");
                            long cpu0 = cpuTicks(postmaster);
                            long t0 = System.nanoTime();
                            for (int first = 0; first < ALERTS; first += groupSize) {
                                List<Alert> alerts = new ArrayList<>();
                                List<List<Hit>> hits = new ArrayList<>();
                                for (int i = first; i < Math.min(ALERTS, first + groupSize); i++) {
                                    Alert a = alert(template, i);
                                    alerts.add(a);
                                    List<Hit> h = new ArrayList<>();
                                    for (int k = 1; k <= hitsPerAlert; k++) {
                                        h.add(PostgresHitStoreIT.hit(a, "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2", "a-" + k));
                                    }
                                    hits.add(h);
                                }
                                try (Connection c = TestDatabase.dataSource().getConnection()) {
                                    c.setAutoCommit(false);
                                    if (once) {
                                        PostgresHitStore.insert(c, alerts, hits, "v", Origin.LIVE);
                                    } else {
                                        insertAlertPerHit(c, alerts, hits);
                                    }
                                    c.commit();
                                }
                            }
                            double seconds = (System.nanoTime() - t0) / 1e9;
                            double cpu = (cpuTicks(postmaster) - cpu0) / 100.0;
                            long wal = ((Number) value("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '" + wal0 + "')")).longValue();
                            String table = once ? "hits" : "cost_alert_per_hit";
                            assertThat(((Number) value("SELECT count(*) FROM " + table)).longValue())
                                    .isEqualTo((long) ALERTS * hitsPerAlert);
                            if (once) {
                                assertThat(((Number) value("SELECT count(*) FROM alerts")).longValue()).isEqualTo(ALERTS);
                            }
                            String size = (String) value("SELECT pg_size_pretty(" + (once
                                    ? "(SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent IN "
                                    + "('hits'::regclass, 'alerts'::regclass))"
                                    : "pg_total_relation_size('cost_alert_per_hit')") + ")");
                            System.out.printf(Locale.ROOT, "alert document, round %d, %s, %d hit(s)/alert, %2d alert(s)/"
                                            + "transaction: %,d alerts in %.2f s; PostgreSQL CPU %.0f µs/alert; WAL %,.0f "
                                            + "B/alert; tables+indexes %s%n", round,
                                    once ? "once per alert (V11_3)" : "once per hit (V11_2) ", hitsPerAlert, groupSize,
                                    ALERTS, seconds, cpu / ALERTS * 1e6, (double) wal / ALERTS, size);
                        }
                    }
                }
            }
        } finally {
            sql("DROP TABLE IF EXISTS cost_alert_per_hit");
            TestDatabase.truncateHits();
        }
    }

    /** The statement of V11_2 (store/HitSql before V11_3), into the table of that layout. */
    static final String INSERT_ALERT_PER_HIT = """
            INSERT INTO cost_alert_per_hit (alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp,
                              indicator_type, indicator_value, source_field, drl_rule, drl_rule_id,
                              misp_event_id, misp_event_uuid, misp_event_info, misp_attribute_uuid, misp_category,
                              misp_type, misp_value, misp_threat_level, misp_to_ids, misp_tags, misp_instance,
                              severity, suppressed, decided_by, decided_by_ids, labels, ruleset_version,
                              correlator_version, origin, looked_up_at, alert, occurred_at)
            SELECT u.alert_id, u.manager, u.agent_id, u.agent_name, u.rule_id, u.alert_timestamp,
                   u.indicator_type, u.indicator_value, u.source_field, u.drl_rule, u.drl_rule_id,
                   u.misp_event_id, u.misp_event_uuid, u.misp_event_info, u.misp_attribute_uuid, u.misp_category,
                   u.misp_type, u.misp_value, u.misp_threat_level, u.misp_to_ids, u.misp_tags::text[], u.misp_instance,
                   u.severity, u.suppressed, u.decided_by::text[], u.decided_by_ids::text[], u.labels::text[],
                   u.ruleset_version, u.correlator_version, u.origin, u.looked_up_at, u.alert::jsonb,
                   hits_occurred_at(u.alert_timestamp, u.raw_alert_id, now())
            FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[],
                        ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::text[], ?::text[], ?::smallint[], ?::boolean[], ?::text[], ?::text[],
                        ?::smallint[], ?::boolean[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[])
                 AS u(alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp,
                      indicator_type, indicator_value, source_field, drl_rule, drl_rule_id,
                      misp_event_id, misp_event_uuid, misp_event_info, misp_attribute_uuid, misp_category,
                      misp_type, misp_value, misp_threat_level, misp_to_ids, misp_tags, misp_instance,
                      severity, suppressed, decided_by, decided_by_ids, labels, ruleset_version,
                      correlator_version, origin, looked_up_at, alert, raw_alert_id)
            ON CONFLICT DO NOTHING
            RETURNING manager, alert_id, indicator_value, misp_attribute_uuid, misp_instance
            """;

    /** The rows as V11_2's store built them: the alert's JSON text on every hit row. */
    private static void insertAlertPerHit(Connection c, List<Alert> alerts, List<List<Hit>> hits) throws SQLException {
        String[] types = HitSql.INSERT_TYPES.clone();
        types[31] = "text";
        int n = hits.stream().mapToInt(List::size).sum();
        Object[][] columns = new Object[types.length][n];
        int row = 0;
        for (int i = 0; i < alerts.size(); i++) {
            Alert alert = alerts.get(i);
            String alertJson = PostgresHitStore.alertJson(alert.json());
            for (Hit h : hits.get(i)) {
                MispAttribute a = h.attribute();
                Object[] v = {PostgresHitStore.key(alert.getId()), PostgresHitStore.key(alert.getManager()),
                        PostgresHitStore.key(alert.getAgentId()), PostgresHitStore.key(alert.getAgentName()),
                        PostgresHitStore.key(alert.getRuleId()), PostgresHitStore.alertTimestamp(alert),
                        h.getType(), h.getValue(), PostgresHitStore.key(h.getField()), h.indicator().rule(),
                        h.indicator().ruleId(), a.eventId(), a.eventUuid(), a.eventInfo(), a.uuid(), a.category(),
                        a.type(), a.value(), (short) a.threatLevel(), a.toIds(), PostgresHitStore.arrayLiteral(a.tags()),
                        a.instance(), (short) h.getSeverity(), h.isSuppressed(), PostgresHitStore.arrayLiteral(h.getDecidedBy()),
                        PostgresHitStore.arrayLiteral(h.getDecidedByIds()), PostgresHitStore.arrayLiteral(h.getLabels()),
                        "v", "0", "live", h.lookedUpAt() == null ? null : Timestamp.from(h.lookedUpAt()), alertJson,
                        alert.getId()};
                for (int k = 0; k < v.length; k++) {
                    columns[k][row] = v[k];
                }
                row++;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_ALERT_PER_HIT)) {
            for (int k = 0; k < columns.length; k++) {
                ps.setArray(k + 1, c.createArrayOf(types[k], columns[k]));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rs.getString(1);
                }
            }
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
