package io.github.mispcorrelator.audit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A row of {@link AuditSql#COLUMNS} as JSON, as an NDJSON line, or as a CSV record. */
final class HitRows {
    /** The link column added to every hit: the event's page on its MISP, when the instance is a MISP URL. */
    static final String EVENT_URL = "misp_event_url";
    static final List<String> CSV_HEADER = concat(AuditSql.COLUMNS, EVENT_URL);

    private HitRows() {
    }

    static JsonObject json(ResultSet rs, boolean withAlert) throws SQLException {
        JsonObject o = new JsonObject();
        int i = 0;
        for (String column : AuditSql.COLUMNS) {
            o.put(column, value(rs, ++i));
        }
        o.put(EVENT_URL, eventUrl(o.getString("misp_instance"), o.getString("misp_event_id")));
        if (withAlert) {
            String alert = rs.getString(++i);
            o.put("alert", alert == null ? null : new JsonObject(alert));
        }
        return o;
    }

    /** The row's position in the newest-first order, for the next page's cursor. */
    static HitQuery.Cursor cursor(JsonObject hit) {
        return new HitQuery.Cursor(OffsetDateTime.parse(hit.getString("occurred_at")).toInstant(), hit.getLong("id"));
    }

    private static Object value(ResultSet rs, int i) throws SQLException {
        Object v = rs.getObject(i);
        if (v == null) {
            return null;
        }
        if (v instanceof Timestamp) {
            return time(rs.getObject(i, OffsetDateTime.class));
        }
        if (v instanceof Array a) {
            Object[] items = (Object[]) a.getArray();
            return new JsonArray(Arrays.asList(items));
        }
        if (v instanceof Short s) {
            return s.intValue();
        }
        return v;
    }

    static String time(OffsetDateTime t) {
        return t == null ? null : t.withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    }

    static String eventUrl(String instance, String eventId) {
        if (instance == null || eventId == null || eventId.isBlank()
                || !(instance.startsWith("https://") || instance.startsWith("http://"))) {
            return null;
        }
        return (instance.endsWith("/") ? instance.substring(0, instance.length() - 1) : instance) + "/events/view/"
                + URLEncoder.encode(eventId, StandardCharsets.UTF_8);
    }

    static String ndjson(JsonObject hit) {
        return hit.encode() + "\n";
    }

    static String csvHeader(boolean withAlert) {
        return String.join(",", withAlert ? concat(CSV_HEADER, "alert") : CSV_HEADER) + "\r\n";
    }

    /** RFC 4180: CRLF, fields with a comma, quote or line break quoted; lists as JSON arrays. */
    static String csv(JsonObject hit, boolean withAlert) {
        StringBuilder b = new StringBuilder(512);
        List<String> columns = withAlert ? concat(CSV_HEADER, "alert") : CSV_HEADER;
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            Object v = hit.getValue(columns.get(i));
            b.append(csvField(v == null ? "" : v instanceof JsonArray a ? a.encode()
                    : v instanceof JsonObject o ? o.encode() : String.valueOf(v)));
        }
        return b.append("\r\n").toString();
    }

    /**
     * Alert data is written by whoever controls an agent: a field a spreadsheet would take for a formula
     * ({@code =}, {@code +}, {@code -}, {@code @}, tab, CR) is prefixed with an apostrophe (OWASP's advice). NDJSON
     * keeps every value exact.
     */
    static String csvField(String s) {
        String v = s;
        if (!v.isEmpty() && "=+-@\t\r".indexOf(v.charAt(0)) >= 0) {
            v = "'" + v;
        }
        if (v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0) {
            return '"' + v.replace("\"", "\"\"") + '"';
        }
        return v;
    }

    private static List<String> concat(List<String> list, String extra) {
        ArrayList<String> out = new ArrayList<>(list);
        out.add(extra);
        return List.copyOf(out);
    }
}
