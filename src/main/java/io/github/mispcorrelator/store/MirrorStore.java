package io.github.mispcorrelator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The local MISP mirror's copy in PostgreSQL (tables of {@code migrations/V3_2__misp_mirror.sql}): the attributes
 * of each instance, and how far its mirror has synchronised. Read once at start-up, written as pages arrive; every
 * call runs on the JDBC worker executor, never on an event loop. All of its SQL is here.
 */
public final class MirrorStore {

    /**
     * How far one instance's mirror got.
     *
     * @param filters         the pull filters the rows were pulled with
     * @param cursor          incremental pulls ask for attributes whose timestamp is at least this (epoch seconds)
     * @param lastSyncStarted when the last successful pull started, or null
     * @param lastSync        when the last successful pull (full or incremental) ended, or null
     * @param lastFullSync    when the last full pull ended, or null when none ever completed
     */
    public record State(String filters, long cursor, Instant lastSyncStarted, Instant lastSync, Instant lastFullSync,
                        long attributes) {
    }

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
            FROM misp_mirror_attributes WHERE instance = ?
            """;
    /** One statement per page: the page's columns as arrays, unnested. */
    static final String UPSERT = """
            INSERT INTO misp_mirror_attributes (instance, uuid, id, event_id, event_uuid, event_info, type, category,
                                                value, to_ids, threat_level, tags, attribute_timestamp)
            SELECT ?, u.uuid, u.id, u.event_id, u.event_uuid, u.event_info, u.type, u.category, u.value, u.to_ids,
                   u.threat_level, u.tags::jsonb, u.ts
            FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::boolean[], ?::smallint[], ?::text[], ?::bigint[])
                 AS u(uuid, id, event_id, event_uuid, event_info, type, category, value, to_ids, threat_level, tags, ts)
            ON CONFLICT (instance, uuid) DO UPDATE SET id = EXCLUDED.id, event_id = EXCLUDED.event_id,
                event_uuid = EXCLUDED.event_uuid, event_info = EXCLUDED.event_info, type = EXCLUDED.type,
                category = EXCLUDED.category, value = EXCLUDED.value, to_ids = EXCLUDED.to_ids,
                threat_level = EXCLUDED.threat_level, tags = EXCLUDED.tags,
                attribute_timestamp = EXCLUDED.attribute_timestamp
            """;
    static final String DELETE = "DELETE FROM misp_mirror_attributes WHERE instance = ? AND uuid = ANY (?::text[])";
    static final String CLEAR = "DELETE FROM misp_mirror_attributes WHERE instance = ?";
    static final String CLEAR_STATE = "DELETE FROM misp_mirror_state WHERE instance = ?";

    private static final int FETCH_SIZE = 10_000;
    private static final int DELETE_CHUNK = 10_000;
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

    private final Jdbc jdbc;

    public MirrorStore(DataSource dataSource, WorkerExecutor jdbc) {
        this.jdbc = new Jdbc(dataSource, jdbc);
    }

    public Future<Optional<State>> state(String instance) {
        return jdbc.run("read the mirror state", c -> {
            try (PreparedStatement ps = c.prepareStatement(LOAD_STATE)) {
                ps.setString(1, instance);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<State>empty();
                    }
                    return Optional.of(new State(rs.getString(1), rs.getLong(2), instant(rs.getTimestamp(3)),
                            instant(rs.getTimestamp(4)), instant(rs.getTimestamp(5)), rs.getLong(6)));
                }
            }
        });
    }

    public Future<Void> saveState(String instance, State state) {
        return jdbc.run("save the mirror state", c -> {
            try (PreparedStatement ps = c.prepareStatement(SAVE_STATE)) {
                ps.setString(1, instance);
                ps.setString(2, state.filters());
                ps.setLong(3, state.cursor());
                ps.setTimestamp(4, timestamp(state.lastSyncStarted()));
                ps.setTimestamp(5, timestamp(state.lastSync()));
                ps.setTimestamp(6, timestamp(state.lastFullSync()));
                ps.setLong(7, state.attributes());
                ps.executeUpdate();
                return null;
            }
        });
    }

    /**
     * Streams every stored attribute of an instance to {@code sink}, on the JDBC worker thread, without holding the
     * whole result in the driver.
     *
     * @return how many were read
     */
    public Future<Long> load(String instance, Consumer<MispAttribute> sink) {
        // the driver fetches FETCH_SIZE rows at a time only inside a transaction
        return jdbc.readOnly(Connection.TRANSACTION_READ_COMMITTED, "load the mirror", c -> {
            long n = 0;
            try (PreparedStatement ps = c.prepareStatement(LOAD)) {
                ps.setFetchSize(FETCH_SIZE);
                ps.setString(1, instance);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        sink.accept(new MispAttribute(rs.getString(2), rs.getString(1), rs.getString(3),
                                rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7),
                                rs.getString(8), rs.getBoolean(9), rs.getInt(10), tags(rs.getString(11)),
                                rs.getLong(12), instance));
                        n++;
                    }
                }
            }
            return n;
        });
    }

    /** Inserts or replaces attributes (one statement); their uuids must be distinct. */
    public Future<Void> upsert(String instance, Collection<MispAttribute> attributes) {
        if (attributes.isEmpty()) {
            return Future.succeededFuture();
        }
        return jdbc.run("store mirrored attributes", c -> {
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
                i++;
            }
            try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                ps.setString(1, instance);
                Array[] arrays = {
                        c.createArrayOf("text", uuid), c.createArrayOf("text", id), c.createArrayOf("text", eventId),
                        c.createArrayOf("text", eventUuid), c.createArrayOf("text", eventInfo),
                        c.createArrayOf("text", type), c.createArrayOf("text", category), c.createArrayOf("text", value),
                        c.createArrayOf("bool", toIds), c.createArrayOf("int2", threatLevel),
                        c.createArrayOf("text", tags), c.createArrayOf("int8", ts)};
                for (int k = 0; k < arrays.length; k++) {
                    ps.setArray(k + 2, arrays[k]);
                }
                ps.executeUpdate();
                return null;
            }
        });
    }

    /** Removes attributes by uuid (those a full pull no longer returned). */
    public Future<Void> delete(String instance, Collection<String> uuids) {
        if (uuids.isEmpty()) {
            return Future.succeededFuture();
        }
        String[] all = uuids.toArray(String[]::new);
        return jdbc.run("delete mirrored attributes", c -> {
            try (PreparedStatement ps = c.prepareStatement(DELETE)) {
                for (int from = 0; from < all.length; from += DELETE_CHUNK) {
                    String[] chunk = Arrays.copyOfRange(all, from, Math.min(all.length, from + DELETE_CHUNK));
                    ps.setString(1, instance);
                    ps.setArray(2, c.createArrayOf("text", chunk));
                    ps.executeUpdate();
                }
                return null;
            }
        });
    }

    /** Forgets an instance's mirror (its attributes and state), e.g. when the pull filters changed. */
    public Future<Void> clear(String instance) {
        return jdbc.transaction("clear the mirror", c -> {
            try (PreparedStatement rows = c.prepareStatement(CLEAR); PreparedStatement state = c.prepareStatement(CLEAR_STATE)) {
                rows.setString(1, instance);
                rows.executeUpdate();
                state.setString(1, instance);
                state.executeUpdate();
            }
            return null;
        });
    }

    private static String tagsJson(List<String> tags) {
        try {
            return AlertParser.MAPPER.writeValueAsString(tags.stream().map(PostgresHitStore::clean).toList());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> tags(String json) {
        if (json == null || json.equals("[]")) {
            return List.of();
        }
        try {
            return List.copyOf(AlertParser.MAPPER.readValue(json, STRINGS));
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
}
