package io.github.mispcorrelator.audit;

import java.time.Instant;

/**
 * Many hits fast, generated inside PostgreSQL: {@code rows} hits spread evenly over [from, to), with cardinalities of
 * a large installation (2,000 agents, 200 Wazuh rules, 5,000 MISP events, ~1 million distinct indicator values, 50
 * rule-set versions, severities 0..15).
 */
final class HitSeed {
    private HitSeed() {
    }

    /** The hits, and one alert document each in {@code alerts} (migrations/V11_3), as the service stores them. */
    static String insert(long firstId, long rows, Instant from, Instant to) {
        return """
                WITH s AS (
                    SELECT g, t, md5(g::text)::uuid AS digest
                    FROM (SELECT g, timestamptz '%s' + ((g - %d)::float8 / %d) * (timestamptz '%s' - timestamptz '%s') AS t
                          FROM generate_series(%d, %d) g) r
                ), a AS (
                    INSERT INTO alerts (occurred_at, alert_digest, document)
                    SELECT t, digest, jsonb_build_object('id', extract(epoch FROM t)::bigint || '.' || g,
                                                         'agent', jsonb_build_object('id', lpad((g %% 2000)::text, 4, '0')),
                                                         'rule', jsonb_build_object('id', (92000 + g %% 200)::text, 'level', 12))
                    FROM s
                )
                INSERT INTO hits (occurred_at, alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp,
                                  indicator_type, indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid,
                                  misp_event_info, misp_attribute_uuid, misp_category, misp_type, misp_value,
                                  misp_threat_level, misp_to_ids, misp_tags, misp_instance, severity, suppressed,
                                  decided_by, labels, ruleset_version, correlator_version, detected_at, alert_digest,
                                  origin, looked_up_at)
                SELECT t, extract(epoch FROM t)::bigint || '.' || g, 'wazuh', lpad((g %% 2000)::text, 4, '0'),
                       'host-' || (g %% 2000), (92000 + g %% 200)::text, t,
                       (ARRAY['sha256','md5','ip','domain','url'])[1 + g %% 5], md5((g %% 1000003)::text),
                       'data.win.eventdata.hashes', 'Sysmon hashes', (g %% 5000)::text,
                       '00000000-0000-4000-8000-' || lpad((g %% 5000)::text, 12, '0'), 'event ' || (g %% 5000),
                       md5(g::text || 'a'), 'Payload delivery', 'sha256', md5((g %% 1000003)::text), 1 + g %% 4, true,
                       ARRAY['tlp:green'], 'https://misp.example.org', (g %% 16)::smallint, false,
                       ARRAY['Severity: MISP threat level high'], ARRAY[]::text[],
                       'sha256:' || lpad((g %% 50)::text, 16, '0'), '0.1.0', t + interval '2 seconds', digest,
                       CASE WHEN g %% 20 = 0 THEN 'retro-hunt' ELSE 'live' END, t + interval '1 second'
                FROM s
                """.formatted(from, firstId, rows, to, from, firstId, firstId + rows - 1);
    }
}
