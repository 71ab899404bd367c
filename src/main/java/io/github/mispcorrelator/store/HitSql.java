package io.github.mispcorrelator.store;

/** The SQL of the hits table, in one place. The schema itself lives in {@code migrations/}. */
final class HitSql {
    private HitSql() {
    }

    /**
     * occurred_at, the partition key, is part of the unique key and must be the same for every retry of an alert:
     * hits_occurred_at (migrations/V3) takes the alert's timestamp, else the time in its Wazuh id.
     */
    static final String INSERT = """
            INSERT INTO hits (alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp,
                              indicator_type, indicator_value, source_field, drl_rule, drl_rule_id,
                              misp_event_id, misp_event_uuid, misp_event_info, misp_attribute_uuid, misp_category,
                              misp_type, misp_value, misp_threat_level, misp_to_ids, misp_tags, misp_instance,
                              severity, suppressed, decided_by, decided_by_ids, labels, ruleset_version, correlator_version, origin,
                              looked_up_at, alert, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb,
                    hits_occurred_at(?::timestamptz, ?::text, now()))
            ON CONFLICT ON CONSTRAINT hits_alert_indicator_attribute_key DO NOTHING
            """;

    static final String PING = "SELECT 1";
}
