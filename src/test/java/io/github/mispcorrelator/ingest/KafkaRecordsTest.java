package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.InvalidAlertException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The record shapes the log shippers write to Kafka, each read as the same Wazuh alert. */
class KafkaRecordsTest {
    static final String ALERT = KafkaAlerts.alert("1757320866.1", true);

    static Alert read(String value) {
        return KafkaRecords.alert(value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everyShipperShapeGivesTheAlert() {
        for (int shape = 0; shape < 5; shape++) {
            Alert a = KafkaRecords.alert(KafkaAlerts.shipped(shape, ALERT));
            assertThat(a.getId()).as("shape %d", shape).isEqualTo("1757320866.1");
            assertThat(a.getRuleId()).isEqualTo("102138");
            assertThat(a.getAgentId()).as("the alert's agent, not Filebeat's").isEqualTo("003");
        }
    }

    @Test
    void aJsonStringHoldingTheAlert() {
        String quoted = new io.vertx.core.json.JsonArray().add(ALERT).encode();
        assertThat(read(quoted.substring(1, quoted.length() - 1)).getId()).isEqualTo("1757320866.1");
    }

    @Test
    void fluentBitWithTheLogParsedIntoAnObject() {
        assertThat(read("{\"log\":" + ALERT + "}").getId()).isEqualTo("1757320866.1");
    }

    @Test
    void anAlertWithoutIdGetsTheSameDigestIdAsOverHttp() {
        String noId = ALERT.replaceFirst("\"id\":\"1757320866.1\",", "");
        assertThat(read(noId).getId()).isEqualTo(io.github.mispcorrelator.alert.AlertParser.parse(noId).getId())
                .startsWith("sha256:");
    }

    @Test
    void whatIsNoAlertSaysWhy() {
        assertThatThrownBy(() -> read("")).isInstanceOf(InvalidAlertException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> read("oops")).isInstanceOf(InvalidAlertException.class).hasMessageContaining("malformed JSON");
        assertThatThrownBy(() -> read("[1]")).isInstanceOf(InvalidAlertException.class).hasMessageContaining("array");
        assertThatThrownBy(() -> read("{\"message\":\"Sep  8 sshd[1]: Accepted password\"}"))
                .isInstanceOf(InvalidAlertException.class).hasMessageContaining("not a Wazuh alert");
        assertThatThrownBy(() -> read("{\"message\":\"{\\\"rule\\\":{}\"}")).isInstanceOf(InvalidAlertException.class)
                .hasMessageContaining("malformed JSON");
    }

    @Test
    void envelopesNestOnlySoDeep() {
        String v = ALERT;
        for (int i = 0; i < 5; i++) {
            String q = new io.vertx.core.json.JsonObject().put("message", v).encode();
            v = q;
        }
        String tooDeep = v;
        assertThatThrownBy(() -> read(tooDeep)).isInstanceOf(InvalidAlertException.class);
    }
}
