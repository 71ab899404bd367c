package io.github.mispcorrelator.store;

/** The SQL of the observation index, in one place. The schema lives in {@code migrations/V8_1__observation_index.sql}. */
final class ObservationSql {
    private ObservationSql() {
    }

    /**
     * One statement per batch: the rows come as parallel arrays (unnest), so a flush is one round trip whatever its
     * size. The keys of one batch are unique (ObservationBuffer aggregates them), as ON CONFLICT DO UPDATE requires.
     */
    static final String UPSERT_DAYS = """
            INSERT INTO observation_days AS o (day, indicator_type, value, manager, agent_id, agent_name, first_seen,
                                               last_seen, alerts, first_alert_id, last_alert_id)
            SELECT * FROM unnest(?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[],
                                 ?::timestamptz[], ?::bigint[], ?::text[], ?::text[])
            ON CONFLICT ON CONSTRAINT observation_days_pkey DO UPDATE SET
                agent_name     = EXCLUDED.agent_name,
                first_alert_id = CASE WHEN EXCLUDED.first_seen < o.first_seen THEN EXCLUDED.first_alert_id
                                      ELSE o.first_alert_id END,
                first_seen     = least(o.first_seen, EXCLUDED.first_seen),
                last_alert_id  = CASE WHEN EXCLUDED.last_seen >= o.last_seen THEN EXCLUDED.last_alert_id
                                      ELSE o.last_alert_id END,
                last_seen      = greatest(o.last_seen, EXCLUDED.last_seen),
                alerts         = o.alerts + EXCLUDED.alerts
            """;

    static final String UPSERT_TOTALS = """
            INSERT INTO observations AS o (indicator_type, value, first_seen, last_seen, alerts)
            SELECT * FROM unnest(?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[], ?::bigint[])
            ON CONFLICT ON CONSTRAINT observations_pkey DO UPDATE SET
                first_seen = least(o.first_seen, EXCLUDED.first_seen),
                last_seen  = greatest(o.last_seen, EXCLUDED.last_seen),
                alerts     = o.alerts + EXCLUDED.alerts
            """;

    /**
     * The look-back join: which of the given (type, value) pairs were seen, by which agents, since a day. The small
     * side (the new attributes' values) probes the observations primary key; only the values found there are looked
     * up per day, so the cost grows with the new values and their matches, not with the index. The keys must be
     * distinct (the caller's are: a set).
     */
    /**
     * For the join's transaction: one index probe per new value into observations, then one per match and day into
     * observation_days. The planner, seeing 100,000 keys, would rather hash all of observations (millions of rows,
     * spilling to disk: minutes at 10 million) or let parallel workers each unnest the key list again.
     */
    static final String JOIN_SETTINGS = "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL work_mem = '64MB'; "
            + "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off";

    static final String SIGHTINGS = """
            SELECT d.indicator_type, d.value, d.manager, d.agent_id,
                   (array_agg(d.agent_name ORDER BY d.last_seen DESC))[1],
                   min(d.first_seen), max(d.last_seen), sum(d.alerts),
                   (array_agg(d.first_alert_id ORDER BY d.first_seen))[1],
                   (array_agg(d.last_alert_id ORDER BY d.last_seen DESC))[1]
            FROM unnest(?::text[], ?::text[]) AS k(t, v)
            JOIN observations o ON o.value = k.v AND o.indicator_type = k.t
            JOIN observation_days d ON d.value = o.value AND d.indicator_type = o.indicator_type AND d.day >= ?
            GROUP BY d.indicator_type, d.value, d.manager, d.agent_id
            """;

    /** The hits already stored for some values: a look-back never repeats what a live hit (or an earlier run) said. */
    static final String HITS_OF_VALUES = """
            SELECT DISTINCT indicator_value, misp_attribute_uuid, misp_instance, manager, agent_id
            FROM hits WHERE indicator_value = ANY (?::text[])
            """;

    /** GET /v1/observations: a value's totals... */
    static final String TOTALS_OF_VALUE = """
            SELECT indicator_type, value, first_seen, last_seen, alerts
            FROM observations WHERE value = ? AND indicator_type = ANY (?::text[])
            ORDER BY indicator_type
            """;

    /** ...and per agent over the days kept. */
    static final String AGENTS_OF_VALUE = """
            SELECT indicator_type, manager, agent_id, (array_agg(agent_name ORDER BY last_seen DESC))[1],
                   min(first_seen), max(last_seen), sum(alerts), count(*),
                   (array_agg(first_alert_id ORDER BY first_seen))[1],
                   (array_agg(last_alert_id ORDER BY last_seen DESC))[1]
            FROM observation_days WHERE value = ? AND indicator_type = ANY (?::text[])
            GROUP BY indicator_type, manager, agent_id
            ORDER BY indicator_type, max(last_seen) DESC, manager, agent_id
            LIMIT ?
            """;

    static final String HIT_COUNT_OF_VALUE = "SELECT count(*) FROM hits WHERE indicator_value = ?";

    static final String MAINTAIN = "SELECT action, partition_name, row_count FROM observations_maintain(?, ?)";
    /**
     * Taken first in the maintenance's transaction: observations_maintain (migrations/V8_1) checks then creates each
     * day's partition, so two instances starting at once on a fresh database both tried to create the same one
     * (42P07) and one failed to start. The lock is released at commit.
     */
    static final String MAINTAIN_LOCK = "SELECT pg_advisory_xact_lock(hashtext('observations_maintain'))";

    static final String CURSOR = "SELECT attribute_cursor, publish_cursor FROM lookback_cursors WHERE instance = ?";

    static final String SAVE_CURSOR = """
            INSERT INTO lookback_cursors (instance, attribute_cursor, publish_cursor, updated_at)
            VALUES (?, ?, ?, now())
            ON CONFLICT (instance) DO UPDATE SET attribute_cursor = EXCLUDED.attribute_cursor,
                publish_cursor = EXCLUDED.publish_cursor, updated_at = now()
            """;
}
