package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.KafkaBroker;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka ingest against a real broker (KRaft, a child JVM): alerts bare and in the shippers' envelopes, records that
 * are no alert, the events topic, the dead-letter topic and the group's committed offsets — one instance, in this JVM.
 */
class KafkaIngestIT {
    static KafkaBroker broker;

    @BeforeAll
    static void broker() throws Exception {
        broker = KafkaBroker.start(Fixtures.workDir("kafka-ingest-broker"));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void correlatesEveryShapeCommitsAfterTheHitsAndDeadLettersTheRest() throws Exception {
        String run = "k" + System.nanoTime();
        broker.createTopic(run + "-alerts", 3);
        broker.createTopic(run + "-events", 1);
        broker.createTopic(run + "-dlq", 1);
        int alerts = 200;
        List<String> garbage = List.of("not json", "[1,2,3]", "{\"message\":\"just a log line\"}", "{\"no\":\"rule\"}",
                "\"{\\\"rule\\\": 5\"", "");
        try (KafkaProducer<byte[], byte[]> p = KafkaAlerts.producer(broker.bootstrap())) {
            for (int i = 0; i < alerts; i++) {
                KafkaAlerts.send(p, run + "-alerts", "a" + i,
                        KafkaAlerts.shipped(i, KafkaAlerts.alert(run + "." + i, i % 2 == 0)));
                if (i % 40 == 0) {
                    KafkaAlerts.send(p, run + "-alerts", "g" + i,
                            garbage.get(i / 40 % garbage.size()).getBytes(StandardCharsets.UTF_8));
                }
            }
            p.flush();
        }
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_INSTANCE_ID", "kafka-it-1");
        env.put("CORRELATOR_KAFKA_BOOTSTRAP", broker.bootstrap());
        env.put("CORRELATOR_KAFKA_TOPICS", run + "-alerts");
        env.put("CORRELATOR_KAFKA_GROUP", run);
        env.put("CORRELATOR_KAFKA_EVENTS_TOPIC", run + "-events");
        env.put("CORRELATOR_KAFKA_DEAD_LETTER_TOPIC", run + "-dlq");
        env.put("CORRELATOR_KAFKA_MAX_IN_FLIGHT", "16"); // small: pause and resume happen
        env.put("CORRELATOR_DRL_WATCH", "false");
        env.put("CORRELATOR_CLUSTER_HEARTBEAT", "1s");
        env.put("CORRELATOR_CLUSTER_LEASE_TTL", "4s");
        try (ServiceUnderTest app = new ServiceUnderTest(env); Admin admin = broker.admin()) {
            KafkaAlerts.await("every record committed", Duration.ofSeconds(90),
                    () -> KafkaAlerts.uncommitted(admin, run, run + "-alerts") == 0, w -> { });
            assertThat(rows(app, "SELECT count(*) FROM hits WHERE alert_id LIKE '" + run + ".%'")).isEqualTo(alerts / 2);
            assertThat(rows(app, "SELECT count(DISTINCT alert_id) FROM hits WHERE alert_id LIKE '" + run
                    + ".%' AND indicator_value = '" + KafkaAlerts.PLANTED_IP + "' AND correlator_instance = 'kafka-it-1'"))
                    .isEqualTo(alerts / 2);

            List<ConsumerRecord<byte[], byte[]>> events = KafkaAlerts.readAll(broker.bootstrap(), run + "-events");
            Set<String> evented = events.stream().map(r -> new JsonObject(new String(r.value(), StandardCharsets.UTF_8))
                    .getJsonObject("correlator").getString("alert_id")).collect(Collectors.toSet());
            assertThat(evented).hasSize(alerts / 2).allMatch(id -> Integer.parseInt(id.substring(run.length() + 1)) % 2 == 0);
            assertThat(events).allMatch(r -> new String(r.key(), StandardCharsets.UTF_8).equals("003"));

            List<ConsumerRecord<byte[], byte[]>> dead = KafkaAlerts.readAll(broker.bootstrap(), run + "-dlq");
            assertThat(dead).hasSize(alerts / 40);
            assertThat(dead).allMatch(r -> r.headers().lastHeader(KafkaIngest.ERROR_HEADER) != null
                    && r.headers().lastHeader("x-source").value().length > 0);
            // partitions are correlated in parallel: the dead letters come in any order
            ConsumerRecord<byte[], byte[]> notJson = dead.stream()
                    .filter(r -> new String(r.value(), StandardCharsets.UTF_8).equals("not json")).findFirst().orElseThrow();
            assertThat(new String(notJson.headers().lastHeader(KafkaIngest.ERROR_HEADER).value(), StandardCharsets.UTF_8))
                    .startsWith("malformed JSON");

            JsonObject status = app.service().kafka().orElseThrow().status();
            assertThat(status.getJsonArray("partitions")).hasSize(3);
            assertThat(status.getLong("dead_lettered")).isEqualTo(alerts / 40);
            // the heartbeat reports what the instance holds: within a beat or two
            KafkaAlerts.await("the partitions in /v1/cluster", Duration.ofSeconds(10), () -> {
                ServiceUnderTest.Response cluster = app.get("/v1/cluster");
                assertThat(cluster.status()).isEqualTo(200);
                JsonObject me = cluster.json().getJsonArray("instances").stream().map(JsonObject.class::cast)
                        .filter(i -> i.getString("instance").equals("kafka-it-1")).findFirst().orElseThrow();
                return me.getBoolean("alive") && me.getJsonObject("holds").getJsonArray("kafka_partitions") != null
                        && me.getJsonObject("holds").getJsonArray("kafka_partitions").size() == 3
                        && me.getJsonArray("singletons").contains("retention");
            }, w -> { });
        }
    }

    static long rows(ServiceUnderTest app, String sql) throws Exception {
        try (Connection c = app.service().database().dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
