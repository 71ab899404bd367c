package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.Normaliser;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench's own expectations must be right, or a "missed hit" would be the bench's fault, not the service's. */
class BenchWorkloadTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static final Workload workload = Workload.create(null, 0.5);
    private static final Workload.Pool pool = new Workload.Pool(0, workload.poolSizes(10_000, 3), 0.05, 3);

    @Test
    void poolValuesAreDistinctAndAlreadyInTheFormTheCorrelatorAsksFor() {
        Set<String> seen = new HashSet<>();
        for (IndicatorType t : Workload.TYPES) {
            for (int k = 0; k < pool.size(t); k++) {
                String v = pool.value(t, k);
                assertThat(Normaliser.normalise(t, v)).as(t + " " + v).contains(v);
                assertThat(seen.add(t.id() + ":" + v)).as("duplicate " + v).isTrue();
            }
        }
        assertThat(seen.size()).isBetween(9_990, 10_010);
    }

    @Test
    void warmUpPoolNeverSharesAValueWithTheMeasuredPool() {
        Workload.Pool warmup = new Workload.Pool(1, Map.of(IndicatorType.IP, 500, IndicatorType.DOMAIN, 500,
                IndicatorType.SHA256, 500), 0.05, 3);
        Set<String> measured = new HashSet<>();
        for (IndicatorType t : Workload.TYPES) {
            for (int k = 0; k < pool.size(t); k++) {
                measured.add(pool.value(t, k));
            }
        }
        for (IndicatorType t : Workload.TYPES) {
            for (int k = 0; k < warmup.size(t); k++) {
                assertThat(measured).doesNotContain(warmup.value(t, k));
            }
        }
    }

    @Test
    void badShareIsAboutWhatWasAskedFor() {
        long bad = 0;
        for (IndicatorType t : Workload.TYPES) {
            for (int k = 0; k < pool.size(t); k++) {
                bad += pool.isBad(t, k) ? 1 : 0;
            }
        }
        assertThat((double) bad / pool.total()).isBetween(0.04, 0.06);
    }

    @Test
    void everyAlertCarriesItsNewIdAndItsPlantedValues() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        Workload.Picker picker = Workload.random(pool, r);
        for (int i = 0; i < 500; i++) {
            BenchAlert a = workload.next(r, pool, picker);
            JsonNode json = MAPPER.readTree(a.withId(123_456L + i));
            assertThat(json.path("id").asText()).isEqualTo(BenchAlert.id(123_456L + i));
            String text = a.text().toLowerCase(java.util.Locale.ROOT);
            for (String planted : a.planted()) {
                assertThat(text).contains(planted.substring(planted.indexOf(':') + 1));
            }
            assertThat(a.bad().length).isEqualTo(a.attributes().length);
        }
    }

    @Test
    void fakeMispAnswersPlantedValuesWithEveryAttributeAndHonoursTheTypeFilter() throws Exception {
        String bad = null;
        IndicatorType badType = null;
        int attributes = 0;
        outer:
        for (IndicatorType t : List.of(IndicatorType.SHA256, IndicatorType.IP)) {
            for (int k = 0; k < pool.size(t); k++) {
                if (pool.isBad(t, k) && pool.attributes(t, k) == 2) {
                    bad = pool.value(t, k);
                    badType = t;
                    attributes = 2;
                    break outer;
                }
            }
        }
        assertThat(bad).isNotNull();
        try (FakeMispServer misp = new FakeMispServer(0, List.of(pool))) {
            String all = misp.restSearch(Buffer.buffer("{\"returnFormat\":\"json\",\"value\":[\"" + bad
                    + "\",\"8.8.8.8\"],\"type\":" + MAPPER.writeValueAsString(badType.mispTypes()) + "}"));
            JsonNode found = MAPPER.readTree(all).path("response").path("Attribute");
            assertThat(found.size()).isEqualTo(attributes);
            assertThat(found.get(0).path("Event").path("threat_level_id").asText()).isNotEmpty();
            String primaryOnly = misp.restSearch(Buffer.buffer("{\"value\":{\"OR\":[\"" + bad + "\"]},\"type\":\""
                    + FakeMispServer.primaryType(badType) + "\"}"));
            assertThat(MAPPER.readTree(primaryOnly).path("response").path("Attribute").size()).isEqualTo(1);
            assertThat(misp.counters().values()).isEqualTo(3);
            assertThat(misp.counters().repeatedValues()).isEqualTo(1);
        }
    }

    @Test
    void percentilesAreNearestRank() {
        Latencies l = new Latencies(1000);
        for (int i = 1; i <= 1000; i++) {
            l.record(i * 1_000_000L);
        }
        Latencies.Summary s = l.summary();
        assertThat(s.p50()).isEqualTo(500.0);
        assertThat(s.p99()).isEqualTo(990.0);
        assertThat(s.p999()).isEqualTo(999.0);
        assertThat(s.max()).isEqualTo(1000.0);
    }
}
