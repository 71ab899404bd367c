package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hits table on a real PostgreSQL, migrated by the project's Flyway scripts. */
class PostgresHitStoreIT {
    static Vertx vertx;
    static WorkerExecutor jdbc;
    static PostgresHitStore store;

    @BeforeAll
    static void start() {
        vertx = BlockedEventLoops.vertx();
        jdbc = vertx.createSharedWorkerExecutor("jdbc-test", 4);
        store = new PostgresHitStore(TestDatabase.dataSource(), jdbc);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @BeforeEach
    void empty() {
        TestDatabase.truncateHits();
    }

    static Hit hit(Alert alert, String value, String attributeUuid) {
        Hit h = new Hit(alert, new Indicator(IndicatorType.SHA256, value, "data.win.eventdata.hashes", "Sysmon hashes"),
                new MispAttribute("1201", attributeUuid, "42", "e1000000-0000-4000-8000-000000000042", "Loader campaign",
                        "sha256", "Payload delivery", value, true, 1, List.of("tlp:green", "misp-galaxy:x"), 1756800000,
                        "https://misp.test"));
        h.lookedUpAt(java.time.Instant.now());
        h.firing("Severity: MISP threat level high");
        h.setSeverity(12);
        return h;
    }

    static List<List<Object>> rows(String sql) throws SQLException {
        List<List<Object>> out = new ArrayList<>();
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    Object v = rs.getObject(i);
                    row.add(v instanceof java.sql.Array a ? List.of((Object[]) a.getArray()) : v);
                }
                out.add(row);
            }
        }
        return out;
    }

    @Test
    void storesEveryHitWithItsAuditContext() throws Exception {
        Alert alert = Fixtures.alert("sysmon-eid1-stock.json");
        String sha = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";

        store.save(alert, List.of(hit(alert, sha, "a-1"), hit(alert, sha, "a-2")), "sha256:abc", Origin.LIVE).await(20, TimeUnit.SECONDS);

        List<List<Object>> rows = rows("""
                SELECT alert_id, manager, agent_id, rule_id, indicator_type, indicator_value, source_field, drl_rule,
                       misp_event_id, misp_event_uuid, misp_attribute_uuid, misp_category, misp_type, severity,
                       ruleset_version, decided_by, misp_tags, alert->>'id', alert_timestamp IS NOT NULL, detected_at IS NOT NULL,
                       origin, looked_up_at IS NOT NULL
                FROM hits_with_alert ORDER BY misp_attribute_uuid""");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0)).containsExactly(alert.getId(), alert.getManager(), alert.getAgentId(), alert.getRuleId(),
                "sha256", sha, "data.win.eventdata.hashes", "Sysmon hashes", "42", "e1000000-0000-4000-8000-000000000042",
                "a-1", "Payload delivery", "sha256", 12, "sha256:abc",
                List.of("Severity: MISP threat level high"), List.of("tlp:green", "misp-galaxy:x"), alert.getId(), true, true,
                "live", true);
        // the alert once for its two hits, keyed as PostgreSQL's own SHA-256 of the text the store sent
        String json = PostgresHitStore.alertJson(alert.json());
        assertThat(rows("SELECT count(*), bool_and(a.alert_digest = encode(substr(sha256(convert_to('"
                + json.replace("'", "''") + "', 'UTF8')), 1, 16), 'hex')::uuid), "
                + "bool_and(a.document = '" + json.replace("'", "''") + "'::jsonb) FROM alerts a"))
                .containsExactly(List.of(1L, true, true));
        assertThat(rows("SELECT count(DISTINCT (alert_digest, occurred_at)) FROM hits")).containsExactly(List.of(1L));
        assertThat(rows("SELECT a.tableoid::regclass::text = replace(h.tableoid::regclass::text, 'hits_', 'alerts_') "
                + "FROM hits h JOIN alerts a USING (alert_digest, occurred_at)")).containsExactly(List.of(true), List.of(true));
    }

    /** A later hit of an alert already stored reuses its document; a retry of a whole alert adds no document. */
    @Test
    void anAlertsDocumentIsStoredOnceAcrossSaves() throws Exception {
        Alert alert = Fixtures.alert("sysmon-eid1-stock.json");
        Alert other = AlertParser.parse("{\"id\":\"1756800000.5\",\"timestamp\":\"2025-09-02T08:00:00.000+0000\"}");
        String sha = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";
        store.save(alert, List.of(hit(alert, sha, "a-1")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);
        store.save(alert, List.of(hit(alert, sha, "a-1")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);
        store.save(alert, List.of(hit(alert, sha, "a-1"), hit(alert, sha, "a-2")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);
        store.save(other, List.of(hit(other, sha, "a-1")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);

        assertThat(rows("SELECT document->>'id' FROM alerts ORDER BY 1"))
                .containsExactly(List.of("1756800000.5"), List.of(alert.getId()));
        assertThat(rows("SELECT alert_id, alert->>'id', misp_attribute_uuid FROM hits_with_alert ORDER BY 1, 3"))
                .containsExactly(List.of("1756800000.5", "1756800000.5", "a-1"), List.of(alert.getId(), alert.getId(), "a-1"),
                        List.of(alert.getId(), alert.getId(), "a-2"));
    }

    @Test
    void aRetriedAlertAddsNothing() throws Exception {
        Alert alert = Fixtures.alert("sysmon-eid1-stock.json");
        String sha = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";
        store.save(alert, List.of(hit(alert, sha, "a-1")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);
        store.save(alert, List.of(hit(alert, sha, "a-1"), hit(alert, sha, "a-2")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);
        store.save(alert, List.of(hit(alert, sha, "a-1"), hit(alert, sha, "a-2")), "v1", Origin.LIVE).await(20, TimeUnit.SECONDS);

        assertThat(rows("SELECT misp_attribute_uuid FROM hits ORDER BY 1")).containsExactly(List.of("a-1"), List.of("a-2"));
    }

    @Test
    void theSameAlertIdOnAnotherManagerIsAnotherAlert() throws Exception {
        String sha = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";
        Alert a = AlertParser.parse("{\"id\":\"1.1\",\"manager\":{\"name\":\"m1\"}}");
        Alert b = AlertParser.parse("{\"id\":\"1.1\",\"manager\":{\"name\":\"m2\"}}");
        store.save(a, List.of(hit(a, sha, "a-1")), "v", Origin.LIVE).await(20, TimeUnit.SECONDS);
        store.save(b, List.of(hit(b, sha, "a-1")), "v", Origin.LIVE).await(20, TimeUnit.SECONDS);
        assertThat(rows("SELECT manager FROM hits ORDER BY 1")).containsExactly(List.of("m1"), List.of("m2"));
    }

    @Test
    void nulCharactersInAnAlertDoNotLoseTheHit() throws Exception {
        Alert alert = AlertParser.parse("{\"id\":\"9.9\",\"agent\":{\"id\":\"007\",\"name\":\"bad\\u0000name\"},"
                + "\"full_log\":\"a\\u0000b\",\"timestamp\":\"not a time\"}");
        store.save(alert, List.of(hit(alert, "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2", "a-1")), "v", Origin.RETRO_HUNT)
                .await(20, TimeUnit.SECONDS);
        assertThat(rows("SELECT agent_name, alert->>'full_log', alert_timestamp, origin FROM hits_with_alert"))
                .containsExactly(java.util.Arrays.asList("bad\uFFFDname", "a\uFFFDb", null, "retro-hunt"));
    }

    @Test
    void theSchemaHasEveryColumnAuditorsAreToldAbout() throws Exception {
        List<List<Object>> cols = rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'hits'");
        assertThat(cols.stream().map(r -> (String) r.get(0)).toList()).contains("id", "alert_id", "manager", "agent_id",
                "agent_name", "rule_id", "alert_timestamp", "indicator_type", "indicator_value", "source_field", "drl_rule",
                "misp_event_id", "misp_event_uuid", "misp_attribute_uuid", "misp_category", "misp_type", "severity",
                "ruleset_version", "detected_at", "alert_digest");
        // and the alert itself, once per alert, joined back by the view
        List<List<Object>> view = rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'hits_with_alert'");
        assertThat(view.stream().map(r -> (String) r.get(0)).toList()).containsAll(
                cols.stream().map(r -> (String) r.get(0)).toList()).contains("alert");
    }

    @Test
    void wazuhTimestampsAreParsed() {
        assertThat(PostgresHitStore.alertTimestamp(at("2025-08-13T08:45:06.785+0000")).toInstant().toString())
                .isEqualTo("2025-08-13T08:45:06.785Z");
        assertThat(PostgresHitStore.alertTimestamp(at("2025-08-13T10:45:06.785+0200")).toInstant().toString())
                .isEqualTo("2025-08-13T08:45:06.785Z");
        assertThat(PostgresHitStore.alertTimestamp(at("2025-08-13T08:45:06Z")).toInstant().toString())
                .isEqualTo("2025-08-13T08:45:06Z");
        assertThat(PostgresHitStore.alertTimestamp(at("yesterday"))).isNull();
    }

    /** Many alerts at once: few transactions, every alert told exactly its new hits, tags and labels intact. */
    @Test
    void concurrentAlertsShareTransactionsAndEachLearnsItsOwnNewHits() throws Exception {
        long[] before = store.groupCounts();
        List<Future<List<Hit>>> saves = new ArrayList<>();
        String sha = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";
        for (int i = 0; i < 200; i++) {
            Alert a = AlertParser.parse("{\"id\":\"1756800000." + i + "\",\"manager\":{\"name\":\"m\"}}");
            Hit h = hit(a, sha, "a-1");
            h.label("quote\"and\\backslash, comma {brace}");
            saves.add(store.save(a, List.of(h, hit(a, sha, "a-2")), "v", Origin.LIVE));
        }
        // the same alert twice at once: its hits are new for one of the two saves only
        Alert twice = AlertParser.parse("{\"id\":\"1756800000.999\",\"manager\":{\"name\":\"m\"}}");
        Future<List<Hit>> first = store.save(twice, List.of(hit(twice, sha, "a-1")), "v", Origin.LIVE);
        Future<List<Hit>> second = store.save(twice, List.of(hit(twice, sha, "a-1")), "v", Origin.LIVE);
        for (Future<List<Hit>> f : saves) {
            assertThat(f.await(20, TimeUnit.SECONDS)).hasSize(2);
        }
        assertThat(first.await(20, TimeUnit.SECONDS).size() + second.await(20, TimeUnit.SECONDS).size()).isEqualTo(1);
        long[] after = store.groupCounts();
        assertThat(after[1] - before[1]).isEqualTo(202);
        assertThat(after[0] - before[0]).as("transactions for 202 alerts").isLessThan(202);
        assertThat(rows("SELECT count(*) FROM hits")).containsExactly(List.of(401L));
        // 201 alerts, each document once, each hit with its own alert
        assertThat(rows("SELECT count(*) FROM alerts")).containsExactly(List.of(201L));
        assertThat(rows("SELECT count(*) FROM hits_with_alert WHERE alert->>'id' = alert_id")).containsExactly(List.of(401L));
        assertThat(rows("SELECT DISTINCT labels, misp_tags FROM hits WHERE alert_id = '1756800000.7' AND misp_attribute_uuid = 'a-1'"))
                .containsExactly(List.of(List.of("quote\"and\\backslash, comma {brace}"), List.of("tlp:green", "misp-galaxy:x")));
    }

    /** A row the database refuses fails its own alert only; the others of its group are stored. */
    @Test
    void aRefusedAlertDoesNotFailTheOthersOfItsGroup() throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.alert_id = 'poison' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END IF;
                        RETURN NEW;
                    END $$""");
            s.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON hits FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
        }
        try {
            String sha = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";
            long rewrittenBefore = store.groupCounts()[2];
            List<Future<List<Hit>>> saves = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                String id = i == 30 ? "poison" : "1756800000." + i;
                Alert a = AlertParser.parse("{\"id\":\"" + id + "\"}");
                saves.add(store.save(a, List.of(hit(a, sha, "a-1")), "v", Origin.LIVE));
            }
            for (int i = 0; i < saves.size(); i++) {
                Future<List<Hit>> f = saves.get(i);
                if (i == 30) {
                    assertThatThrownBy(() -> f.await(20, TimeUnit.SECONDS))
                            .isInstanceOf(IllegalStateException.class).hasMessageContaining("22023");
                } else {
                    assertThat(f.await(20, TimeUnit.SECONDS)).as("alert %d", i).hasSize(1);
                }
            }
            assertThat(rows("SELECT count(*) FROM hits")).containsExactly(List.of(59L));
            // the refused alert's document is not stored either: its hit and it were one statement
            assertThat(rows("SELECT count(*) FROM alerts")).containsExactly(List.of(59L));
            assertThat(rows("SELECT count(*) FROM alerts WHERE document->>'id' = 'poison'")).containsExactly(List.of(0L));
            assertThat(store.groupCounts()[2] - rewrittenBefore).as("alerts of the refused group written one by one")
                    .isGreaterThan(1);
        } finally {
            try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TRIGGER refuse_poison ON hits");
                s.execute("DROP FUNCTION refuse_poison()");
            }
        }
    }

    @Test
    void arrayLiteralsQuoteEveryElement() {
        assertThat(PostgresHitStore.arrayLiteral(List.of())).isEqualTo("{}");
        assertThat(PostgresHitStore.arrayLiteral(List.of("a", "b\"c", "d\\e", "NULL", "x\u0000y")))
                .isEqualTo("{\"a\",\"b\\\"c\",\"d\\\\e\",\"NULL\",\"x\uFFFDy\"}");
    }

    static Alert at(String timestamp) {
        return AlertParser.parse("{\"timestamp\":\"" + timestamp + "\"}");
    }
}
