package io.github.mispcorrelator.ingest;

import io.vertx.core.json.JsonObject;
import io.github.mispcorrelator.bench.KraftBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Alerts as the shippers write them to Kafka, and what the tests read back: events, dead letters, committed offsets.
 * A planted alert is the Sysmon 3 sample connecting to the demo feed's C2 address (one hit); a clean one connects to
 * an address no feed knows.
 */
final class KafkaAlerts {
    static final String PLANTED_IP = "81.2.69.192";
    private static final String TEMPLATE;

    static {
        try {
            TEMPLATE = Files.readString(Path.of("config/samples/sysmon-eid3-c2.json")).strip();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private KafkaAlerts() {
    }

    /** The alert JSON with its own id (unique per manager) and destination. */
    static String alert(String id, boolean planted) {
        String dest = planted ? PLANTED_IP : "203.0.113." + (Math.abs(id.hashCode()) % 250 + 1);
        return TEMPLATE.replaceFirst("\"id\":\"[0-9]+\\.[0-9]+\"", "\"id\":\"" + id + "\"")
                .replace("\"destinationIp\":\"81.2.69.192\"", "\"destinationIp\":\"" + dest + "\"");
    }

    /** The record value for alert number {@code i}: bare, or in a Filebeat, Fluent Bit, Logstash or Vector envelope. */
    static byte[] shipped(int i, String alert) {
        String quoted = new JsonObject().put("v", alert).encode();
        quoted = quoted.substring(5, quoted.length() - 1);
        String v = switch (i % 5) {
            case 0 -> alert;
            case 1 -> "{\"@timestamp\":\"2025-09-08T08:41:07.000Z\",\"agent\":{\"type\":\"filebeat\"},\"input\":{\"type\":\"log\"},"
                    + "\"log\":{\"file\":{\"path\":\"/var/ossec/logs/alerts/alerts.json\"}},\"message\":" + quoted + "}";
            case 2 -> "{\"date\":1757320867.0,\"log\":" + quoted + "}";
            case 3 -> "{\"@version\":\"1\",\"host\":{\"name\":\"wazuh-worker-1\"},\"event\":{\"original\":" + quoted + "}}";
            default -> "{\"host\":\"wazuh-worker-2\",\"source_type\":\"file\",\"timestamp\":\"2025-09-08T08:41:07Z\",\"message\":"
                    + quoted + "}";
        };
        return v.getBytes(StandardCharsets.UTF_8);
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 10,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()));
    }

    static void send(KafkaProducer<byte[], byte[]> p, String topic, String key, byte[] value) {
        p.send(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value));
    }

    /** Every record of {@code topic} now, from the beginning. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** Records of the topic not yet covered by the group's committed offsets (0: the group has committed everything). */
    static long uncommitted(Admin admin, String group, String topic) throws Exception {
        return KraftBroker.uncommitted(admin, group, topic);
    }

    static void await(String what, Duration timeout, java.util.concurrent.Callable<Boolean> condition,
                      Consumer<String> onTimeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.call()) {
                return;
            }
            Thread.sleep(250);
        }
        onTimeout.accept(what);
        throw new AssertionError("timed out waiting for " + what);
    }
}
