package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.support.CorrelatorProcess;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.KafkaBroker;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka benchmark ({@code bench --kafka}'s equivalent, opt-in: it takes minutes): alerts/s through a real broker
 * with 1, 2 and 3 correlator JVMs in one group, from the first record produced until the group has committed the
 * last one and every planted hit is stored. On a 2-core machine the instances, their PostgreSQL, the broker and the
 * producer share the same two cores, so more instances cannot go faster here; the figure per instance is what counts.
 * <pre>mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=KafkaBenchIT -Dkafka.bench=true</pre>
 */
@EnabledIfSystemProperty(named = "kafka.bench", matches = "true")
class KafkaBenchIT {
    static final int RECORDS = Integer.getInteger("kafka.bench.records", 30_000);
    static final int PARTITIONS = 6;

    @Test
    void alertsPerSecondWithOneTwoAndThreeInstances() throws Exception {
        Path dir = Fixtures.workDir("kafka-bench");
        List<String> lines = new ArrayList<>();
        try (KafkaBroker broker = KafkaBroker.start(dir.resolve("broker")); Admin admin = broker.admin()) {
            for (int n = 1; n <= 3; n++) {
                String run = "b" + n + "x" + System.nanoTime();
                broker.createTopic(run, PARTITIONS);
                broker.createTopic(run + "-events", 3);
                Map<String, String> env = new HashMap<>(TestDatabase.env());
                env.put("CORRELATOR_KAFKA_BOOTSTRAP", broker.bootstrap());
                env.put("CORRELATOR_KAFKA_TOPICS", run);
                env.put("CORRELATOR_KAFKA_GROUP", run);
                env.put("CORRELATOR_KAFKA_EVENTS_TOPIC", run + "-events");
                Path props = Files.writeString(dir.resolve(run + ".properties"), "session.timeout.ms=6000\nheartbeat.interval.ms=1000\n");
                env.put("CORRELATOR_KAFKA_PROPERTIES_FILE", props.toString());
                env.put("CORRELATOR_CLUSTER_HEARTBEAT", "1s");
                env.put("CORRELATOR_CLUSTER_LEASE_TTL", "4s");
                List<CorrelatorProcess> instances = new ArrayList<>();
                try {
                    for (int i = 0; i < n; i++) {
                        instances.add(CorrelatorProcess.start(run + "-" + i, env, dir));
                    }
                    for (CorrelatorProcess p : instances) {
                        p.awaitReady(Duration.ofSeconds(240));
                    }
                    int members = n;
                    KafkaAlerts.await("the partitions spread over " + n, Duration.ofSeconds(60), () -> spread(instances.get(0), run) == members,
                            w -> { });
                    // one planted hit every tenth alert: a hit share well above real traffic's
                    long planted = 0;
                    long t0 = System.nanoTime();
                    try (KafkaProducer<byte[], byte[]> p = KafkaAlerts.producer(broker.bootstrap())) {
                        for (int i = 0; i < RECORDS; i++) {
                            boolean bad = i % 10 == 0;
                            planted += bad ? 1 : 0;
                            KafkaAlerts.send(p, run, "a" + i, KafkaAlerts.shipped(i, KafkaAlerts.alert(run + "." + i, bad)));
                        }
                        p.flush();
                    }
                    double produced = (System.nanoTime() - t0) / 1e9;
                    long expected = planted;
                    KafkaAlerts.await("all committed", Duration.ofSeconds(600),
                            () -> KafkaAlerts.uncommitted(admin, run, run) == 0
                                    && KafkaClusterIT.count("SELECT count(*) FROM hits WHERE alert_id LIKE '" + run + ".%'") >= expected,
                            w -> System.out.println(instances.get(0).logTail()));
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    long stored = KafkaClusterIT.count("SELECT count(*) FROM hits WHERE alert_id LIKE '" + run + ".%'");
                    assertThat(stored).isEqualTo(expected);
                    lines.add(String.format("| %d | %,d | %.1f | **%,.0f** | %,.0f | %,d / %,d | %.1f |", n, RECORDS, seconds,
                            RECORDS / seconds, RECORDS / seconds / n, stored, expected, produced));
                } finally {
                    for (CorrelatorProcess p : instances) {
                        p.close();
                    }
                }
            }
        }
        System.out.println("KafkaBenchIT results\n| instances | records | seconds | alerts/s | per instance | hits stored / planted | producing took s |\n"
                + "|---:|---:|---:|---:|---:|---:|---:|\n" + String.join("\n", lines));
    }

    /** How many members hold partitions of the topic, as the instances report it. */
    private static int spread(CorrelatorProcess any, String topic) throws Exception {
        JsonObject cluster = new JsonObject(any.get("/v1/cluster").body());
        int members = 0;
        int partitions = 0;
        for (Object o : cluster.getJsonArray("instances")) {
            JsonObject i = (JsonObject) o;
            if (!i.getBoolean("alive") || !i.getString("instance").startsWith(topic)) {
                continue;
            }
            var held = i.getJsonObject("holds").getJsonArray("kafka_partitions");
            if (held != null && !held.isEmpty()) {
                members++;
                partitions += held.size();
            }
        }
        return partitions == PARTITIONS ? members : -1;
    }
}
