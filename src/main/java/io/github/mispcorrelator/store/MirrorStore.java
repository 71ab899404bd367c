package io.github.mispcorrelator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.mirror.MirrorKeys;
import io.github.mispcorrelator.misp.mirror.MirrorRepository;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The local MISP mirror's copy in PostgreSQL (tables of {@code migrations/V3_2__misp_mirror.sql} and
 * {@code V10_1__misp_mirror_changes.sql}): the attributes of each instance, how far its mirror has synchronised, and
 * the change sequence the instances that do not pull follow it by. Written by the one instance that pulls, as pages
 * arrive; read by every instance at start-up and then as it changes. Every call runs on the JDBC worker executor,
 * never on an event loop; the notification listener has a thread of its own. All of its SQL is here.
 */
public final class MirrorStore implements MirrorRepository {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorStore.class);

    static final String LOAD_STATE = """
            SELECT filters, attribute_cursor, last_sync_started, last_sync, last_full_sync, attributes
            FROM misp_mirror_state WHERE instance = ?
            """;
    static final String SAVE_STATE = """
            INSERT INTO misp_mirror_state (instance, filters, attribute_cursor, last_sync_started, last_sync,
                                           last_full_sync, attributes, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, now())
            ON CONFLICT (instance) DO UPDATE SET filters = EXCLUDED.filters,
                                                 attribute_cursor = EXCLUDED.attribute_cursor,
                                                 last_sync_started = EXCLUDED.last_sync_started,
                                                 last_sync = EXCLUDED.last_sync,
                                                 last_full_sync = EXCLUDED.last_full_sync,
                                                 attributes = EXCLUDED.attributes,
                                                 updated_at = now()
            """;
    static final String LOAD = """
            SELECT uuid, id, event_id, event_uuid, event_info, type, category, value, to_ids, threat_level, tags::text,
                   attribute_timestamp
            FROM misp_mirror_attributes WHERE instance = ? AND change_seq > ?
            """;
    /** A lookup's hits, read by primary key. */
    static final String BY_UUID = """
            SELECT uuid, id, event_id, event_uuid, event_info, type, category, value, to_ids, threat_level, tags::text,
                   attribute_timestamp
            FROM misp_mirror_attributes WHERE instance = ? AND uuid = ANY (?::text[])
            """;
    /** A reload's rows that carry current digests: what the compact index needs, no value. */
    static final String LOAD_DIGESTS = """
            SELECT uuid, fingerprint, key1, key2
            FROM misp_mirror_attributes WHERE instance = ? AND change_seq > ? AND key_version = ?
            """;
    /** A reload's other rows, whole. */
    static final String LOAD_UNDIGESTED = """
            SELECT uuid, id, event_id, event_uuid, event_info, type, category, value, to_ids, threat_level, tags::text,
                   attribute_timestamp
            FROM misp_mirror_attributes WHERE instance = ? AND change_seq > ? AND key_version IS DISTINCT FROM ?
            """;
    /** Digests of rows read whole, for those not written again since (same content: no change number). */
    static final String STORE_DIGESTS = """
            UPDATE misp_mirror_attributes m SET fingerprint = u.fp, key1 = u.k1, key2 = u.k2, key_version = u.v
            FROM unnest(?::text[], ?::int8[], ?::int8[], ?::int8[], ?::int8[]) AS u(uuid, fp, k1, k2, v)
            WHERE m.instance = ? AND m.uuid = u.uuid AND m.change_seq <= ?
                  AND m.key_version IS DISTINCT FROM u.v
            """;
    /** The next number of an instance's change sequence; the row stays locked until commit (writes in order). */
    static final String BUMP = """
            INSERT INTO misp_mirror_changes AS m (instance, change_seq, changed_at) VALUES (?, 1, now())
            ON CONFLICT (instance) DO UPDATE SET change_seq = m.change_seq + 1, changed_at = now()
            RETURNING change_seq
            """;
    /** A wake-up for the followers, sent at commit (the payload is the MISP instance). */
    static final String NOTIFY = "SELECT pg_notify('misp_mirror', ?)";
    static final String CHANNEL = "misp_mirror";
    /** Where a reader stands, in its snapshot; the lag is measured on the database clock. */
    static final String CHANGES = """
            SELECT change_seq, reset_seq, (extract(epoch FROM clock_timestamp() - changed_at) * 1000)::bigint
            FROM misp_mirror_changes WHERE instance = ?
            """;
    static final String REMOVED_SINCE = "SELECT uuid FROM misp_mirror_removed WHERE instance = ? AND change_seq > ?";
    /** A removal kept for followers; an attribute stored again is no longer removed. */
    static final String REMOVED = """
            INSERT INTO misp_mirror_removed (instance, uuid, change_seq, removed_at)
            SELECT ?, u, ?, now() FROM unnest(?::text[]) AS u
            ON CONFLICT (instance, uuid) DO UPDATE SET change_seq = EXCLUDED.change_seq, removed_at = now()
            """;
    static final String UNREMOVED = "DELETE FROM misp_mirror_removed WHERE instance = ? AND uuid = ANY (?::text[])";
    /** Removals older than {@link #KEEP_REMOVALS}: followers that far behind reload (reset_seq). */
    static final String PRUNE_REMOVED = """
            WITH pruned AS (
                DELETE FROM misp_mirror_removed WHERE instance = ? AND removed_at < now() - make_interval(secs => ?)
                RETURNING change_seq)
            UPDATE misp_mirror_changes SET reset_seq = greatest(reset_seq, (SELECT max(change_seq) FROM pruned))
            WHERE instance = ? AND EXISTS (SELECT 1 FROM pruned)
            """;
    static final String CLEAR_REMOVED = "DELETE FROM misp_mirror_removed WHERE instance = ?";
    static final String RESET = "UPDATE misp_mirror_changes SET reset_seq = change_seq WHERE instance = ?";
    /** One statement per page: the page's columns as arrays, unnested. */
    static final String UPSERT = """
            INSERT INTO misp_mirror_attributes (instance, change_seq, uuid, id, event_id, event_uuid, event_info, type,
                                                category, value, to_ids, threat_level, tags, attribute_timestamp,
                                                fingerprint, key1, key2, key_version)
            SELECT ?, ?, u.uuid, u.id, u.event_id, u.event_uuid, u.event_info, u.type, u.category, u.value, u.to_ids,
                   u.threat_level, u.tags::jsonb, u.ts, u.fp, u.k1, u.k2, u.v
            FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::boolean[], ?::smallint[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[],
                        ?::bigint[])
                 AS u(uuid, id, event_id, event_uuid, event_info, type, category, value, to_ids, threat_level, tags, ts,
                      fp, k1, k2, v)
            ON CONFLICT (instance, uuid) DO UPDATE SET id = EXCLUDED.id, event_id = EXCLUDED.event_id,
                event_uuid = EXCLUDED.event_uuid, event_info = EXCLUDED.event_info, type = EXCLUDED.type,
                category = EXCLUDED.category, value = EXCLUDED.value, to_ids = EXCLUDED.to_ids,
                threat_level = EXCLUDED.threat_level, tags = EXCLUDED.tags,
                attribute_timestamp = EXCLUDED.attribute_timestamp, change_seq = EXCLUDED.change_seq,
                fingerprint = EXCLUDED.fingerprint, key1 = EXCLUDED.key1, key2 = EXCLUDED.key2,
                key_version = EXCLUDED.key_version
            """;
    static final String DELETE = "DELETE FROM misp_mirror_attributes WHERE instance = ? AND uuid = ANY (?::text[])";
    static final String CLEAR = "DELETE FROM misp_mirror_attributes WHERE instance = ?";
    static final String CLEAR_STATE = "DELETE FROM misp_mirror_state WHERE instance = ?";

    private static final int FETCH_SIZE = 10_000;
    private static final int DELETE_CHUNK = 10_000;
    /** How long removals are kept for followers (one that was away longer reloads the whole copy). */
    static final Duration KEEP_REMOVALS = Duration.ofDays(1);
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

    private final DataSource dataSource;
    private final WorkerExecutor jdbc;
    private final Callable<Connection> listenConnection;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private Thread listener;

    /** Listens on a connection of {@code dataSource} (tests); the service gives a connection of its own. */
    public MirrorStore(DataSource dataSource, WorkerExecutor jdbc) {
        this(dataSource, jdbc, dataSource::getConnection);
    }

    /** @param listenConnection opens the connection LISTEN holds (outside the pool, whose size the workers match) */
    public MirrorStore(DataSource dataSource, WorkerExecutor jdbc, Callable<Connection> listenConnection) {
        this.dataSource = dataSource;
        this.jdbc = jdbc;
        this.listenConnection = listenConnection;
    }

    @Override
    public Future<Optional<State>> state(String instance) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection()) {
                return state(c, instance);
            } catch (SQLException e) {
                throw failure("read the mirror state", e);
            }
        }, false);
    }

    @Override
    public Future<Map<String, MispAttribute>> attributes(String instance, Collection<String> uuids) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(BY_UUID)) {
                ps.setString(1, instance);
                Array array = c.createArrayOf("text", uuids.toArray());
                ps.setArray(2, array);
                Map<String, MispAttribute> out = new HashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        MispAttribute a = attribute(rs, instance);
                        out.put(a.uuid(), a);
                    }
                } finally {
                    array.free();
                }
                return out;
            } catch (SQLException e) {
                throw failure("read the mirror's attributes", e);
            }
        }, false);
    }

    /** A row of {@link #LOAD} or {@link #BY_UUID}. */
    private static MispAttribute attribute(ResultSet rs, String instance) throws SQLException {
        return new MispAttribute(rs.getString(2), rs.getString(1), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getString(7), rs.getString(8), rs.getBoolean(9), rs.getInt(10),
                tags(rs.getString(11)), rs.getLong(12), instance);
    }

    private static Optional<State> state(Connection c, String instance) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(LOAD_STATE)) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new State(rs.getString(1), rs.getLong(2), instant(rs.getTimestamp(3)),
                        instant(rs.getTimestamp(4)), instant(rs.getTimestamp(5)), rs.getLong(6)));
            }
        }
    }

    /** Saves the state; removals older than {@link #KEEP_REMOVALS} go with it (followers that far behind reload). */
    @Override
    public Future<Void> saveState(String instance, State state) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection()) {
                inTransaction(c, () -> {
                    try (PreparedStatement ps = c.prepareStatement(SAVE_STATE)) {
                        ps.setString(1, instance);
                        ps.setString(2, state.filters());
                        ps.setLong(3, state.cursor());
                        ps.setTimestamp(4, timestamp(state.lastSyncStarted()));
                        ps.setTimestamp(5, timestamp(state.lastSync()));
                        ps.setTimestamp(6, timestamp(state.lastFullSync()));
                        ps.setLong(7, state.attributes());
                        ps.executeUpdate();
                    }
                    try (PreparedStatement ps = c.prepareStatement(PRUNE_REMOVED)) {
                        ps.setString(1, instance);
                        ps.setDouble(2, KEEP_REMOVALS.toSeconds());
                        ps.setString(3, instance);
                        ps.executeUpdate();
                    }
                    // followers show the pull's time and cursor without waiting for their next poll
                    notify(c, instance);
                    return null;
                });
                return null;
            } catch (SQLException e) {
                throw failure("save the mirror state", e);
            }
        }, false);
    }

    /**
     * Reads, in one snapshot, the change sequence, what was written after {@code after} (everything when the reader
     * is behind a clear or the removals kept), and the state. The rows are fetched {@code FETCH_SIZE} at a time.
     */
    @Override
    public Future<Changes> changes(String instance, long after, DigestSink digests) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection()) {
                boolean autoCommit = c.getAutoCommit();
                int isolation = c.getTransactionIsolation();
                // one snapshot for the sequence and the rows; the driver fetches in chunks only inside a transaction
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                try {
                    long seq = 0;
                    long reset = 0;
                    long lagMs = -1;
                    try (PreparedStatement ps = c.prepareStatement(CHANGES)) {
                        ps.setString(1, instance);
                        try (ResultSet rs = ps.executeQuery()) {
                            if (rs.next()) {
                                seq = rs.getLong(1);
                                reset = rs.getLong(2);
                                lagMs = rs.getLong(3);
                            }
                        }
                    }
                    Optional<State> state = state(c, instance);
                    boolean reload = after < 0 || after < reset || after > seq;
                    if (!reload && after == seq) {
                        return new Changes(seq, false, List.of(), List.of(), state, -1);
                    }
                    long from = reload ? -1 : after;
                    List<MispAttribute> upserted = new ArrayList<>();
                    boolean byDigests = reload && digests != null;
                    if (byDigests) {
                        try (PreparedStatement ps = c.prepareStatement(LOAD_DIGESTS)) {
                            ps.setFetchSize(FETCH_SIZE);
                            ps.setString(1, instance);
                            ps.setLong(2, from);
                            ps.setLong(3, MirrorKeys.VERSION);
                            try (ResultSet rs = ps.executeQuery()) {
                                while (rs.next()) {
                                    digests.row(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
                                }
                            }
                        }
                    }
                    try (PreparedStatement ps = c.prepareStatement(byDigests ? LOAD_UNDIGESTED : LOAD)) {
                        ps.setFetchSize(FETCH_SIZE);
                        ps.setString(1, instance);
                        ps.setLong(2, from);
                        if (byDigests) {
                            ps.setLong(3, MirrorKeys.VERSION);
                        }
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                upserted.add(attribute(rs, instance));
                            }
                        }
                    }
                    List<String> removed = new ArrayList<>();
                    if (!reload) {
                        try (PreparedStatement ps = c.prepareStatement(REMOVED_SINCE)) {
                            ps.setString(1, instance);
                            ps.setLong(2, from);
                            try (ResultSet rs = ps.executeQuery()) {
                                while (rs.next()) {
                                    removed.add(rs.getString(1));
                                }
                            }
                        }
                    }
                    return new Changes(seq, reload, upserted, removed, state, lagMs);
                } finally {
                    c.rollback();
                    c.setTransactionIsolation(isolation);
                    c.setAutoCommit(autoCommit);
                }
            } catch (SQLException e) {
                throw failure("read the mirror's changes", e);
            }
        }, false);
    }

    @Override
    public Future<Void> storeDigests(String instance, long seq, Collection<MispAttribute> attributes) {
        if (attributes.isEmpty()) {
            return Future.succeededFuture();
        }
        return jdbc.executeBlocking(() -> {
            List<String> uuid = new ArrayList<>();
            List<Long> fp = new ArrayList<>();
            List<Long> k1 = new ArrayList<>();
            List<Long> k2 = new ArrayList<>();
            List<Long> version = new ArrayList<>();
            for (MispAttribute a : attributes) {
                MirrorKeys.Stored keys = MirrorKeys.of(a);
                if (keys.version() != 0) {
                    uuid.add(a.uuid());
                    fp.add(keys.fingerprint());
                    k1.add(keys.key1());
                    k2.add(keys.key2());
                    version.add(keys.version());
                }
            }
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(STORE_DIGESTS)) {
                for (int from = 0; from < uuid.size(); from += DELETE_CHUNK) {
                    int to = Math.min(uuid.size(), from + DELETE_CHUNK);
                    ps.setArray(1, c.createArrayOf("text", uuid.subList(from, to).toArray()));
                    ps.setArray(2, c.createArrayOf("int8", fp.subList(from, to).toArray()));
                    ps.setArray(3, c.createArrayOf("int8", k1.subList(from, to).toArray()));
                    ps.setArray(4, c.createArrayOf("int8", k2.subList(from, to).toArray()));
                    ps.setArray(5, c.createArrayOf("int8", version.subList(from, to).toArray()));
                    ps.setString(6, instance);
                    ps.setLong(7, seq);
                    ps.executeUpdate();
                }
                return (Void) null;
            } catch (SQLException e) {
                throw failure("store the mirror's digests", e);
            }
        }, false);
    }

    /** Inserts or replaces attributes (one statement) under a new change number; their uuids must be distinct. */
    @Override
    public Future<Long> upsert(String instance, Collection<MispAttribute> attributes) {
        if (attributes.isEmpty()) {
            return Future.succeededFuture(-1L);
        }
        return jdbc.executeBlocking(() -> {
            int n = attributes.size();
            String[] uuid = new String[n];
            String[] id = new String[n];
            String[] eventId = new String[n];
            String[] eventUuid = new String[n];
            String[] eventInfo = new String[n];
            String[] type = new String[n];
            String[] category = new String[n];
            String[] value = new String[n];
            Boolean[] toIds = new Boolean[n];
            Short[] threatLevel = new Short[n];
            String[] tags = new String[n];
            Long[] ts = new Long[n];
            Long[] fp = new Long[n];
            Long[] k1 = new Long[n];
            Long[] k2 = new Long[n];
            Long[] version = new Long[n];
            int i = 0;
            for (MispAttribute a : attributes) {
                uuid[i] = PostgresHitStore.clean(a.uuid());
                id[i] = PostgresHitStore.clean(a.id());
                eventId[i] = PostgresHitStore.clean(a.eventId());
                eventUuid[i] = PostgresHitStore.clean(a.eventUuid());
                eventInfo[i] = PostgresHitStore.clean(a.eventInfo());
                type[i] = PostgresHitStore.clean(a.type());
                category[i] = PostgresHitStore.clean(a.category());
                value[i] = PostgresHitStore.clean(a.value());
                toIds[i] = a.toIds();
                threatLevel[i] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, a.threatLevel()));
                tags[i] = tagsJson(a.tags());
                ts[i] = a.timestamp();
                MirrorKeys.Stored keys = MirrorKeys.of(a);
                fp[i] = keys.fingerprint();
                k1[i] = keys.key1();
                k2[i] = keys.key2();
                version[i] = keys.version() == 0 ? null : keys.version();
                i++;
            }
            try (Connection c = dataSource.getConnection()) {
                return inTransaction(c, () -> {
                    long seq = bump(c, instance);
                    try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                        ps.setString(1, instance);
                        ps.setLong(2, seq);
                        Array[] arrays = {
                                c.createArrayOf("text", uuid), c.createArrayOf("text", id), c.createArrayOf("text", eventId),
                                c.createArrayOf("text", eventUuid), c.createArrayOf("text", eventInfo),
                                c.createArrayOf("text", type), c.createArrayOf("text", category), c.createArrayOf("text", value),
                                c.createArrayOf("bool", toIds), c.createArrayOf("int2", threatLevel),
                                c.createArrayOf("text", tags), c.createArrayOf("int8", ts), c.createArrayOf("int8", fp),
                                c.createArrayOf("int8", k1), c.createArrayOf("int8", k2), c.createArrayOf("int8", version)};
                        for (int k = 0; k < arrays.length; k++) {
                            ps.setArray(k + 3, arrays[k]);
                        }
                        ps.executeUpdate();
                    }
                    try (PreparedStatement ps = c.prepareStatement(UNREMOVED)) {
                        ps.setString(1, instance);
                        ps.setArray(2, c.createArrayOf("text", uuid));
                        ps.executeUpdate();
                    }
                    notify(c, instance);
                    return seq;
                });
            } catch (SQLException e) {
                throw failure("store mirrored attributes", e);
            }
        }, false);
    }

    /** Removes attributes by uuid (no longer qualifying, or gone from MISP) under a new change number. */
    @Override
    public Future<Long> delete(String instance, Collection<String> uuids) {
        if (uuids.isEmpty()) {
            return Future.succeededFuture(-1L);
        }
        return jdbc.executeBlocking(() -> {
            String[] all = uuids.stream().map(PostgresHitStore::clean).toArray(String[]::new);
            try (Connection c = dataSource.getConnection()) {
                return inTransaction(c, () -> {
                    long seq = bump(c, instance);
                    try (PreparedStatement delete = c.prepareStatement(DELETE);
                         PreparedStatement removed = c.prepareStatement(REMOVED)) {
                        for (int from = 0; from < all.length; from += DELETE_CHUNK) {
                            String[] chunk = Arrays.copyOfRange(all, from, Math.min(all.length, from + DELETE_CHUNK));
                            delete.setString(1, instance);
                            delete.setArray(2, c.createArrayOf("text", chunk));
                            delete.executeUpdate();
                            removed.setString(1, instance);
                            removed.setLong(2, seq);
                            removed.setArray(3, c.createArrayOf("text", chunk));
                            removed.executeUpdate();
                        }
                    }
                    notify(c, instance);
                    return seq;
                });
            } catch (SQLException e) {
                throw failure("delete mirrored attributes", e);
            }
        }, false);
    }

    /** Forgets an instance's mirror (its attributes and state); followers reload (reset_seq). */
    @Override
    public Future<Long> clear(String instance) {
        return jdbc.executeBlocking(() -> {
            try (Connection c = dataSource.getConnection()) {
                return inTransaction(c, () -> {
                    long seq = bump(c, instance);
                    for (String sql : List.of(CLEAR, CLEAR_STATE, CLEAR_REMOVED, RESET)) {
                        try (PreparedStatement ps = c.prepareStatement(sql)) {
                            ps.setString(1, instance);
                            ps.executeUpdate();
                        }
                    }
                    notify(c, instance);
                    return seq;
                });
            } catch (SQLException e) {
                throw failure("clear the mirror", e);
            }
        }, false);
    }

    /**
     * Calls {@code wakeUp} when another connection committed a mirror write ({@code LISTEN misp_mirror}), and after
     * each reconnection (what was sent meanwhile is lost). One listening connection and thread for all callers.
     */
    @Override
    public synchronized AutoCloseable listen(Consumer<String> wakeUp) {
        listeners.add(wakeUp);
        if (listener == null) {
            listener = new Thread(this::listenLoop, "misp-mirror-listen");
            listener.setDaemon(true);
            listener.start();
        }
        return () -> {
            synchronized (MirrorStore.this) {
                listeners.remove(wakeUp);
                if (listeners.isEmpty() && listener != null) {
                    listener.interrupt();
                    listener = null;
                }
            }
        };
    }

    private void listenLoop() {
        Thread self = Thread.currentThread();
        while (!self.isInterrupted()) {
            try (Connection c = listenConnection.call(); Statement s = c.createStatement()) {
                s.execute("LISTEN " + CHANNEL);
                PGConnection pg = c.unwrap(PGConnection.class);
                // notifications sent while we were not listening are lost: whoever follows checks now
                wake(null);
                while (!self.isInterrupted()) {
                    PGNotification[] got = pg.getNotifications(1_000);
                    if (got != null) {
                        // one wake-up per MISP instance, however many pages were committed meanwhile
                        Arrays.stream(got).map(PGNotification::getParameter).distinct().forEach(this::wake);
                    }
                }
            } catch (Exception e) {
                if (self.isInterrupted()) {
                    break;
                }
                LOG.debug("Mirror change listener: {}; again in 5 s (followers poll meanwhile)", e.getMessage());
                try {
                    Thread.sleep(5_000);
                } catch (InterruptedException stop) {
                    break;
                }
            }
        }
    }

    private void wake(String instance) {
        for (Consumer<String> l : listeners) {
            try {
                l.accept(instance);
            } catch (RuntimeException e) {
                LOG.warn("Mirror change listener failed: {}", e.getMessage());
            }
        }
    }

    private static long bump(Connection c, String instance) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(BUMP)) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void notify(Connection c, String instance) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NOTIFY)) {
            ps.setString(1, instance);
            ps.execute();
        }
    }

    private interface Work<T> {
        T run() throws SQLException;
    }

    private static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run();
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private static String tagsJson(List<String> tags) {
        try {
            return Json.MAPPER.writeValueAsString(tags.stream().map(PostgresHitStore::clean).toList());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> tags(String json) {
        if (json == null || json.equals("[]")) {
            return List.of();
        }
        try {
            return List.copyOf(Json.MAPPER.readValue(json, STRINGS));
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static Timestamp timestamp(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }

    private static RuntimeException failure(String what, SQLException e) {
        return Jdbc.translate(what, e);
    }
}
