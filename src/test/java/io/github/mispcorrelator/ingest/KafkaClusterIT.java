package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.support.CorrelatorProcess;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.KafkaBroker;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three correlators, each its own JVM, in one consumer group on one PostgreSQL, against a real broker: A and B share
 * the alerts, A is killed with SIGKILL mid-stream (no commit, no goodbye), C joins later. Afterwards every planted hit
 * is in {@code hits} exactly once, every one reached the events topic at least once, and the group's committed
 * offsets cover every record. Sized for a 2-core machine: {@link #ALERTS} records.
 */
class KafkaClusterIT {
    /** Records in all (two halves: before the kill, after C joined); every second alert has one planted hit. */
    static final int ALERTS = Integer.getInteger("kafka.cluster.alerts", 20_000);
    static final int PARTITIONS = 6;

    @Test
    void killedInstanceLosesNothingAndAddsNoDuplicate() throws Exception {
        Path dir = Fixtures.workDir("kafka-cluster");
        String run = "c" + System.nanoTime();
        String alerts = run + "-alerts";
        String events = run + "-events";
        try (KafkaBroker broker = KafkaBroker.start(dir.resolve("broker")); Admin admin = broker.admin()) {
            broker.createTopic(alerts, PARTITIONS);
            broker.createTopic(events, 3);
            broker.createTopic(run + "-dlq", 1);
            Path props = dir.resolve("kafka.properties");
            // a killed member is noticed after session.timeout.ms: short here, the client's default is 45 s
            Files.writeString(props, "session.timeout.ms=6000\nheartbeat.interval.ms=1000\n");
            Map<String, String> env = new HashMap<>(TestDatabase.env());
            env.put("CORRELATOR_KAFKA_BOOTSTRAP", broker.bootstrap());
            env.put("CORRELATOR_KAFKA_TOPICS", alerts);
            env.put("CORRELATOR_KAFKA_GROUP", run);
            env.put("CORRELATOR_KAFKA_EVENTS_TOPIC", events);
            env.put("CORRELATOR_KAFKA_DEAD_LETTER_TOPIC", run + "-dlq");
            env.put("CORRELATOR_KAFKA_PROPERTIES_FILE", props.toString());
            env.put("CORRELATOR_CLUSTER_HEARTBEAT", "1s");
            env.put("CORRELATOR_CLUSTER_LEASE_TTL", "4s");
            int half = ALERTS / 2;
            long planted = ALERTS / 2;
            try (KafkaProducer<byte[], byte[]> p = KafkaAlerts.producer(broker.bootstrap())) {
                produce(p, alerts, run, 0, half);
                long t0 = System.nanoTime();
                CorrelatorProcess a = CorrelatorProcess.start(run + "-a", env, dir);
                CorrelatorProcess b = CorrelatorProcess.start(run + "-b", env, dir);
                CorrelatorProcess c = null;
                try {
                    a.awaitReady(Duration.ofSeconds(180));
                    b.awaitReady(Duration.ofSeconds(180));
                    System.out.printf("KafkaClusterIT: A and B ready after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                    // mid-stream: A has stored some of its share, and has more in flight
                    KafkaAlerts.await("A storing hits", Duration.ofSeconds(120),
                            () -> count("SELECT count(*) FROM hits WHERE correlator_instance = '" + a.instance() + "'") >= planted / 20,
                            w -> System.out.println(a.logTail()));
                    long storedAtKill = hits(run);
                    a.kill();
                    long killed = System.nanoTime();
                    System.out.printf("KafkaClusterIT: A killed (SIGKILL) with %d of %d hits stored in all%n", storedAtKill, planted);
                    // B takes A's partitions once the group notices (session timeout) and rebalances
                    KafkaAlerts.await("B holding every partition", Duration.ofSeconds(60),
                            () -> partitions(b).size() == PARTITIONS, w -> System.out.println(b.logTail()));
                    long takeOverMs = (System.nanoTime() - killed) / 1_000_000;
                    System.out.printf("KafkaClusterIT: B holds all %d partitions %d ms after the kill%n", PARTITIONS, takeOverMs);

                    c = CorrelatorProcess.start(run + "-c", env, dir).awaitReady(Duration.ofSeconds(180));
                    CorrelatorProcess cc = c;
                    KafkaAlerts.await("C getting partitions", Duration.ofSeconds(60), () -> !partitions(cc).isEmpty(),
                            w -> System.out.println(cc.logTail()));
                    produce(p, alerts, run, half, ALERTS);
                    long drainStart = System.nanoTime();
                    KafkaAlerts.await("every record committed and every hit stored", Duration.ofSeconds(240),
                            () -> KafkaAlerts.uncommitted(admin, run, alerts) == 0 && hits(run) >= planted,
                            w -> System.out.println(b.logTail() + "\n" + cc.logTail()));
                    double seconds = (System.nanoTime() - t0) / 1e9;

                    long stored = hits(run);
                    long distinct = count("SELECT count(DISTINCT alert_id) FROM hits WHERE alert_id LIKE '" + run + ".%'");
                    long duplicated = count("SELECT count(*) FROM (SELECT alert_id FROM hits WHERE alert_id LIKE '" + run
                            + ".%' GROUP BY alert_id HAVING count(*) > 1) d");
                    Map<String, Long> byInstance = new HashMap<>();
                    for (String i : List.of(a.instance(), b.instance(), c.instance())) {
                        byInstance.put(i, count("SELECT count(*) FROM hits WHERE alert_id LIKE '" + run
                                + ".%' AND correlator_instance = '" + i + "'"));
                    }
                    List<ConsumerRecord<byte[], byte[]>> produced = KafkaAlerts.readAll(broker.bootstrap(), events);
                    Set<String> evented = new HashSet<>();
                    for (ConsumerRecord<byte[], byte[]> r : produced) {
                        evented.add(new JsonObject(new String(r.value(), StandardCharsets.UTF_8))
                                .getJsonObject("correlator").getString("alert_id"));
                    }
                    System.out.printf("KafkaClusterIT: %d records, %d planted hits expected, %d stored, %d alerts with hits, "
                                    + "%d duplicated; by instance %s; %d events (%d alerts) on the events topic; "
                                    + "take-over %d ms; all in %.1f s (second half drained in %.1f s)%n",
                            ALERTS, planted, stored, distinct, duplicated, byInstance, produced.size(), evented.size(),
                            takeOverMs, seconds, (System.nanoTime() - drainStart) / 1e9);

                    assertThat(stored).isEqualTo(planted);
                    assertThat(distinct).isEqualTo(planted);
                    assertThat(duplicated).isZero();
                    assertThat(byInstance.get(a.instance())).isPositive();
                    assertThat(byInstance.get(c.instance())).isPositive();
                    assertThat(byInstance.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(planted);
                    for (int i = 0; i < ALERTS; i += 2) {
                        assertThat(evented).contains(run + "." + i);
                    }
                    assertThat(evented).hasSize((int) planted);
                    assertThat(KafkaAlerts.uncommitted(admin, run, alerts)).isZero();
                    assertThat(KafkaAlerts.readAll(broker.bootstrap(), run + "-dlq")).isEmpty();

                    // the cluster as an operator sees it: A dead (no heartbeat), B and C alive and reading
                    JsonObject cluster = new JsonObject(b.get("/v1/cluster").body());
                    Map<String, JsonObject> seen = new HashMap<>();
                    cluster.getJsonArray("instances").forEach(o -> seen.put(((JsonObject) o).getString("instance"), (JsonObject) o));
                    assertThat(seen.get(a.instance()).getBoolean("alive")).isFalse();
                    assertThat(seen.get(b.instance()).getBoolean("alive")).isTrue();
                    assertThat(seen.get(c.instance()).getBoolean("alive")).isTrue();
                    assertThat(seen.get(b.instance()).getJsonObject("holds").getJsonArray("kafka_partitions").size()
                            + seen.get(c.instance()).getJsonObject("holds").getJsonArray("kafka_partitions").size())
                            .isEqualTo(PARTITIONS);
                } finally {
                    a.kill();
                    b.close();
                    if (c != null) {
                        c.close();
                    }
                }
            }
        }
    }

    private static void produce(KafkaProducer<byte[], byte[]> p, String topic, String run, int from, int to) {
        for (int i = from; i < to; i++) {
            KafkaAlerts.send(p, topic, "a" + i, KafkaAlerts.shipped(i, KafkaAlerts.alert(run + "." + i, i % 2 == 0)));
        }
        p.flush();
    }

    private static List<Object> partitions(CorrelatorProcess instance) throws Exception {
        JsonObject cluster = new JsonObject(instance.get("/v1/cluster").body());
        return cluster.getJsonArray("instances").stream().map(JsonObject.class::cast)
                .filter(i -> i.getString("instance").equals(instance.instance()))
                .findFirst().map(i -> i.getJsonObject("holds").getJsonArray("kafka_partitions", new io.vertx.core.json.JsonArray()).getList())
                .orElse(List.of());
    }

    private static long hits(String run) throws Exception {
        return count("SELECT count(*) FROM hits WHERE alert_id LIKE '" + run + ".%'");
    }

    static long count(String sql) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
