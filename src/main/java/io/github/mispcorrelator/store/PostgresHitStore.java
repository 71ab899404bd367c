package io.github.mispcorrelator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.github.mispcorrelator.config.Version;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.HitStore;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hits in PostgreSQL through JDBC, by group commit: {@link #save} queues the alert's hits, and a drainer on a JDBC
 * worker (never the caller's event loop) writes whatever is queued then — up to {@link #MAX_GROUP_ALERTS} alerts — in
 * one transaction with one multi-row statement, and completes each caller's future after that commit, on the caller's
 * context. Nothing waits to fill a group: at low load a group is one alert written at once; under load the alerts that
 * arrive while a commit runs form the next group, so the commits per second stay few while each alert still waits for
 * at most about two commits. A group that fails for anything but an unreachable database is written again alert by
 * alert, so one bad row fails only its own alert.
 */
public final class PostgresHitStore implements HitStore {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresHitStore.class);
    /** Alerts written in one transaction at most (their rows are the statement's arrays). */
    static final int MAX_GROUP_ALERTS = 256;
    /** Hit rows in one transaction at most; one alert with more is still written whole. */
    static final int MAX_GROUP_ROWS = 2048;
    /** Transactions writing groups at once: one commits while the next is built and inserted. */
    static final int DRAINERS = 2;
    /**
     * Alerts queued at most; past it an alert is written in a transaction of its own on a worker, as before group
     * commit. The callers are bounded already (admission control, batch concurrency): this only caps memory.
     */
    static final int MAX_QUEUED = 8192;

    /** One alert's save waiting for its group. */
    private record Pending(Alert alert, List<Hit> hits, String rulesetVersion, Origin origin, Context context,
                           Promise<List<Hit>> promise) {
    }

    private final Jdbc jdbc;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger drainers = new AtomicInteger();
    private final LongAdder groups = new LongAdder();
    private final LongAdder grouped = new LongAdder();
    private final LongAdder rewritten = new LongAdder();

    public PostgresHitStore(DataSource dataSource, WorkerExecutor jdbc) {
        this.jdbc = new Jdbc(dataSource, jdbc);
    }

    @Override
    public Future<List<Hit>> save(Alert alert, List<Hit> hits, String rulesetVersion, Origin origin) {
        if (hits.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            return jdbc.blocking(() -> jdbc.transactionNow(c -> insert(c, List.of(
                    new Pending(alert, hits, rulesetVersion, origin, null, null)))).get(0));
        }
        Promise<List<Hit>> promise = Promise.promise();
        queue.add(new Pending(alert, List.copyOf(hits), rulesetVersion, origin, Vertx.currentContext(), promise));
        startDrainer();
        return promise.future();
    }

    /**
     * Transactions (groups) committed so far, the alerts they held (their ratio is the mean group size), and the
     * alerts written again one by one after their group failed.
     */
    public long[] groupCounts() {
        return new long[]{groups.sum(), grouped.sum(), rewritten.sum()};
    }

    private void startDrainer() {
        while (true) {
            int n = drainers.get();
            if (n >= DRAINERS || queue.isEmpty()) {
                return;
            }
            if (drainers.compareAndSet(n, n + 1)) {
                jdbc.blocking(() -> {
                    drain();
                    return null;
                }).onFailure(e -> LOG.error("Hit store drainer failed", e));
                return;
            }
        }
    }

    /**
     * Worker thread: writes one group, then hands the worker back (a new task takes the next group), so that the other
     * stores' work on the same JDBC workers — heartbeats, tail offsets, re-checks — is never starved by a long run of
     * groups: with the smallest pool (2) both drainers could otherwise hold both workers for as long as alerts arrive.
     */
    private void drain() {
        try {
            List<Pending> group = nextGroup();
            if (!group.isEmpty()) {
                write(group);
            }
        } finally {
            drainers.decrementAndGet();
            // the next group, or an alert queued after the poll but before the decrement, when every drainer was busy
            startDrainer();
        }
    }

    private List<Pending> nextGroup() {
        List<Pending> group = new ArrayList<>();
        int rows = 0;
        Pending p;
        while (group.size() < MAX_GROUP_ALERTS && (p = queue.peek()) != null
                && (group.isEmpty() || rows + p.hits().size() <= MAX_GROUP_ROWS)) {
            // peek then poll: another drainer may have taken it meanwhile, then take whatever is head now
            Pending taken = queue.poll();
            if (taken == null) {
                break;
            }
            queued.decrementAndGet();
            group.add(taken);
            rows += taken.hits().size();
        }
        return group;
    }

    private void write(List<Pending> group) {
        try {
            List<List<Hit>> inserted = jdbc.transactionNow(c -> insert(c, group));
            groups.increment();
            grouped.add(group.size());
            for (int i = 0; i < group.size(); i++) {
                complete(group.get(i), inserted.get(i), null);
            }
        } catch (StoreUnavailableException e) {
            group.forEach(p -> complete(p, null, e));
        } catch (RuntimeException e) {
            if (group.size() == 1) {
                complete(group.get(0), null, e);
                return;
            }
            // a bad row (a value an index refuses, say) or a deadlock with another group: alone, each alert
            // succeeds or fails on its own
            LOG.debug("Group of {} alerts failed ({}); writing them one by one", group.size(), e.getMessage());
            rewritten.add(group.size());
            for (Pending p : group) {
                write(List.of(p));
            }
        }
    }

    private static void complete(Pending p, List<Hit> inserted, Throwable failure) {
        Runnable done = () -> {
            if (failure == null) {
                p.promise().complete(inserted);
            } else {
                p.promise().fail(failure);
            }
        };
        if (p.context() == null) {
            done.run();
        } else {
            p.context().runOnContext(v -> done.run());
        }
    }

    /**
     * The statement of a group, for measurements on their own ({@code HitStoreCostIT}): these alerts and hits in one
     * statement on {@code c}, in its transaction; per alert, the hits that were new.
     */
    static List<List<Hit>> insert(Connection c, List<Alert> alerts, List<List<Hit>> hits, String rulesetVersion,
                                  Origin origin) throws SQLException {
        List<Pending> group = new ArrayList<>(alerts.size());
        for (int i = 0; i < alerts.size(); i++) {
            group.add(new Pending(alerts.get(i), hits.get(i), rulesetVersion, origin, null, null));
        }
        return insert(c, group);
    }

    /** The group's rows in one statement; per alert, the hits that were new. */
    private static List<List<Hit>> insert(Connection c, List<Pending> group) throws SQLException {
        int n = 0;
        for (Pending p : group) {
            n += p.hits().size();
        }
        Object[][] columns = new Object[HitSql.INSERT_TYPES.length][n];
        // each alert's document once, even when the group holds the same alert twice (sent twice at once)
        Map<UUID, String> documents = new LinkedHashMap<>();
        int row = 0;
        for (Pending p : group) {
            Alert alert = p.alert();
            String alertJson = alertJson(alert.json());
            UUID digest = digest(alertJson);
            documents.putIfAbsent(digest, alertJson);
            Timestamp alertTime = alertTimestamp(alert);
            String alertId = key(alert.getId());
            String manager = key(alert.getManager());
            String agentId = key(alert.getAgentId());
            String agentName = key(alert.getAgentName());
            String ruleId = key(alert.getRuleId());
            String rawId = clean(alert.getId());
            for (Hit h : p.hits()) {
                MispAttribute a = h.attribute();
                Object[] v = {alertId, manager, agentId, agentName, ruleId, alertTime,
                        h.getType(), bounded(h.getValue(), MAX_VALUE_BYTES), key(h.getField()),
                        key(h.indicator().rule()), key(h.indicator().ruleId()),
                        clean(a.eventId()), clean(a.eventUuid()), clean(a.eventInfo()), clean(a.uuid()),
                        clean(a.category()), clean(a.type()), clean(a.value()), (short) a.threatLevel(), a.toIds(),
                        arrayLiteral(a.tags()), clean(a.instance()),
                        (short) h.getSeverity(), h.isSuppressed(), arrayLiteral(h.getDecidedBy()),
                        arrayLiteral(h.getDecidedByIds()), arrayLiteral(h.getLabels()), p.rulesetVersion(),
                        Version.CORRELATOR, p.origin().sqlValue(),
                        h.lookedUpAt() == null ? null : Timestamp.from(h.lookedUpAt()), digest, rawId};
                for (int k = 0; k < v.length; k++) {
                    columns[k][row] = v[k];
                }
                row++;
            }
        }
        // the rows that were new, by unique key; a key twice in the group (the same alert sent twice at once) is
        // new for its first occurrence only, as if the two had been written one after the other
        Map<List<String>, Integer> fresh = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(HitSql.INSERT)) {
            for (int k = 0; k < columns.length; k++) {
                ps.setArray(k + 1, c.createArrayOf(HitSql.INSERT_TYPES[k], columns[k]));
            }
            ps.setArray(columns.length + 1, c.createArrayOf("uuid", documents.keySet().toArray()));
            ps.setArray(columns.length + 2, c.createArrayOf("text", documents.values().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    fresh.merge(List.of(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5)), 1, Integer::sum);
                }
            }
        }
        List<List<Hit>> out = new ArrayList<>(group.size());
        row = 0;
        for (Pending p : group) {
            List<Hit> inserted = new ArrayList<>();
            for (Hit h : p.hits()) {
                List<String> k = List.of((String) columns[1][row], (String) columns[0][row], (String) columns[7][row],
                        (String) columns[14][row], (String) columns[21][row]);
                Integer left = fresh.get(k);
                if (left != null && left > 0) {
                    fresh.put(k, left - 1);
                    inserted.add(h);
                }
                row++;
            }
            out.add(inserted);
        }
        return out;
    }

    /**
     * A PostgreSQL array literal of text elements, every element quoted: {@code {"a","b \"c\""}}. The group's
     * text[] columns are sent as one such literal per row.
     */
    static String arrayLiteral(Collection<String> values) {
        StringBuilder sb = new StringBuilder(2 + values.size() * 16).append('{');
        boolean first = true;
        for (String v : values) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append('"');
            String c = clean(v);
            for (int i = 0; i < c.length(); i++) {
                char ch = c.charAt(i);
                if (ch == '"' || ch == '\\') {
                    sb.append('\\');
                }
                sb.append(ch);
            }
            sb.append('"');
        }
        return sb.append('}').toString();
    }

    @Override
    public Future<Boolean> ping() {
        return jdbc.blocking(() -> {
            try (Connection c = jdbc.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.setQueryTimeout(2);
                s.execute(HitSql.PING);
                return true;
            } catch (SQLException e) {
                return false;
            }
        });
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
        byte[] utf8 = c.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= maxBytes) {
            return c;
        }
        String digest;
        try {
            digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(utf8), 0, 16);
        } catch (NoSuchAlgorithmException e) {
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

    /**
     * The key of an alert's document in {@code alerts}: the first 128 bits of the SHA-256 of its JSON text, as
     * PostgreSQL's {@code encode(substr(sha256(convert_to(text, 'UTF8')), 1, 16), 'hex')::uuid} gives it (the
     * migration V11_3 keyed the documents it moved that way). Two different documents never share a key in practice;
     * a retried alert, the same text, always gets the same one.
     */
    static UUID digest(String alertJson) {
        try {
            ByteBuffer sha = ByteBuffer.wrap(MessageDigest.getInstance("SHA-256")
                    .digest(alertJson.getBytes(StandardCharsets.UTF_8)));
            return new UUID(sha.getLong(), sha.getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
            Map<String, JsonNode> replaced = new LinkedHashMap<>();
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
                ((ArrayNode) node).set(i, withoutNul(node.get(i)));
            }
            return node;
        }
        if (node.isTextual()) {
            return TextNode.valueOf(clean(node.asText()));
        }
        return node;
    }
}
