package io.github.mispcorrelator.audit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The documented queries and the API's own on a large hits table: each selective one must be index scans on the
 * monthly partitions (no sequential scan), and fast. {@code -Daudit.plan.rows=10000000} for the figures in
 * docs/auditing-query-plans.md; the default keeps {@code mvn verify} quick. Plans are written to
 * target/audit-query-plans.md.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QueryPlansIT {
    static final long ROWS = Long.getLong("audit.plan.rows", 200_000);
    static final long CHUNK = 1_000_000;
    static ScratchDatabase db;
    static final Map<String, String> PLANS = new LinkedHashMap<>();
    static String loadNote;

    @BeforeAll
    static void load() {
        db = ScratchDatabase.create("plans").migrate("latest");
        Instant to = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant from = to.minus(Duration.ofDays(395));
        // a partition for each month first, as hits_maintain keeps them in a running service
        db.sql("SELECT count(*) FROM hits_add_months(ARRAY(SELECT generate_series(timestamptz '" + from
                + "', timestamptz '" + to + "', interval '1 month') UNION ALL SELECT timestamptz '" + to + "'))");
        long started = System.nanoTime();
        for (long first = 1; first <= ROWS; first += CHUNK) {
            long n = Math.min(CHUNK, ROWS - first + 1);
            Instant a = from.plusMillis((long) ((double) (first - 1) / ROWS * Duration.between(from, to).toMillis()));
            Instant b = from.plusMillis((long) ((double) (first - 1 + n) / ROWS * Duration.between(from, to).toMillis()));
            db.sql(HitSeed.insert(first, n, a, b));
        }
        long loaded = System.nanoTime();
        db.sql("VACUUM ANALYZE hits", "VACUUM ANALYZE alerts");
        loadNote = String.format("%,d hits over 395 days in %d monthly partitions; generated in %d s, VACUUM ANALYZE %d s; "
                        + "table %s, indexes %s; alerts (one per hit here) table %s, indexes %s", ROWS, ((Number) db.value("SELECT count(*) FROM pg_inherits "
                        + "WHERE inhparent = 'hits'::regclass")).intValue() - 1, (loaded - started) / 1_000_000_000,
                (System.nanoTime() - loaded) / 1_000_000_000,
                db.value("SELECT pg_size_pretty(sum(pg_table_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'hits'::regclass"),
                db.value("SELECT pg_size_pretty(sum(pg_indexes_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'hits'::regclass"),
                db.value("SELECT pg_size_pretty(sum(pg_table_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'alerts'::regclass"),
                db.value("SELECT pg_size_pretty(sum(pg_indexes_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'alerts'::regclass"));
    }

    @AfterAll
    static void report() throws IOException {
        StringBuilder md = new StringBuilder("# Query plans on the hits table\n\n").append(loadNote).append(
                "\n\nPostgreSQL: ").append(db.value("SELECT version()")).append("\n");
        PLANS.forEach((name, plan) -> md.append("\n## ").append(name).append("\n\n```\n").append(plan).append("```\n"));
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/audit-query-plans.md"), md);
        db.close();
    }

    /** EXPLAIN ANALYZE, twice (the second with a warm cache is the one kept), and its execution time in ms. */
    static double explain(String name, String sql) {
        String plan = null;
        for (int i = 0; i < 2; i++) {
            try (Connection c = db.owner().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)) {
                StringBuilder b = new StringBuilder();
                while (rs.next()) {
                    b.append(rs.getString(1)).append('\n');
                }
                plan = b.toString();
            } catch (SQLException e) {
                throw new IllegalStateException(sql + ": " + e.getMessage(), e);
            }
        }
        PLANS.put(name, sql.strip() + "\n\n" + plan);
        var m = java.util.regex.Pattern.compile("Execution Time: ([0-9.]+) ms").matcher(plan);
        assertThat(m.find()).as(plan).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** No partition that holds hits is read sequentially (an empty one, like next month's, may be: it is free). */
    static void fastIndexScan(String name, String sql) {
        double ms = explain(name, sql);
        String plan = PLANS.get(name);
        for (List<Object> partition : db.rows("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                + "WHERE i.inhparent IN ('hits'::regclass, 'alerts'::regclass) AND c.reltuples > 0")) {
            assertThat(plan).as(name).doesNotContain("Seq Scan on " + partition.get(0) + " ");
        }
        // generous for a shared 2-core machine; the measured figures are in the report
        assertThat(ms).as(name + "\n" + plan).isLessThan(1_000);
    }

    static final String LIST = "SELECT occurred_at, agent_name, indicator_type, indicator_value, misp_event_info, "
            + "severity, decided_by FROM hits ";

    @Test
    void didWeEverSeeThisIndicator() {
        fastIndexScan("Did we ever see this indicator?", LIST + "WHERE indicator_value = md5('4242') "
                + "ORDER BY occurred_at DESC LIMIT 100");
        fastIndexScan("One indicator, summed up (view hits_per_indicator)",
                "SELECT * FROM hits_per_indicator WHERE indicator_value = md5('4242')");
    }

    @Test
    void oneAgentLastWeek() {
        fastIndexScan("One agent, last 7 days", LIST + "WHERE agent_id = '0042' AND occurred_at >= now() - interval '7 days' "
                + "ORDER BY occurred_at DESC LIMIT 100");
    }

    /** The page's other filters (ui/app.js FILTERS), each with its own index. */
    @Test
    void filtersOfTheAuditorsPage() {
        String cols = String.join(", ", AuditSql.COLUMNS);
        fastIndexScan("API: one agent by name", "SELECT " + cols + " FROM hits WHERE agent_name = 'host-42' "
                + "ORDER BY occurred_at DESC, id DESC LIMIT 101");
        fastIndexScan("API: one MISP event by id", "SELECT " + cols + " FROM hits WHERE misp_event_id = '42' "
                + "ORDER BY occurred_at DESC, id DESC LIMIT 101");
    }

    /**
     * Every index of hits is in some plan above (a partition's index is named after its parent's columns), but the
     * unique key, which only the INSERT's ON CONFLICT reads: an index no audit query uses is only a cost on every
     * insert (migrations/V11_2 dropped those).
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void noIndexGoesUnused() {
        String plans = String.join("\n", PLANS.values());
        List<String> unused = new ArrayList<>();
        for (List<Object> index : db.rows("SELECT p.relname, string_agg(c.relname, ' ') FROM pg_index x "
                + "JOIN pg_class p ON p.oid = x.indexrelid JOIN pg_inherits i ON i.inhparent = p.oid "
                + "JOIN pg_class c ON c.oid = i.inhrelid WHERE x.indrelid = 'hits'::regclass "
                + "AND p.relname <> 'hits_alert_indicator_attribute_key' GROUP BY p.relname ORDER BY 1")) {
            List<String> children = List.of(((String) index.get(1)).split(" "));
            if (children.stream().noneMatch(child -> plans.contains(" " + child + " "))) {
                unused.add((String) index.get(0));
            }
        }
        assertThat(unused).as("indexes of hits that no audit query plan uses").isEmpty();
    }

    @Test
    void oneMispEvent() {
        fastIndexScan("Hits of one MISP event", LIST + "WHERE misp_event_uuid = '00000000-0000-4000-8000-000000000042' "
                + "ORDER BY occurred_at DESC LIMIT 100");
        fastIndexScan("One MISP event, summed up (view hits_per_misp_event)",
                "SELECT * FROM hits_per_misp_event WHERE misp_event_uuid = '00000000-0000-4000-8000-000000000042'");
    }

    @Test
    void apiPagesNewestFirst() {
        String cols = String.join(", ", AuditSql.COLUMNS);
        fastIndexScan("API: first page, no filter", "SELECT " + cols + " FROM hits ORDER BY occurred_at DESC, id DESC LIMIT 101");
        List<List<Object>> page = db.rows("SELECT occurred_at, id FROM hits WHERE rule_id = '92042' "
                + "ORDER BY occurred_at DESC, id DESC OFFSET 99 LIMIT 1");
        fastIndexScan("API: a later page of one Wazuh rule (keyset cursor)", "SELECT " + cols + " FROM hits "
                + "WHERE rule_id = '92042' AND (occurred_at, id) < ('" + page.get(0).get(0) + "', " + page.get(0).get(1)
                + ") ORDER BY occurred_at DESC, id DESC LIMIT 101");
        fastIndexScan("API: one rule-set version in a month", "SELECT " + cols + " FROM hits WHERE ruleset_version = "
                + "'sha256:0000000000000007' AND occurred_at >= now() - interval '60 days' AND occurred_at < now() - "
                + "interval '30 days' ORDER BY occurred_at DESC, id DESC LIMIT 101");
        // the alert is joined back from alerts (migrations/V11_3): one primary key probe in the alert's month
        fastIndexScan("API: GET /v1/hits/{id}", AuditSql.ONE.replace("?", Long.toString(ROWS / 2)));
        // (fastIndexScan refuses a sequential scan of any alerts partition that holds rows, too)
        assertThat(PLANS.get("API: GET /v1/hits/{id}")).containsPattern("Index Scan using alerts_\\d{4}_\\d{2}_pkey");
        fastIndexScan("API: first page with the alerts (export with_alert)",
                AuditSql.page(new AuditSql.Where("", List.of()), true, 101));
        assertThat(PLANS.get("API: first page with the alerts (export with_alert)"))
                .containsPattern("Index Scan using alerts_\\d{4}_\\d{2}_pkey");
    }

    @Test
    void perDayAndStatsOverThirtyDays() {
        // aggregates read every hit of the range: measured and reported, bounded loosely
        double perDay = explain("Hits per day, last 30 days (view hits_per_day)",
                "SELECT * FROM hits_per_day WHERE day >= current_date - 30 ORDER BY day");
        assertThat(PLANS.get("Hits per day, last 30 days (view hits_per_day)")).contains("_timezone_idx") // hits_occurred_day_idx on each partition
                .doesNotContain("Seq Scan on hits_2");
        String range = " WHERE occurred_at >= now() - interval '30 days' AND occurred_at < now()";
        AuditSql.Where where = new AuditSql.Where(range, List.of());
        List<Double> stats = new ArrayList<>();
        stats.add(explain("API stats: by day, 30 days", AuditSql.statsByDay(where)));
        stats.add(explain("API stats: by agent, 30 days", AuditSql.statsByAgent(where, 20)));
        stats.add(explain("API stats: by indicator type, 30 days", AuditSql.statsByIndicatorType(where)));
        stats.add(explain("API stats: by MISP event, 30 days", AuditSql.statsByMispEvent(where, 20)));
        for (String name : PLANS.keySet()) {
            if (name.startsWith("API stats")) {
                // only the month or two of the range are read
                assertThat(PLANS.get(name)).as(name).doesNotContain("hits_" + Instant.now().minus(Duration.ofDays(200))
                        .toString().substring(0, 7).replace('-', '_'));
            }
        }
        assertThat(perDay + stats.stream().mapToDouble(Double::doubleValue).sum()).isLessThan(ROWS > 1_000_000 ? 120_000 : 30_000);
    }
}
