package io.github.mispcorrelator.store;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Array;
import java.util.HashMap;
import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The observation index in PostgreSQL ({@code observations}, {@code observation_days}): batches written, the look-back
 * join, the look-back cursors and the daily partitions. Every call runs on the JDBC worker executor, never on the
 * caller's event loop.
 */
public final class ObservationStore {
    private static final Logger LOG = LoggerFactory.getLogger(ObservationStore.class);
    /** Partitions created ahead of today, so that a flush at midnight finds its day. */
    static final int DAYS_AHEAD = 2;

    /** What the index knows of one value on one agent (over the days kept). */
    public record Sighting(String type, String value, String manager, String agentId, String agentName,
                           Instant firstSeen, Instant lastSeen, long alerts, String firstAlertId, String lastAlertId) {
        public String key() {
            return type + ":" + value;
        }
    }

    /** A hit already stored: the look-back does not find it again. */
    public record StoredHit(String value, String attributeUuid, String instance, String manager, String agentId) {
    }

    /** How far the look-back asked one MISP (epoch seconds). */
    public record Cursor(long attributeTimestamp, long publishTimestamp) {
    }

    private final Jdbc jdbc;

    public ObservationStore(DataSource dataSource, WorkerExecutor jdbc) {
        this.jdbc = new Jdbc(dataSource, jdbc);
    }

    /** Writes one batch in one transaction; fails with {@link StoreUnavailableException} when the database is down. */
    public Future<Integer> write(ObservationBuffer.Batch batch) {
        if (batch.isEmpty()) {
            return Future.succeededFuture(0);
        }
        return jdbc.blocking(() -> writeNow(batch));
    }

    /** Runs on the JDBC workers (the index drains its buffer there: sorting a full one is no event-loop work). */
    <T> Future<T> blocking(Jdbc.Blocking<T> work) {
        return jdbc.blocking(work);
    }

    int writeNow(ObservationBuffer.Batch batch) {
        int n = batch.days().size();
        Object[] day = new Object[n];
        Object[] type = new Object[n];
        Object[] value = new Object[n];
        Object[] manager = new Object[n];
        Object[] agent = new Object[n];
        Object[] agentName = new Object[n];
        Object[] first = new Object[n];
        Object[] last = new Object[n];
        Object[] alerts = new Object[n];
        Object[] firstId = new Object[n];
        Object[] lastId = new Object[n];
        int i = 0;
        for (Map.Entry<ObservationBuffer.Key, ObservationBuffer.Entry> row : batch.days()) {
            ObservationBuffer.Key k = row.getKey();
            ObservationBuffer.Entry e = row.getValue();
            day[i] = k.day().toString();
            type[i] = k.type();
            value[i] = clean(k.value());
            manager[i] = k.manager();
            agent[i] = k.agentId();
            agentName[i] = e.agentName();
            first[i] = Timestamp.from(e.firstSeen());
            last[i] = Timestamp.from(e.lastSeen());
            alerts[i] = e.alerts();
            firstId[i] = e.firstAlertId();
            lastId[i] = e.lastAlertId();
            i++;
        }
        int m = batch.totals().size();
        Object[] tType = new Object[m];
        Object[] tValue = new Object[m];
        Object[] tFirst = new Object[m];
        Object[] tLast = new Object[m];
        Object[] tAlerts = new Object[m];
        int j = 0;
        for (ObservationBuffer.Total t : batch.totals()) {
            tType[j] = t.type();
            tValue[j] = clean(t.value());
            tFirst[j] = Timestamp.from(t.firstSeen());
            tLast[j] = Timestamp.from(t.lastSeen());
            tAlerts[j] = t.alerts();
            j++;
        }
        return jdbc.transactionNow(c -> {
            try (PreparedStatement ps = c.prepareStatement(ObservationSql.UPSERT_DAYS)) {
                ps.setArray(1, c.createArrayOf("text", day));
                ps.setArray(2, c.createArrayOf("text", type));
                ps.setArray(3, c.createArrayOf("text", value));
                ps.setArray(4, c.createArrayOf("text", manager));
                ps.setArray(5, c.createArrayOf("text", agent));
                ps.setArray(6, c.createArrayOf("text", agentName));
                ps.setArray(7, c.createArrayOf("timestamptz", first));
                ps.setArray(8, c.createArrayOf("timestamptz", last));
                ps.setArray(9, c.createArrayOf("bigint", alerts));
                ps.setArray(10, c.createArrayOf("text", firstId));
                ps.setArray(11, c.createArrayOf("text", lastId));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(ObservationSql.UPSERT_TOTALS)) {
                ps.setArray(1, c.createArrayOf("text", tType));
                ps.setArray(2, c.createArrayOf("text", tValue));
                ps.setArray(3, c.createArrayOf("timestamptz", tFirst));
                ps.setArray(4, c.createArrayOf("timestamptz", tLast));
                ps.setArray(5, c.createArrayOf("bigint", tAlerts));
                ps.executeUpdate();
            }
            return n;
        });
    }

    /** The look-back join: who saw which of these distinct {@code type:value} keys since {@code since} (a UTC day). */
    public Future<List<Sighting>> sightings(Collection<String> keys, LocalDate since) {
        if (keys.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        return jdbc.blocking(() -> sightingsNow(keys, since));
    }

    public List<Sighting> sightingsNow(Collection<String> keys, LocalDate since) {
        List<String> types = new ArrayList<>(keys.size());
        List<String> values = new ArrayList<>(keys.size());
        for (String k : keys) {
            int colon = k.indexOf(':');
            types.add(k.substring(0, colon));
            values.add(clean(k.substring(colon + 1)));
        }
        // the join's settings are SET LOCAL: they need the transaction
        return jdbc.transactionNow(c -> {
            List<Sighting> out = new ArrayList<>();
            try (Statement s = c.createStatement(); PreparedStatement ps = c.prepareStatement(ObservationSql.SIGHTINGS)) {
                s.execute(ObservationSql.JOIN_SETTINGS);
                ps.setArray(1, c.createArrayOf("text", types.toArray()));
                ps.setArray(2, c.createArrayOf("text", values.toArray()));
                ps.setObject(3, since);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Sighting(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant(),
                                rs.getLong(8), rs.getString(9), rs.getString(10)));
                    }
                }
            }
            return out;
        });
    }

    /** The join's SQL, for EXPLAIN in the cost measurement. */
    public static String sightingsSql() {
        return ObservationSql.SIGHTINGS;
    }

    /** The join's session settings, for EXPLAIN in the cost measurement. */
    public static String joinSettingsSql() {
        return ObservationSql.JOIN_SETTINGS;
    }

    /** Hits already stored for these values (any origin). */
    public Set<StoredHit> hitsOfValuesNow(Collection<String> values) {
        if (values.isEmpty()) {
            return new HashSet<>();
        }
        return jdbc.now(c -> {
            Set<StoredHit> out = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement(ObservationSql.HITS_OF_VALUES)) {
                ps.setArray(1, c.createArrayOf("text", values.stream().map(ObservationStore::clean).toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new StoredHit(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)));
                    }
                }
            }
            return out;
        });
    }

    /** Where the look-back's last question to this MISP stopped; empty before the first. */
    public Future<Optional<Cursor>> cursor(String instance) {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(ObservationSql.CURSOR)) {
                ps.setString(1, instance);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Cursor(rs.getLong(1), rs.getLong(2))) : Optional.<Cursor>empty();
                }
            }
        });
    }

    public Future<Void> saveCursor(String instance, Cursor cursor) {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(ObservationSql.SAVE_CURSOR)) {
                ps.setString(1, instance);
                ps.setLong(2, cursor.attributeTimestamp());
                ps.setLong(3, cursor.publishTimestamp());
                ps.executeUpdate();
                return null;
            }
        });
    }

    /** One agent's sightings of a value, over the days kept. */
    public record AgentHistory(String manager, String agentId, String agentName, Instant firstSeen, Instant lastSeen,
                               long alerts, int days, String firstAlertId, String lastAlertId) {
    }

    /** What the index knows of a value of one type. */
    public record ValueHistory(String type, String value, Instant firstSeen, Instant lastSeen, long alerts,
                               List<AgentHistory> agents) {
    }

    /**
     * Blocking, on the caller's connection (a read-only one of the audit API): the value's totals for each of the
     * types and its agents (at most {@code agentLimit} per type, the most recent first).
     */
    public static List<ValueHistory> historyNow(Connection c, String value, List<String> types, int agentLimit)
            throws SQLException {
        Map<String, List<AgentHistory>> agents = new HashMap<>();
        Array typeArray = c.createArrayOf("text", types.toArray());
        try (PreparedStatement ps = c.prepareStatement(ObservationSql.AGENTS_OF_VALUE)) {
            ps.setString(1, clean(value));
            ps.setArray(2, typeArray);
            ps.setInt(3, agentLimit * types.size());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<AgentHistory> list = agents.computeIfAbsent(rs.getString(1), k -> new ArrayList<>());
                    if (list.size() < agentLimit) {
                        list.add(new AgentHistory(rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getTimestamp(5).toInstant(), rs.getTimestamp(6).toInstant(), rs.getLong(7), rs.getInt(8),
                                rs.getString(9), rs.getString(10)));
                    }
                }
            }
        }
        List<ValueHistory> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(ObservationSql.TOTALS_OF_VALUE)) {
            ps.setString(1, clean(value));
            ps.setArray(2, typeArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ValueHistory(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                            rs.getTimestamp(4).toInstant(), rs.getLong(5), agents.getOrDefault(rs.getString(1), List.of())));
                }
            }
        }
        return out;
    }

    /** Blocking: how many hits (any origin) name the value. */
    public static long hitCountNow(Connection c, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(ObservationSql.HIT_COUNT_OF_VALUE)) {
            ps.setString(1, clean(value));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Blocking: creates the partitions of the look-back window and the next days, drops older ones. */
    public List<String> maintainNow(int lookbackDays) {
        List<String> actions = jdbc.transactionNow(c -> {
            List<String> done = new ArrayList<>();
            try (Statement lock = c.createStatement()) {
                lock.execute(ObservationSql.MAINTAIN_LOCK);
            }
            try (PreparedStatement ps = c.prepareStatement(ObservationSql.MAINTAIN)) {
                ps.setInt(1, lookbackDays);
                ps.setInt(2, DAYS_AHEAD);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        done.add(rs.getString(1) + " " + rs.getString(2)
                                + (rs.getLong(3) > 0 ? " (" + rs.getLong(3) + " rows)" : ""));
                    }
                }
            }
            return done;
        });
        long created = actions.stream().filter(a -> a.startsWith("created")).count();
        if (created > 0) {
            LOG.info("Observation index: {} daily partition(s) created", created);
        }
        actions.stream().filter(a -> !a.startsWith("created")).forEach(a -> LOG.info("Observation index: {}", a));
        return actions;
    }

    public Future<List<String>> maintain(int lookbackDays) {
        return jdbc.blocking(() -> maintainNow(lookbackDays));
    }

    /** PostgreSQL text refuses NUL characters, which an alert may carry. */
    static String clean(String s) {
        return PostgresHitStore.clean(s);
    }
}
