package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.bench.KafkaBench;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.KafkaBroker;
import io.github.mispcorrelator.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka benchmark ({@link KafkaBench}, {@code bench --kafka}) against the test suite's broker and PostgreSQL,
 * opt-in because it takes minutes: alerts/s with 1, 2 and 3 correlator JVMs in one group, and every planted hit
 * stored once in each run (the bench's exit code says so).
 * <pre>mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=KafkaBenchIT -Dkafka.bench=true</pre>
 * {@code -Dkafka.bench.records=N} and {@code -Dkafka.bench.instances=1,2,3} size it.
 */
@EnabledIfSystemProperty(named = "kafka.bench", matches = "true")
class KafkaBenchIT {
    @Test
    void alertsPerSecondWithOneTwoAndThreeInstances() throws Exception {
        Path dir = Fixtures.workDir("kafka-bench");
        Map<String, String> db = TestDatabase.env();
        try (KafkaBroker broker = KafkaBroker.start(dir.resolve("broker"))) {
            List<String> args = new ArrayList<>(List.of("--kafka", "--bootstrap", broker.bootstrap(),
                    "--records", Integer.toString(Integer.getInteger("kafka.bench.records", 30_000)),
                    "--instances", System.getProperty("kafka.bench.instances", "1,2,3"),
                    "--db-url", db.get("CORRELATOR_DB_URL"), "--db-user", db.get("CORRELATOR_DB_USER"),
                    "--work", dir.toString()));
            if (db.containsKey("CORRELATOR_DB_PASSWORD")) {
                args.addAll(List.of("--db-password", db.get("CORRELATOR_DB_PASSWORD")));
            }
            ByteArrayOutputStream report = new ByteArrayOutputStream();
            int exit = KafkaBench.run(args.toArray(String[]::new), new PrintStream(report, true, StandardCharsets.UTF_8));
            String text = report.toString(StandardCharsets.UTF_8);
            System.out.println(text);
            assertThat(exit).as(text).isZero();
            assertThat(text).contains("| instances | records |").contains("share the same CPUs");
        }
    }
}
