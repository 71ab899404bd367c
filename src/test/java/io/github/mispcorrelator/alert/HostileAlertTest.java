package io.github.mispcorrelator.alert;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Fields the rules and the store read, bounded and validated (issue 17, defect 5). */
class HostileAlertTest {

    @ParameterizedTest
    @ValueSource(strings = {"+294277-01-01T00:00:00Z", "-4714-11-23T00:00:00Z", "+999999999-12-31T23:59:59Z",
            "1969-12-31T23:59:59.999+0000", "2200-01-01T00:00:00.000+0000"})
    void aTimestampOutsideTheSaneWindowIsRefusedNamingTheField(String timestamp) {
        assertThatThrownBy(() -> AlertParser.parse(new JsonObject().put("id", "1.1").put("timestamp", timestamp).encode()))
                .isInstanceOf(InvalidAlertException.class)
                .hasMessageStartingWith("timestamp: ");
    }

    @Test
    void aTimestampInsideTheWindowIsRead() {
        Alert alert = AlertParser.parse(new JsonObject().put("timestamp", "2025-08-13T08:45:06.785+0000").encode());
        assertThat(alert.getEpochSecond()).hasValue(1755074706L);
        Alert unreadable = AlertParser.parse(new JsonObject().put("timestamp", "yesterday").encode());
        assertThat(unreadable.getEpochMilli()).isEmpty();
    }

    @Test
    void aSysmonGroupNumberThatOverflowsAnIntIsNoEventId() {
        Alert alert = AlertParser.parse(new JsonObject().put("id", "1.1").put("rule", new JsonObject()
                .put("groups", new JsonArray().add("sysmon").add("sysmon_eid99999999999_detections"))).encode());
        assertThat(alert.getSysmonEvent()).isZero();
        Alert normal = AlertParser.parse(new JsonObject().put("id", "1.1").put("rule", new JsonObject()
                .put("groups", new JsonArray().add("sysmon").add("sysmon_eid3_detections"))).encode());
        assertThat(normal.getSysmonEvent()).isEqualTo(3);
    }

    @Test
    void logLinesNeverCarryAWholeId() {
        Alert alert = AlertParser.parse(new JsonObject().put("id", "9".repeat(100_000)).encode());
        assertThat(alert.logId()).hasSizeLessThan(120).endsWith("(100000 chars)");
        assertThat(alert.toString()).hasSizeLessThan(400);
    }
}
