package io.github.mispcorrelator.audit;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of the hit history, in one place. Every filter is a bound parameter; every list is newest first by
 * (occurred_at, id), the order of the indexes in migrations/V3, so that a page is an index range scan that stops after
 * its rows and a time range touches only its monthly partitions.
 */
final class AuditSql {
    private AuditSql() {
    }

    /** The columns of a hit as the API, CSV and NDJSON give them, in this order (the alert only on request). */
    static final List<String> COLUMNS = List.of("id", "occurred_at", "detected_at", "alert_timestamp", "alert_id",
            "manager", "agent_id", "agent_name", "rule_id", "indicator_type", "indicator_value", "source_field",
            "drl_rule", "drl_rule_id", "misp_instance", "misp_event_id", "misp_event_uuid", "misp_event_info", "misp_attribute_uuid",
            "misp_category", "misp_type", "misp_value", "misp_threat_level", "misp_to_ids", "misp_tags", "severity",
            "suppressed", "decided_by", "decided_by_ids", "labels", "ruleset_version", "correlator_version", "origin", "looked_up_at");

    static final String NEWEST_FIRST = " ORDER BY occurred_at DESC, id DESC";

    /** A WHERE clause and its parameters, in order. */
    record Where(String sql, List<Object> args) {
    }

    static Where where(HitQuery.Filter f, HitQuery.Cursor after) {
        List<String> terms = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        if (f.from() != null) {
            terms.add("occurred_at >= ?");
            args.add(f.from());
        }
        if (f.to() != null) {
            terms.add("occurred_at < ?");
            args.add(f.to());
        }
        equal(terms, args, "agent_id", f.agentId());
        equal(terms, args, "agent_name", f.agentName());
        if (f.indicatorValues() != null) {
            if (f.indicatorValues().size() == 1) {
                equal(terms, args, "indicator_value", f.indicatorValues().get(0));
            } else {
                terms.add("indicator_value = ANY (?)");
                args.add(f.indicatorValues().toArray(new String[0]));
            }
        }
        equal(terms, args, "indicator_type", f.indicatorType());
        equal(terms, args, "misp_event_id", f.mispEventId());
        equal(terms, args, "misp_event_uuid", f.mispEventUuid());
        equal(terms, args, "rule_id", f.ruleId());
        if (f.minSeverity() != null) {
            terms.add("severity >= ?");
            args.add(f.minSeverity());
        }
        equal(terms, args, "ruleset_version", f.rulesetVersion());
        equal(terms, args, "origin", f.origin());
        equal(terms, args, "manager", f.manager());
        if (after != null) {
            // keyset pagination: strictly older than the last row of the previous page
            terms.add("(occurred_at, id) < (?, ?)");
            args.add(after.occurredAt());
            args.add(after.id());
        }
        return new Where(terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms), args);
    }

    private static void equal(List<String> terms, List<Object> args, String column, String value) {
        if (value != null) {
            terms.add(column + " = ?");
            args.add(value);
        }
    }

    static String page(Where w, boolean withAlert, Integer limit) {
        return "SELECT " + String.join(", ", COLUMNS) + (withAlert ? ", alert FROM hits_with_alert" : " FROM hits") + w.sql()
                + NEWEST_FIRST + (limit == null ? "" : " LIMIT " + limit);
    }

    /**
     * One hit by id, with its alert; without the partition key PostgreSQL probes each month's primary key index, then
     * the alert's month of {@code alerts} by its key. The alert is stored once per alert (migrations/V11_3): the view
     * hits_with_alert joins it back, for this and for exports with the alert.
     */
    static final String ONE = "SELECT " + String.join(", ", COLUMNS) + ", alert FROM hits_with_alert WHERE id = ?";

    static String statsByDay(Where w) {
        return "SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM hits" + w.sql()
                + " GROUP BY 1 ORDER BY 1";
    }

    static String statsByAgent(Where w, int top) {
        return "SELECT manager, agent_id, max(agent_name), count(*) FROM hits" + w.sql()
                + " GROUP BY manager, agent_id ORDER BY count(*) DESC, manager, agent_id LIMIT " + top;
    }

    static String statsByIndicatorType(Where w) {
        return "SELECT indicator_type, count(*) FROM hits" + w.sql() + " GROUP BY 1 ORDER BY 2 DESC, 1";
    }

    static String statsByMispEvent(Where w, int top) {
        return "SELECT misp_instance, misp_event_uuid, max(misp_event_id), max(misp_event_info), count(*) FROM hits"
                + w.sql() + " GROUP BY misp_instance, misp_event_uuid ORDER BY count(*) DESC, misp_event_uuid LIMIT " + top;
    }

    /** Read-only work gets a ceiling, so a forgotten filter cannot hold a connection for long. */
    static final String QUERY_TIMEOUT = "SET LOCAL statement_timeout = '30s'";

    static Object bindable(Object arg) {
        return arg instanceof Instant i ? OffsetDateTime.ofInstant(i, ZoneOffset.UTC) : arg;
    }
}
