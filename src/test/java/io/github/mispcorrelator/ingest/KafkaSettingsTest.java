package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.config.CorrelatorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CORRELATOR_KAFKA_* and CORRELATOR_INSTANCE_ID as the Kafka client and the cluster tables get them. */
class KafkaSettingsTest {
    @TempDir
    Path dir;

    @Test
    void saslTlsAndAPropertiesFileAppliedLast() throws Exception {
        Path trust = Files.writeString(dir.resolve("ca.p12"), "x");
        Path props = Files.writeString(dir.resolve("client.properties"),
                "ssl.endpoint.identification.algorithm=\nmax.poll.records=50\nsecurity.protocol=SASL_SSL\n");
        CorrelatorConfig c = CorrelatorConfig.load(null, Map.of(
                "CORRELATOR_KAFKA_BOOTSTRAP", "k1:9093,k2:9093",
                "CORRELATOR_KAFKA_SECURITY_PROTOCOL", "sasl_ssl",
                "CORRELATOR_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                "CORRELATOR_KAFKA_SASL_USERNAME", "correlator",
                "CORRELATOR_KAFKA_SASL_PASSWORD", "pa\"ss",
                "CORRELATOR_KAFKA_SSL_TRUSTSTORE_FILE", trust.toString(),
                "CORRELATOR_KAFKA_SSL_TRUSTSTORE_PASSWORD", "changeit",
                "CORRELATOR_KAFKA_PROPERTIES_FILE", props.toString(),
                "CORRELATOR_INSTANCE_ID", "worker-2"));
        KafkaIngest.Settings s = KafkaIngest.Settings.from(c);
        assertThat(s.client()).containsEntry("bootstrap.servers", "k1:9093,k2:9093")
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"correlator\" password=\"pa\\\"ss\";")
                .containsEntry("ssl.truststore.type", "PKCS12")
                .containsEntry("ssl.truststore.password", "changeit")
                .containsEntry("max.poll.records", "50")
                .containsEntry("auto.offset.reset", "earliest");
        assertThat(s.topics()).containsExactly("wazuh-alerts");
        assertThat(s.group()).isEqualTo("misp-correlator");
        assertThat(s.instance()).isEqualTo("worker-2");
        assertThat(c.describe().get("kafka_sasl_password")).isEqualTo("****");
        assertThat(c.describe().get("kafka_ssl_truststore_password")).isEqualTo("****");
    }

    @Test
    void instanceIdDefaultsToTheHostNameAndMustBeSafe() {
        String id = CorrelatorConfig.load(null, Map.of()).instanceId();
        assertThat(id).matches("[A-Za-z0-9._:-]{1,100}");
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_INSTANCE_ID", "a b'; DROP")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("CORRELATOR_INSTANCE_ID");
    }
}
