package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.store.Database;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retention drops whole monthly partitions (and never deletes a row), run by the application's role; partitions are
 * made for the months that need them, including those of hits that waited in hits_default.
 */
class RetentionIT {
    static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyy_MM");

    static String month(Instant t) {
        return "hits_" + MONTH.format(t.atOffset(ZoneOffset.UTC));
    }

    /** A hit and its alert (migrations/V11_3), the alert's document {"id": alertId}. */
    static String hit(String alertId, Instant occurred, Instant detected) {
        return """
                WITH h AS (
                    INSERT INTO hits (occurred_at, alert_id, manager, agent_id, agent_name, rule_id, indicator_type,
                                      indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid,
                                      misp_event_info, misp_attribute_uuid, misp_category, misp_type, misp_value,
                                      misp_threat_level, misp_to_ids, misp_tags, misp_instance, severity, suppressed,
                                      decided_by, labels, ruleset_version, correlator_version, detected_at, alert_digest)
                    VALUES ('%1$s', '%2$s', 'm', '001', 'a', '1', 'sha256', 'v', 'f', 'r', '1', 'e', 'i', 'a', 'c', 't',
                            'v', 1, true, '{}', 'x', 5, false, '{}', '{}', 'sha256:x', '0.1.0', '%3$s', md5('%2$s')::uuid)
                    RETURNING occurred_at, alert_digest, alert_id
                )
                INSERT INTO alerts (occurred_at, alert_digest, document)
                SELECT occurred_at, alert_digest, jsonb_build_object('id', alert_id) FROM h
                """.formatted(occurred, alertId, detected);
    }

    @Test
    void oldMonthsAreDroppedWholeAndNoRowIsEverDeleted() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant old = now.minus(Duration.ofDays(520));
        Instant oldButRetroHunted = now.minus(Duration.ofDays(470));
        Instant recent = now.minus(Duration.ofDays(10));
        Instant ahead = OffsetDateTime.now(ZoneOffset.UTC).plusMonths(4).toInstant();
        Instant garbage = Instant.parse("1990-05-01T00:00:00Z");
        try (ScratchDatabase db = ScratchDatabase.create("retention").migrate("latest");
             Database service = Database.open(CorrelatorConfig.load(null, db.env()))) {
            // a row-level trigger would see any DELETE; dropping a partition fires none
            db.sql("CREATE TABLE deleted_hits (id bigint)",
                    "CREATE FUNCTION log_delete() RETURNS trigger LANGUAGE plpgsql AS "
                            + "$$ BEGIN INSERT INTO deleted_hits VALUES (OLD.id); RETURN OLD; END $$",
                    "CREATE TRIGGER log_delete AFTER DELETE ON hits FOR EACH ROW EXECUTE FUNCTION log_delete()",
                    // months that a running service would have made when they were current
                    "SELECT count(*) FROM hits_add_months(ARRAY[timestamptz '" + old + "', timestamptz '"
                            + oldButRetroHunted + "', timestamptz '" + recent + "'])",
                    hit("old", old, old.plusSeconds(2)),
                    hit("old-retro", oldButRetroHunted, now.minus(Duration.ofDays(3))),
                    hit("recent", recent, recent.plusSeconds(2)),
                    // no partitions for these: they wait in hits_default
                    hit("clock-ahead", ahead, now),
                    hit("garbage-old", garbage, old),
                    hit("garbage-new", garbage, now));
            assertThat(db.value("SELECT count(*) FROM hits_default")).isEqualTo(3L);

            List<Retention.Action> actions = new Retention(service.dataSource(), 400).runNow();

            assertThat(actions).extracting(Retention.Action::toString).containsExactlyInAnyOrder(
                    "created " + month(ahead),
                    "moved out of hits_default hits_default (2 hits)",
                    "dropped (retention) hits_default (1 hits)",
                    "dropped (retention) " + month(old) + " (1 hits)");
            assertThat(db.rows("SELECT alert_id, tableoid::regclass::text FROM hits ORDER BY alert_id")).containsExactly(
                    List.of("clock-ahead", month(ahead)),
                    List.of("garbage-new", "hits_default"),
                    // occurred long ago, found by a retro-hunt three days ago: kept as long as a fresh finding
                    List.of("old-retro", month(oldButRetroHunted)),
                    List.of("recent", month(recent)));
            assertThat(db.value("SELECT to_regclass('" + month(old) + "')")).isNull();
            // each alert went, or stayed, with its hits: in the same month, or in alerts_default beside hits_default
            assertThat(db.rows("SELECT document->>'id', tableoid::regclass::text FROM alerts ORDER BY 1")).containsExactly(
                    List.of("clock-ahead", month(ahead).replace("hits_", "alerts_")),
                    List.of("garbage-new", "alerts_default"),
                    List.of("old-retro", month(oldButRetroHunted).replace("hits_", "alerts_")),
                    List.of("recent", month(recent).replace("hits_", "alerts_")));
            assertThat(db.value("SELECT to_regclass('" + month(old).replace("hits_", "alerts_") + "')")).isNull();
            assertThat(db.value("SELECT count(*) FROM hits_with_alert WHERE alert IS NULL")).isEqualTo(0L);
            assertThat(db.value("SELECT count(*) FROM deleted_hits")).isEqualTo(0L);

            // nothing left to do; and 0 days keeps everything
            assertThat(new Retention(service.dataSource(), 400).runNow()).isEmpty();
            assertThat(new Retention(service.dataSource(), 0).runNow()).isEmpty();
            assertThat(db.value("SELECT count(*) FROM hits")).isEqualTo(4L);
        }
    }

    @Test
    void theServiceMakesNextMonthsPartitionAtStartUp() throws Exception {
        String next = month(OffsetDateTime.now(ZoneOffset.UTC).plusMonths(1).toInstant());
        try (ScratchDatabase db = ScratchDatabase.create("retention_svc").migrate("latest")) {
            db.sql("DROP TABLE " + next);
            try (var app = new io.github.mispcorrelator.support.ServiceUnderTest(db.env())) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (db.value("SELECT to_regclass('" + next + "')") == null && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(db.value("SELECT to_regclass('" + next + "')::text")).isEqualTo(next);
                assertThat(app.get("/health/ready").status()).isEqualTo(200);
            }
        }
    }
}
