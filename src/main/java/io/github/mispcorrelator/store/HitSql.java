package io.github.mispcorrelator.store;

/** The SQL of the hits table, in one place. The schema itself lives in {@code migrations/}. */
final class HitSql {
    private HitSql() {
    }

    /**
     * The hits of a group of alerts and their alert documents in one statement. Each hit column is an array with one
     * element per hit row, unnested side by side; the alert documents are two more arrays, one element per distinct
     * alert of the group (digest, JSON text). The statement text never changes with the group's size, so it is parsed
     * once per connection. The text[] columns travel as array literals, one per row ({@link PostgresHitStore#arrayLiteral}),
     * since a PostgreSQL array of arrays must be rectangular.
     *
     * <p>occurred_at, the partition key, is part of the unique key and must be the same for every retry of an alert:
     * hits_occurred_at (migrations/V3) takes the alert's timestamp, else the time in its Wazuh id. A row already stored
     * is skipped; RETURNING names the rows that were new by the unique key's columns (all but occurred_at, which the
     * service does not compute).
     *
     * <p>An alert's document goes to {@code alerts} (migrations/V11_3) only when at least one of its hits was new, with
     * the occurred_at those hits got, so a retried alert adds nothing there either; a document already there (the same
     * alert, a new hit) is skipped. Both inserts are one statement, hence one transaction with the group's commit.
     */
    static final String INSERT = """
            WITH new_hits AS (
                INSERT INTO hits (alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp,
                                  indicator_type, indicator_value, source_field, drl_rule, drl_rule_id,
                                  misp_event_id, misp_event_uuid, misp_event_info, misp_attribute_uuid, misp_category,
                                  misp_type, misp_value, misp_threat_level, misp_to_ids, misp_tags, misp_instance,
                                  severity, suppressed, decided_by, decided_by_ids, labels, ruleset_version,
                                  correlator_version, origin, looked_up_at, alert_digest, occurred_at)
                SELECT u.alert_id, u.manager, u.agent_id, u.agent_name, u.rule_id, u.alert_timestamp,
                       u.indicator_type, u.indicator_value, u.source_field, u.drl_rule, u.drl_rule_id,
                       u.misp_event_id, u.misp_event_uuid, u.misp_event_info, u.misp_attribute_uuid, u.misp_category,
                       u.misp_type, u.misp_value, u.misp_threat_level, u.misp_to_ids, u.misp_tags::text[],
                       u.misp_instance, u.severity, u.suppressed, u.decided_by::text[], u.decided_by_ids::text[],
                       u.labels::text[], u.ruleset_version, u.correlator_version, u.origin, u.looked_up_at,
                       u.alert_digest, hits_occurred_at(u.alert_timestamp, u.raw_alert_id, now())
                FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[],
                            ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                            ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                            ?::text[], ?::text[], ?::smallint[], ?::boolean[], ?::text[], ?::text[],
                            ?::smallint[], ?::boolean[], ?::text[], ?::text[], ?::text[], ?::text[],
                            ?::text[], ?::text[], ?::timestamptz[], ?::uuid[], ?::text[])
                     AS u(alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp,
                          indicator_type, indicator_value, source_field, drl_rule, drl_rule_id,
                          misp_event_id, misp_event_uuid, misp_event_info, misp_attribute_uuid, misp_category,
                          misp_type, misp_value, misp_threat_level, misp_to_ids, misp_tags, misp_instance,
                          severity, suppressed, decided_by, decided_by_ids, labels, ruleset_version,
                          correlator_version, origin, looked_up_at, alert_digest, raw_alert_id)
                ON CONFLICT ON CONSTRAINT hits_alert_indicator_attribute_key DO NOTHING
                RETURNING manager, alert_id, indicator_value, misp_attribute_uuid, misp_instance, alert_digest,
                          occurred_at
            ), new_alerts AS (
                INSERT INTO alerts (occurred_at, alert_digest, document)
                SELECT k.occurred_at, d.alert_digest, d.document::jsonb
                FROM (SELECT DISTINCT alert_digest, occurred_at FROM new_hits) k
                JOIN unnest(?::uuid[], ?::text[]) AS d(alert_digest, document) ON d.alert_digest = k.alert_digest
                ON CONFLICT ON CONSTRAINT alerts_pkey DO NOTHING
            )
            SELECT manager, alert_id, indicator_value, misp_attribute_uuid, misp_instance FROM new_hits
            """;

    /** The element types of {@link #INSERT}'s hit arrays, in order (for {@code Connection.createArrayOf}). */
    static final String[] INSERT_TYPES = {"text", "text", "text", "text", "text", "timestamptz",
            "text", "text", "text", "text", "text",
            "text", "text", "text", "text", "text",
            "text", "text", "int2", "bool", "text", "text",
            "int2", "bool", "text", "text", "text", "text",
            "text", "text", "timestamptz", "uuid", "text"};

    static final String PING = "SELECT 1";
}
