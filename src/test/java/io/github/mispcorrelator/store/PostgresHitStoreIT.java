package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.TestDatabase;
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
                FROM hits ORDER BY misp_attribute_uuid""");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0)).containsExactly(alert.getId(), alert.getManager(), alert.getAgentId(), alert.getRuleId(),
                "sha256", sha, "data.win.eventdata.hashes", "Sysmon hashes", "42", "e1000000-0000-4000-8000-000000000042",
                "a-1", "Payload delivery", "sha256", 12, "sha256:abc",
                List.of("Severity: MISP threat level high"), List.of("tlp:green", "misp-galaxy:x"), alert.getId(), true, true,
                "live", true);
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
        assertThat(rows("SELECT agent_name, alert->>'full_log', alert_timestamp, origin FROM hits"))
                .containsExactly(java.util.Arrays.asList("bad\uFFFDname", "a\uFFFDb", null, "retro-hunt"));
    }

    @Test
    void theSchemaHasEveryColumnAuditorsAreToldAbout() throws Exception {
        List<List<Object>> cols = rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'hits'");
        assertThat(cols.stream().map(r -> (String) r.get(0)).toList()).contains("id", "alert_id", "manager", "agent_id",
                "agent_name", "rule_id", "alert_timestamp", "indicator_type", "indicator_value", "source_field", "drl_rule",
                "misp_event_id", "misp_event_uuid", "misp_attribute_uuid", "misp_category", "misp_type", "severity",
                "ruleset_version", "detected_at", "alert");
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

    static Alert at(String timestamp) {
        return AlertParser.parse("{\"timestamp\":\"" + timestamp + "\"}");
    }
}
