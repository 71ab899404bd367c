package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.store.Database;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * migrations/V3 from an empty database and from V2 with hits in it, and the rights it gives: the application's role
 * appends and reads, the auditors' role reads, and neither can change a hit.
 */
class MigrationIT {
    static final String MONTH = DateTimeFormatter.ofPattern("yyyy_MM").format(OffsetDateTime.now(ZoneOffset.UTC));
    static final String NEXT_MONTH = DateTimeFormatter.ofPattern("yyyy_MM").format(OffsetDateTime.now(ZoneOffset.UTC).plusMonths(1));

    /** The V2 INSERT, as the service wrote hits before V3. */
    static String v2Insert(String alertId, String manager, String timestamp, String value, String attribute, String detectedAt) {
        return """
                INSERT INTO hits (alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp, indicator_type,
                                  indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid, misp_event_info,
                                  misp_attribute_uuid, misp_category, misp_type, misp_value, misp_threat_level, misp_to_ids,
                                  misp_tags, misp_instance, severity, suppressed, decided_by, labels, ruleset_version,
                                  correlator_version, detected_at, alert, origin, looked_up_at)
                VALUES ('%s', '%s', '003', 'WS-1', '92052', %s, 'sha256', '%s', 'data.win.eventdata.hashes', 'Sysmon hashes',
                        '25', 'e-1', 'Loader', '%s', 'Payload delivery', 'sha256', '%s', 1, true, '{tlp:green}',
                        'https://misp.test', 12, false, '{}', '{}', 'sha256:v1', '0.1.0', '%s',
                        '{"id": "%s"}', 'retro-hunt', '%s')
                """.formatted(alertId, manager, timestamp == null ? "NULL" : "'" + timestamp + "'", value, attribute, value,
                detectedAt, alertId, detectedAt);
    }

    @Test
    void anEmptyDatabaseGetsThePartitionedTable() {
        try (ScratchDatabase db = ScratchDatabase.create("mig_empty").migrate("latest")) {
            assertThat(db.value("SELECT relkind::text FROM pg_class WHERE relname = 'hits'")).isEqualTo("p");
            assertThat(db.value("SELECT pg_get_partkeydef('hits'::regclass)")).isEqualTo("RANGE (occurred_at)");
            assertThat(partitions(db)).containsExactly("hits_" + MONTH, "hits_" + NEXT_MONTH, "hits_default");
            assertThat(db.value("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = "
                    + "'hits_alert_indicator_attribute_key'"))
                    .isEqualTo("UNIQUE (manager, alert_id, indicator_value, misp_attribute_uuid, misp_instance, occurred_at)");
            assertThat(db.rows("SELECT viewname FROM pg_views WHERE viewname LIKE 'hits_per_%' ORDER BY 1"))
                    .containsExactly(List.of("hits_per_agent"), List.of("hits_per_day"), List.of("hits_per_indicator"),
                            List.of("hits_per_misp_event"));
            assertThat(db.rows("SELECT rolname FROM pg_roles WHERE rolname IN ('correlator_app', 'correlator_auditor') "
                    + "ORDER BY 1")).hasSize(2);
            assertThat(db.value("SELECT count(*) FROM hits")).isEqualTo(0L);
            // the alert documents, stored once, partitioned alike
            assertThat(db.value("SELECT pg_get_partkeydef('alerts'::regclass)")).isEqualTo("RANGE (occurred_at)");
            assertThat(partitions(db, "alerts")).containsExactly("alerts_" + MONTH, "alerts_" + NEXT_MONTH, "alerts_default");
            assertThat(db.value("SELECT to_regclass('hits_with_alert')::text")).isEqualTo("hits_with_alert");
        }
    }

    @Test
    void hitsOfV2MoveInWithTheirIdsAndTheirKeyStillHolds() throws Exception {
        try (ScratchDatabase db = ScratchDatabase.create("mig_v2").migrate("2")) {
            db.sql(v2Insert("1757320729.48664538", "m", "2025-09-08T08:38:49.592Z", "aa", "a-1", "2025-09-08T08:38:50Z"),
                    v2Insert("1757320729.48664538", "m", "2025-09-08T08:38:49.592Z", "aa", "a-2", "2025-09-08T08:38:50Z"),
                    // an alert whose timestamp could not be read: its Wazuh id still dates it
                    v2Insert("1755074541.11456929", "m", null, "bb", "a-1", "2026-01-02T00:00:00Z"),
                    // neither: the month it was received in
                    v2Insert("sha256:abcdef", "m", null, "cc", "a-1", "2026-02-14T10:00:00Z"),
                    // a clock far off: kept, in hits_default
                    v2Insert("1.1", "m", "1990-05-01T00:00:00Z", "dd", "a-1", "2026-03-01T00:00:00Z"));
            List<List<Object>> before = db.rows("SELECT id, alert_id, indicator_value, misp_attribute_uuid, detected_at, "
                    + "origin, alert::text FROM hits ORDER BY id");

            db.migrate("latest");

            assertThat(db.rows("SELECT id, alert_id, indicator_value, misp_attribute_uuid, detected_at, origin, alert::text "
                    + "FROM hits_with_alert ORDER BY id")).isEqualTo(before);
            // the two hits of the first alert share its one document; each alert sits in its hits' month
            assertThat(db.rows("SELECT document->>'id', tableoid::regclass::text FROM alerts ORDER BY 1"))
                    .containsExactly(List.of("1.1", "alerts_default"), List.of("1755074541.11456929", "alerts_2025_08"),
                            List.of("1757320729.48664538", "alerts_2025_09"), List.of("sha256:abcdef", "alerts_2026_02"));
            assertThat(db.rows("SELECT alert_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), "
                    + "tableoid::regclass::text FROM hits ORDER BY id"))
                    .containsExactly(
                            List.of("1757320729.48664538", "2025-09-08 08:38:49.592", "hits_2025_09"),
                            List.of("1757320729.48664538", "2025-09-08 08:38:49.592", "hits_2025_09"),
                            List.of("1755074541.11456929", "2025-08-13 08:42:21.000", "hits_2025_08"),
                            List.of("sha256:abcdef", "2026-02-01 00:00:00.000", "hits_2026_02"),
                            List.of("1.1", "1990-05-01 00:00:00.000", "hits_default"));
            assertThat(partitions(db)).contains("hits_" + MONTH, "hits_" + NEXT_MONTH);
            assertThat(db.value("SELECT to_regclass('hits_v2')")).isNull();

            // new hits continue the ids; the same alert, retried after the migration, adds nothing
            long max = (Long) db.value("SELECT max(id) FROM hits");
            db.sql(v3Insert("1757320729.48664538", "2025-09-08T08:38:49.592Z", "aa", "a-1"),
                    v3Insert("1755074541.11456929", null, "bb", "a-1"),
                    v3Insert("1757320729.48664538", "2025-09-08T08:38:49.592Z", "aa", "a-3"));
            assertThat(db.rows("SELECT misp_attribute_uuid FROM hits WHERE id > " + max)).containsExactly(List.of("a-3"));
            assertThat(db.value("SELECT count(*) FROM hits")).isEqualTo(6L);
            assertThat(db.value("SELECT count(*) FROM hits_with_alert WHERE alert IS NULL")).isEqualTo(0L);
        }
    }

    /** A database at V11_2, whose hits carry their alert each: V11_3 stores each document once, and loses none. */
    @Test
    void hitsOfV11_2KeepTheirAlertsStoredOnce() {
        try (ScratchDatabase db = ScratchDatabase.create("mig_v11").migrate("11.2")) {
            db.sql("SELECT count(*) FROM hits_add_months(ARRAY[timestamptz '2025-09-08T00:00:00Z'])",
                    v11Insert("1757320729.48664538", "2025-09-08T08:38:49.592Z", "aa", "a-1",
                            "{\"id\": \"1757320729.48664538\", \"full_log\": \"x\\u00e9\"}"),
                    v11Insert("1757320729.48664538", "2025-09-08T08:38:49.592Z", "bb", "a-2",
                            "{\"full_log\": \"x\\u00e9\", \"id\": \"1757320729.48664538\"}"),
                    v11Insert("1757320730.1", "2025-09-08T08:38:50Z", "aa", "a-1", "{\"id\": \"1757320730.1\"}"),
                    v11Insert("1.1", "1990-05-01T00:00:00Z", "dd", "a-1", "{\"id\": \"1.1\"}"));
            List<List<Object>> before = db.rows("SELECT id, alert_id, indicator_value, alert::text FROM hits ORDER BY id");

            db.migrate("latest");

            assertThat(db.rows("SELECT id, alert_id, indicator_value, alert::text FROM hits_with_alert ORDER BY id"))
                    .isEqualTo(before);
            assertThat(db.value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'hits' "
                    + "AND column_name = 'alert'")).isEqualTo(0L);
            // the same document (jsonb knows no key order) once
            assertThat(db.rows("SELECT document->>'id', tableoid::regclass::text FROM alerts ORDER BY 1"))
                    .containsExactly(List.of("1.1", "alerts_default"), List.of("1757320729.48664538", "alerts_2025_09"),
                            List.of("1757320730.1", "alerts_2025_09"));
            // still an audit trail
            assertThatThrownBy(() -> db.sql("UPDATE hits SET severity = 0")).hasMessageContaining("never updated");
            assertThatThrownBy(() -> db.sql("UPDATE alerts SET document = '{}'")).hasMessageContaining("never updated");
        }
    }

    /** The INSERT of the service at V11_2: the whole alert on every hit. */
    static String v11Insert(String alertId, String timestamp, String value, String attribute, String alert) {
        return """
                INSERT INTO hits (alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp, indicator_type,
                                  indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid, misp_event_info,
                                  misp_attribute_uuid, misp_category, misp_type, misp_value, misp_threat_level, misp_to_ids,
                                  misp_tags, misp_instance, severity, suppressed, decided_by, labels, ruleset_version,
                                  correlator_version, origin, looked_up_at, alert, occurred_at)
                VALUES ('%s', 'm', '003', 'WS-1', '92052', '%s', 'sha256', '%s', 'f', 'r', '25', 'e-1', 'Loader', '%s',
                        'Payload delivery', 'sha256', '%s', 1, true, '{}', 'https://misp.test', 12, false, '{}', '{}',
                        'sha256:v2', '0.2.0', 'live', now(), '%s', hits_occurred_at('%s'::timestamptz, '%s'::text, now()))
                """.formatted(alertId, timestamp, value, attribute, value, alert, timestamp, alertId);
    }

    /** The application's INSERT (store/HitSql) for one hit of the migrated kind, with its alert ({} here). */
    static String v3Insert(String alertId, String timestamp, String value, String attribute) {
        String ts = timestamp == null ? "NULL" : "'" + timestamp + "'";
        return """
                WITH new_hits AS (
                    INSERT INTO hits (alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp, indicator_type,
                                      indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid,
                                      misp_event_info, misp_attribute_uuid, misp_category, misp_type, misp_value,
                                      misp_threat_level, misp_to_ids, misp_tags, misp_instance, severity, suppressed,
                                      decided_by, labels, ruleset_version, correlator_version, origin, looked_up_at,
                                      alert_digest, occurred_at)
                    VALUES ('%s', 'm', '003', 'WS-1', '92052', %s, 'sha256', '%s', 'f', 'r', '25', 'e-1', 'Loader', '%s',
                            'Payload delivery', 'sha256', '%s', 1, true, '{}', 'https://misp.test', 12, false, '{}', '{}',
                            'sha256:v2', '0.2.0', 'live', now(), md5('{}')::uuid,
                            hits_occurred_at(%s::timestamptz, '%s'::text, now()))
                    ON CONFLICT ON CONSTRAINT hits_alert_indicator_attribute_key DO NOTHING
                    RETURNING alert_digest, occurred_at
                )
                INSERT INTO alerts (occurred_at, alert_digest, document)
                SELECT DISTINCT occurred_at, alert_digest, '{}'::jsonb FROM new_hits
                ON CONFLICT ON CONSTRAINT alerts_pkey DO NOTHING
                """.formatted(alertId, ts, value, attribute, value, ts, alertId);
    }

    @Test
    void theApplicationAppendsAndReadsButNeverChangesAHit() throws Exception {
        try (ScratchDatabase db = ScratchDatabase.create("mig_rights").migrate("latest");
             Database service = Database.open(CorrelatorConfig.load(null, db.env()))) {
            try (Connection c = service.dataSource().getConnection(); Statement s = c.createStatement()) {
                assertThat(value(s, "SELECT current_user")).isEqualTo("correlator_app");
                s.execute(v3Insert("1.2", "2026-11-01T00:00:00Z", "ee", "a-1"));
                assertThat(value(s, "SELECT count(*) FROM hits")).isEqualTo(1L);
                assertThat(value(s, "SELECT count(*) FROM hits_per_day")).isEqualTo(1L);
                assertThat(value(s, "SELECT alert::text FROM hits_with_alert")).isEqualTo("{}");
                for (String forbidden : List.of("UPDATE hits SET severity = 0", "DELETE FROM hits", "TRUNCATE hits",
                        "DELETE FROM hits_default", "UPDATE alerts SET document = '{}'", "DELETE FROM alerts",
                        "TRUNCATE alerts", "DROP TABLE alerts_default", "UPDATE hits_" + MONTH + " SET severity = 0", "DROP TABLE hits_default",
                        "ALTER TABLE hits DISABLE TRIGGER hits_append_only", "CREATE TABLE scratch (x int)",
                        "DELETE FROM flyway_schema_history")) {
                    assertThatThrownBy(() -> s.execute(forbidden)).as(forbidden).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(forbidden).isIn("42501", "42P01"));
                }
                // retention, and the service's own state
                assertThat(value(s, "SELECT count(*) FROM hits_maintain(400)")).isNotNull();
                s.execute("INSERT INTO tail_offsets (path, file_key, position) VALUES ('/x', 'k', 1)");
                s.execute("UPDATE tail_offsets SET position = 2 WHERE path = '/x'");
            }
            // not even the owner may update a hit
            assertThatThrownBy(() -> db.sql("UPDATE hits SET severity = 0")).hasMessageContaining("never updated");
            assertThat(db.value("SELECT count(*) FROM hits")).isEqualTo(1L);
        }
    }

    @Test
    void auditorsReadHitsAndViewsAndNothingElse() throws Exception {
        try (ScratchDatabase db = ScratchDatabase.create("mig_audit").migrate("latest")) {
            db.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditor_it') THEN "
                    + "CREATE ROLE auditor_it LOGIN PASSWORD 'auditor-it-pw' IN ROLE correlator_auditor; END IF; END $$",
                    v3Insert("1.3", "2026-11-01T00:00:00Z", "ff", "a-1"));
            try (Connection c = DriverManager.getConnection(db.url(), "auditor_it", "auditor-it-pw");
                 Statement s = c.createStatement()) {
                assertThat(value(s, "SELECT count(*) FROM hits")).isEqualTo(1L);
                for (String view : List.of("hits_per_day", "hits_per_indicator", "hits_per_misp_event", "hits_per_agent",
                        "hits_with_alert", "alerts")) {
                    assertThat(value(s, "SELECT count(*) FROM " + view)).as(view).isEqualTo(1L);
                }
                for (String forbidden : List.of(v3Insert("1.4", null, "gg", "a-1"), "UPDATE hits SET severity = 0",
                        "DELETE FROM hits", "TRUNCATE hits", "DELETE FROM alerts", "SELECT * FROM flyway_schema_history",
                        "SELECT * FROM tail_offsets", "SELECT * FROM hits_maintain(1)", "CREATE TABLE mine (x int)",
                        "SELECT * FROM hits_" + MONTH)) {
                    assertThatThrownBy(() -> s.execute(forbidden)).as(forbidden).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(forbidden).isEqualTo("42501"));
                }
            }
        }
    }

    static List<String> partitions(ScratchDatabase db) {
        return partitions(db, "hits");
    }

    static List<String> partitions(ScratchDatabase db, String table) {
        return db.rows("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                + "WHERE i.inhparent = '" + table + "'::regclass ORDER BY 1").stream().map(r -> (String) r.get(0)).toList();
    }

    static Object value(Statement s, String sql) throws SQLException {
        try (var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getObject(1);
        }
    }
}
