package io.github.mispcorrelator.store;

import io.github.mispcorrelator.config.Version;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * This instance among the correlators sharing one PostgreSQL: a heartbeat row (what it holds, when it was last alive)
 * and the singletons — jobs one instance at a time must run (retention, each mirror's pulls from MISP). A singleton is
 * a lease row with an expiry on the database clock: the holder renews it every heartbeat, and once it stops (killed,
 * cut off) any other instance takes it at expiry. A holder that cannot renew stops believing it holds the lease
 * before the lease can expire, so two instances never both run a singleton. All SQL runs on the JDBC workers.
 */
public final class Cluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    static final String BEAT = """
            INSERT INTO cluster_instances (instance, version, started_at, heartbeat_at, holds)
            VALUES (?, ?, ?, now(), ?::jsonb)
            ON CONFLICT (instance) DO UPDATE SET version = EXCLUDED.version, started_at = EXCLUDED.started_at,
                                                 heartbeat_at = now(), holds = EXCLUDED.holds
            """;
    /** Takes a free or expired lease, or renews our own; returns a row only when we hold it afterwards. */
    static final String ACQUIRE = """
            INSERT INTO cluster_leases AS l (name, holder, acquired_at, expires_at)
            VALUES (?, ?, now(), now() + make_interval(secs => ?))
            ON CONFLICT (name) DO UPDATE
                SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
                    acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END
                WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
            RETURNING holder
            """;
    static final String RELEASE = "DELETE FROM cluster_leases WHERE holder = ?";
    /** Instances gone for a week leave the list (host names of replaced machines or containers pile up otherwise). */
    static final String FORGET = "DELETE FROM cluster_instances WHERE heartbeat_at < now() - interval '7 days'";
    static final String LEAVE = "DELETE FROM cluster_instances WHERE instance = ?";
    static final String INSTANCES = """
            SELECT instance, version, started_at, heartbeat_at, holds::text, heartbeat_at > now() - make_interval(secs => ?)
            FROM cluster_instances ORDER BY instance
            """;
    static final String LEASES = """
            SELECT name, holder, acquired_at, expires_at, expires_at > now() FROM cluster_leases ORDER BY name
            """;

    /** One singleton job: {@link #held()} says whether this instance may run it now. */
    public final class Singleton {
        private final String name;
        private volatile long validUntilNanos;
        private volatile Runnable onAcquired = () -> { };

        private Singleton(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        /** True while this instance holds the lease, with a margin so that it never outlives the lease's expiry. */
        public boolean held() {
            return !closed && System.nanoTime() - validUntilNanos < 0;
        }

        /** Called (on the event loop) when this instance takes the singleton over, to run its job without waiting. */
        public Singleton onAcquired(Runnable action) {
            this.onAcquired = action;
            return this;
        }
    }

    private final Vertx vertx;
    private final Jdbc jdbc;
    private final String instance;
    private final Duration heartbeat;
    private final Duration leaseTtl;
    private final Instant startedAt = Instant.now();
    private final Map<String, Singleton> singletons = new ConcurrentHashMap<>();
    private final Map<String, Supplier<Object>> holds = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private long timer = -1;

    public Cluster(Vertx vertx, DataSource dataSource, WorkerExecutor jdbc, String instance, Duration heartbeat,
                   Duration leaseTtl) {
        if (heartbeat.multipliedBy(2).compareTo(leaseTtl) >= 0) {
            throw new IllegalArgumentException("CORRELATOR_CLUSTER_LEASE_TTL (" + leaseTtl
                    + ") must be more than twice CORRELATOR_CLUSTER_HEARTBEAT (" + heartbeat + ")");
        }
        this.vertx = vertx;
        this.jdbc = new Jdbc(dataSource, jdbc);
        this.instance = instance;
        this.heartbeat = heartbeat;
        this.leaseTtl = leaseTtl;
    }

    public String instance() {
        return instance;
    }

    public Duration leaseTtl() {
        return leaseTtl;
    }

    /** The singleton of that name; register every one before {@link #start()} so the first beat decides them. */
    public Singleton singleton(String name) {
        return singletons.computeIfAbsent(name, Singleton::new);
    }

    /** Something this instance holds besides singletons (Kafka partitions, a tailed file), shown by /v1/cluster. */
    public void reportHolding(String what, Supplier<Object> value) {
        holds.put(what, value);
    }

    /** The first beat (register, take free singletons), then one every heartbeat. */
    public Future<Void> start() {
        return beat().onComplete(ar -> {
            if (!closed) {
                timer = vertx.setPeriodic(heartbeat.toMillis(), id -> beat());
            }
        });
    }

    private Future<Void> beat() {
        JsonObject held = new JsonObject();
        holds.forEach((k, v) -> {
            try {
                held.put(k, v.get());
            } catch (RuntimeException e) {
                held.put(k, "unknown: " + e.getMessage());
            }
        });
        return jdbc.run(c -> {
            List<Singleton> acquired = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(BEAT)) {
                ps.setString(1, instance);
                ps.setString(2, Version.CORRELATOR);
                ps.setTimestamp(3, Timestamp.from(startedAt));
                ps.setString(4, held.encode());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(FORGET)) {
                ps.executeUpdate();
            }
            for (Singleton s : singletons.values()) {
                // measured before the statement: the lease runs from a moment after this on the database clock
                long asked = System.nanoTime();
                boolean was = s.held();
                boolean mine;
                try (PreparedStatement ps = c.prepareStatement(ACQUIRE)) {
                    ps.setString(1, s.name);
                    ps.setString(2, instance);
                    ps.setDouble(3, leaseTtl.toMillis() / 1000.0);
                    try (ResultSet rs = ps.executeQuery()) {
                        mine = rs.next();
                    }
                }
                if (mine) {
                    // one heartbeat short of the expiry: a clock drift or a slow beat never makes two holders
                    s.validUntilNanos = asked + leaseTtl.minus(heartbeat).toNanos();
                    if (!was) {
                        acquired.add(s);
                    }
                } else {
                    s.validUntilNanos = asked;
                    if (was) {
                        LOG.warn("Singleton {} was taken over by another instance", s.name);
                    }
                }
            }
            return acquired;
        }).<Void>map(acquired -> {
            for (Singleton s : acquired) {
                LOG.info("Instance {} now runs singleton {}", instance, s.name);
                try {
                    s.onAcquired.run();
                } catch (RuntimeException e) {
                    LOG.warn("Singleton {}: starting its job failed: {}", s.name, e.getMessage());
                }
            }
            return null;
        }).onFailure(e -> LOG.warn("Cluster heartbeat of {} failed (singletons lapse at lease expiry): {}", instance,
                e.getMessage()));
    }

    /** GET /v1/cluster: the instances (alive or not), what each holds, the singletons' holders. */
    public Future<JsonObject> status() {
        return jdbc.run(c -> {
            JsonArray leases = new JsonArray();
            Map<String, JsonArray> byHolder = new HashMap<>();
            JsonArray instances = new JsonArray();
            try (PreparedStatement ps = c.prepareStatement(LEASES); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    boolean valid = rs.getBoolean(5);
                    leases.add(new JsonObject().put("name", rs.getString(1)).put("holder", rs.getString(2))
                            .put("acquired_at", rs.getTimestamp(3).toInstant().toString())
                            .put("expires_at", rs.getTimestamp(4).toInstant().toString()).put("valid", valid));
                    if (valid) {
                        byHolder.computeIfAbsent(rs.getString(2), k -> new JsonArray()).add(rs.getString(1));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(INSTANCES)) {
                ps.setDouble(1, leaseTtl.toMillis() / 1000.0);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String name = rs.getString(1);
                        instances.add(new JsonObject().put("instance", name).put("version", rs.getString(2))
                                .put("started_at", rs.getTimestamp(3).toInstant().toString())
                                .put("heartbeat_at", rs.getTimestamp(4).toInstant().toString())
                                .put("alive", rs.getBoolean(6))
                                .put("singletons", byHolder.getOrDefault(name, new JsonArray()))
                                .put("holds", new JsonObject(rs.getString(5))));
                    }
                }
            }
            return new JsonObject().put("instance", instance)
                    .put("heartbeat_seconds", heartbeat.toMillis() / 1000.0)
                    .put("lease_ttl_seconds", leaseTtl.toMillis() / 1000.0)
                    .put("instances", instances).put("singletons", leases);
        });
    }

    /** A clean stop hands the singletons over at once instead of at expiry, and leaves the list of instances. */
    @Override
    public void close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        try {
            jdbc.now(c -> {
                try (PreparedStatement release = c.prepareStatement(RELEASE);
                     PreparedStatement leave = c.prepareStatement(LEAVE)) {
                    release.setString(1, instance);
                    release.executeUpdate();
                    leave.setString(1, instance);
                    leave.executeUpdate();
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warn("Instance {} could not release its singletons (they lapse at expiry): {}", instance, e.getMessage());
        }
    }
}
