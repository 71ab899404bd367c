package io.github.mispcorrelator.support;

import io.github.mispcorrelator.bench.KraftBroker;
import org.apache.kafka.clients.admin.Admin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A real Kafka broker for integration tests: Apache Kafka's own server ({@code kafka.Kafka} from the
 * {@code org.apache.kafka:kafka_2.13} artifact on the test class path) in KRaft mode, started by the bench's
 * {@link KraftBroker} — the one launcher — with a JVM tuned to start fast rather than to run fast.
 */
public final class KafkaBroker implements AutoCloseable {
    private final KraftBroker broker;

    private KafkaBroker(KraftBroker broker) {
        this.broker = broker;
    }

    public static KafkaBroker start(Path dir) throws Exception {
        return new KafkaBroker(KraftBroker.start(dir, null, List.of("-XX:TieredStopAtLevel=1")));
    }

    public String bootstrap() {
        return broker.bootstrap();
    }

    public Admin admin() {
        return broker.admin();
    }

    public void createTopic(String name, int partitions) throws Exception {
        broker.createTopic(name, partitions);
    }

    static String tail(Path log) {
        return KraftBroker.tail(log);
    }

    static int freePort() throws IOException {
        return KraftBroker.freePort();
    }

    @Override
    public void close() {
        broker.close();
    }
}
