package io.github.mispcorrelator.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.json.Json;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-memory aggregate of observations: per value, manager, agent and UTC day; bounded; drained sorted. */
class ObservationBufferTest {
    static final Instant NOW = Instant.parse("2026-03-10T12:00:00Z");

    static Alert alert(String id, String timestamp, String agent) {
        ObjectNode json = Json.MAPPER.createObjectNode();
        json.put("id", id);
        if (timestamp != null) {
            json.put("timestamp", timestamp);
        }
        json.putObject("agent").put("id", agent).put("name", "host-" + agent);
        json.putObject("manager").put("name", "mgr");
        return new Alert(json, id);
    }

    static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "data.srcip", "r");
    }

    @Test
    void aggregatesAValuePerAgentAndDayWithFirstAndLastAlert() {
        ObservationBuffer b = new ObservationBuffer(100, Duration.ofDays(90));
        b.record(alert("1.2", "2026-03-09T10:00:00.000+0000", "001"), List.of(ip("81.2.69.1")), NOW);
        b.record(alert("1.1", "2026-03-09T08:00:00.000+0000", "001"), List.of(ip("81.2.69.1")), NOW);
        b.record(alert("1.3", "2026-03-09T23:59:59.000+0000", "001"), List.of(ip("81.2.69.1"), ip("81.2.69.2")), NOW);
        b.record(alert("1.4", "2026-03-10T00:00:01.000+0000", "001"), List.of(ip("81.2.69.1")), NOW);
        b.record(alert("1.5", "2026-03-09T09:00:00.000+0000", "002"), List.of(ip("81.2.69.1")), NOW);

        ObservationBuffer.Batch batch = b.drain();
        assertThat(batch.days()).hasSize(4);
        Map.Entry<ObservationBuffer.Key, ObservationBuffer.Entry> first = batch.days().get(0);
        assertThat(first.getKey()).isEqualTo(new ObservationBuffer.Key("ip", "81.2.69.1", "mgr", "001", LocalDate.parse("2026-03-09")));
        assertThat(first.getValue().alerts()).isEqualTo(3);
        assertThat(first.getValue().firstAlertId()).isEqualTo("1.1");
        assertThat(first.getValue().lastAlertId()).isEqualTo("1.3");
        assertThat(first.getValue().firstSeen()).isEqualTo(Instant.parse("2026-03-09T08:00:00Z"));
        assertThat(first.getValue().lastSeen()).isEqualTo(Instant.parse("2026-03-09T23:59:59Z"));
        assertThat(first.getValue().agentName()).isEqualTo("host-001");
        // the next UTC day is a row of its own
        assertThat(batch.days().get(1).getKey().day()).isEqualTo(LocalDate.parse("2026-03-10"));
        assertThat(batch.days().get(2).getKey().agentId()).isEqualTo("002");

        assertThat(batch.totals()).containsExactly(
                new ObservationBuffer.Total("ip", "81.2.69.1", Instant.parse("2026-03-09T08:00:00Z"),
                        Instant.parse("2026-03-10T00:00:01Z"), 5),
                new ObservationBuffer.Total("ip", "81.2.69.2", Instant.parse("2026-03-09T23:59:59Z"),
                        Instant.parse("2026-03-09T23:59:59Z"), 1));
        assertThat(b.size()).isZero();
        assertThat(b.drain().isEmpty()).isTrue();
    }

    @Test
    void anAlertOlderThanTheWindowIsNotRecordedAndOneFromTheFutureCountsAsNow() {
        ObservationBuffer b = new ObservationBuffer(100, Duration.ofDays(90));
        b.record(alert("1", "2025-12-01T00:00:00.000+0000", "001"), List.of(ip("81.2.69.1")), NOW);
        assertThat(b.size()).isZero();
        b.record(alert("2", "2027-01-01T00:00:00.000+0000", "001"), List.of(ip("81.2.69.1")), NOW);
        b.record(alert("3", null, "001"), List.of(ip("81.2.69.1")), NOW);
        ObservationBuffer.Batch batch = b.drain();
        assertThat(batch.days()).hasSize(1);
        assertThat(batch.days().get(0).getKey().day()).isEqualTo(LocalDate.parse("2026-03-10"));
        assertThat(batch.days().get(0).getValue().lastSeen()).isEqualTo(NOW);
        assertThat(batch.days().get(0).getValue().alerts()).isEqualTo(2);
    }

    @Test
    void fullAtCapacityThenDropsNewKeysBeyondTwiceItButStillCountsKnownOnes() {
        ObservationBuffer b = new ObservationBuffer(2, Duration.ofDays(90));
        Alert a = alert("1", "2026-03-10T10:00:00.000+0000", "001");
        assertThat(b.record(a, List.of(ip("81.2.69.1")), NOW)).isFalse();
        assertThat(b.record(a, List.of(ip("81.2.69.2")), NOW)).as("full: flush now").isTrue();
        // a flush is slow: the buffer takes as many again, then drops new keys
        b.record(a, List.of(ip("81.2.69.3"), ip("81.2.69.4"), ip("81.2.69.5")), NOW);
        assertThat(b.size()).isEqualTo(4);
        assertThat(b.dropped()).isEqualTo(1);
        b.record(alert("2", "2026-03-10T11:00:00.000+0000", "001"), List.of(ip("81.2.69.1")), NOW);
        ObservationBuffer.Batch batch = b.drain();
        assertThat(batch.days()).hasSize(4);
        assertThat(batch.days().get(0).getValue().alerts()).isEqualTo(2);
        assertThat(batch.days().get(0).getValue().lastAlertId()).isEqualTo("2");
    }

    @Test
    void drainSortsByValueSoThatConcurrentWritersLockInOneOrder() {
        ObservationBuffer b = new ObservationBuffer(100, Duration.ofDays(90));
        Alert a = alert("1", "2026-03-10T10:00:00.000+0000", "001");
        b.record(a, List.of(ip("81.2.69.9"), new Indicator(IndicatorType.DOMAIN, "a.example.com", "f", "r"), ip("81.2.69.1")), NOW);
        assertThat(b.drain().days()).extracting(e -> e.getKey().value())
                .containsExactly("81.2.69.1", "81.2.69.9", "a.example.com");
    }
}
