package io.github.mispcorrelator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.github.mispcorrelator.config.Version;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.HitStore;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Hits in PostgreSQL through JDBC. Every call runs on a worker executor sized like the connection pool, never on the
 * caller's event loop.
 */
public final class PostgresHitStore implements HitStore {

    private final DataSource dataSource;
    private final WorkerExecutor jdbc;

    public PostgresHitStore(DataSource dataSource, WorkerExecutor jdbc) {
        this.dataSource = dataSource;
        this.jdbc = jdbc;
    }

    @Override
    public Future<List<Hit>> save(Alert alert, List<Hit> hits, String rulesetVersion, Origin origin) {
        if (hits.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        // unordered: saves of different alerts run in parallel up to the pool size
        return jdbc.executeBlocking(() -> insert(alert, hits, rulesetVersion, origin), false);
    }

    private List<Hit> insert(Alert alert, List<Hit> hits, String rulesetVersion, Origin origin) {
        String alertJson = alertJson(alert.json());
        Timestamp alertTime = alertTimestamp(alert);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(HitSql.INSERT)) {
                for (Hit h : hits) {
                    MispAttribute a = h.attribute();
                    int i = 0;
                    ps.setString(++i, key(alert.getId()));
                    ps.setString(++i, key(alert.getManager()));
                    ps.setString(++i, key(alert.getAgentId()));
                    ps.setString(++i, key(alert.getAgentName()));
                    ps.setString(++i, key(alert.getRuleId()));
                    ps.setTimestamp(++i, alertTime);
                    ps.setString(++i, h.getType());
                    ps.setString(++i, bounded(h.getValue(), MAX_VALUE_BYTES));
                    ps.setString(++i, key(h.getField()));
                    ps.setString(++i, key(h.indicator().rule()));
                    ps.setString(++i, key(h.indicator().ruleId()));
                    ps.setString(++i, clean(a.eventId()));
                    ps.setString(++i, clean(a.eventUuid()));
                    ps.setString(++i, clean(a.eventInfo()));
                    ps.setString(++i, clean(a.uuid()));
                    ps.setString(++i, clean(a.category()));
                    ps.setString(++i, clean(a.type()));
                    ps.setString(++i, clean(a.value()));
                    ps.setShort(++i, (short) a.threatLevel());
                    ps.setBoolean(++i, a.toIds());
                    ps.setArray(++i, c.createArrayOf("text", a.tags().stream().map(PostgresHitStore::clean).toArray()));
                    ps.setString(++i, clean(a.instance()));
                    ps.setShort(++i, (short) h.getSeverity());
                    ps.setBoolean(++i, h.isSuppressed());
                    ps.setArray(++i, c.createArrayOf("text", h.getDecidedBy().toArray()));
                    ps.setArray(++i, c.createArrayOf("text", h.getDecidedByIds().stream().map(PostgresHitStore::clean).toArray()));
                    ps.setArray(++i, c.createArrayOf("text", h.getLabels().toArray()));
                    ps.setString(++i, rulesetVersion);
                    ps.setString(++i, Version.CORRELATOR);
                    ps.setString(++i, origin.sqlValue());
                    ps.setTimestamp(++i, h.lookedUpAt() == null ? null : Timestamp.from(h.lookedUpAt()));
                    ps.setString(++i, alertJson);
                    ps.setTimestamp(++i, alertTime);
                    ps.setString(++i, clean(alert.getId()));
                    ps.addBatch();
                }
                // per-row counts (the pool does not rewrite batches): 0 means already stored
                int[] counts = ps.executeBatch();
                c.commit();
                List<Hit> inserted = new java.util.ArrayList<>();
                for (int k = 0; k < counts.length; k++) {
                    if (counts[k] > 0) {
                        inserted.add(hits.get(k));
                    }
                }
                return inserted;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    @Override
    public Future<Boolean> ping() {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.setQueryTimeout(2);
                s.execute(HitSql.PING);
                return true;
            } catch (SQLException e) {
                return false;
            }
        }, false);
    }

    /**
     * Connection-level failures (class 08, server shutting down, pool timeout) mean "try again later"; anything else
     * is a defect and stays an error.
     */
    static RuntimeException translate(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (e instanceof SQLTransientException || state.startsWith("08") || state.startsWith("57P")
                || state.startsWith("53")) {
            return new StoreUnavailableException("hit store unavailable: "
                    + io.github.mispcorrelator.alert.Alert.abbreviate(String.valueOf(e.getMessage()), 300), e);
        }
        // the server's message may quote a whole value (a row too large for an index): never more than a line
        return new IllegalStateException("hit store error (SQLState " + state + "): "
                + io.github.mispcorrelator.alert.Alert.abbreviate(String.valueOf(e.getMessage()), 300));
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; nothing was committed
        }
    }

    static Timestamp alertTimestamp(Alert alert) {
        var t = alert.getEpochMilli();
        return t.isPresent() ? new Timestamp(t.getAsLong()) : null;
    }

    /**
     * Identifiers taken from the alert (id, manager, agent, rule) are columns of b-tree indexes, whose entries
     * PostgreSQL caps at 2,704 bytes: a longer one failed the insert and lost the alert's hits. Longer values are
     * stored as their first bytes, {@code "~"} and a digest of the whole: still unique, still searchable by prefix.
     */
    static final int MAX_KEY_BYTES = 256;
    /** The indicator value shares the unique index with the keys above; MISP values are rarely this long. */
    static final int MAX_VALUE_BYTES = 1024;

    /** An alert identifier in the form the indexes accept: {@link #clean}ed and {@link #bounded} to 256 bytes. */
    public static String key(String s) {
        return bounded(s, MAX_KEY_BYTES);
    }

    static String bounded(String s, int maxBytes) {
        String c = clean(s);
        // a char is at most 3 UTF-8 bytes (surrogate pairs 4 for 2 chars): short strings need no encoding
        if (c.length() * 3 <= maxBytes) {
            return c;
        }
        byte[] utf8 = c.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (utf8.length <= maxBytes) {
            return c;
        }
        String digest;
        try {
            digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(utf8), 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        int keep = maxBytes - digest.length() - 1;
        StringBuilder prefix = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < c.length(); ) {
            int cp = c.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > keep) {
                break;
            }
            prefix.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return prefix.append('~').append(digest).toString();
    }

    /** PostgreSQL text and jsonb refuse NUL characters, which an alert may carry; nothing else is changed. */
    static String clean(String s) {
        return s == null ? "" : s.indexOf('\0') >= 0 ? s.replace('\0', '\uFFFD') : s;
    }

    static String alertJson(ObjectNode alert) {
        try {
            String json = Json.MAPPER.writeValueAsString(alert);
            if (!json.contains("\\u0000")) {
                return json;
            }
            return Json.MAPPER.writeValueAsString(withoutNul(alert.deepCopy()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode withoutNul(JsonNode node) {
        if (node instanceof ObjectNode o) {
            Map<String, JsonNode> replaced = new java.util.LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                replaced.put(clean(e.getKey()), withoutNul(e.getValue()));
            }
            o.removeAll();
            o.setAll(replaced);
            return o;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                ((com.fasterxml.jackson.databind.node.ArrayNode) node).set(i, withoutNul(node.get(i)));
            }
            return node;
        }
        if (node.isTextual()) {
            return TextNode.valueOf(clean(node.asText()));
        }
        return node;
    }
}
