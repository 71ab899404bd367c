package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Checks each answer against what was planted: every attribute of every bad value must come back as a hit, nothing
 * else may, and no value may go unchecked (a MISP error event). Thread-safe; keeps the first few problems.
 */
final class Outcome {
    final LongAdder alerts = new LongAdder();
    final LongAdder failedAlerts = new LongAdder();
    final LongAdder expectedHits = new LongAdder();
    final LongAdder foundHits = new LongAdder();
    final LongAdder missedHits = new LongAdder();
    final LongAdder unexpectedHits = new LongAdder();
    final LongAdder uncheckedValues = new LongAdder();
    final LongAdder indicators = new LongAdder();
    private final List<String> problems = new ArrayList<>();

    /** One alert's answer ({@code POST /v1/alerts} body, or one line of a batch answer). */
    void check(BenchAlert alert, int status, JsonNode answer, String alertId) {
        alerts.increment();
        int expected = alert.expectedHits();
        expectedHits.add(expected);
        if (status != 200 || answer == null) {
            failedAlerts.increment();
            missedHits.add(expected);
            problem("alert " + alertId + ": HTTP " + status + " "
                    + (answer == null ? "" : answer.path("error").asText(answer.toString())));
            return;
        }
        indicators.add(answer.path("indicators").size());
        Map<String, Integer> hits = new HashMap<>();
        for (JsonNode h : answer.path("hits")) {
            JsonNode i = h.path("indicator");
            hits.merge(i.path("type").asText() + ":" + i.path("value").asText(), 1, Integer::sum);
        }
        int found = 0;
        for (int b = 0; b < alert.bad().length; b++) {
            Integer n = hits.remove(alert.bad()[b]);
            int want = alert.attributes()[b];
            int got = n == null ? 0 : n;
            found += Math.min(got, want);
            if (got < want) {
                problem("alert " + alertId + ": " + alert.bad()[b] + " gave " + got + " hit(s), expected " + want);
            } else if (got > want) {
                unexpectedHits.add(got - want);
            }
        }
        foundHits.add(found);
        missedHits.add(expected - found);
        hits.values().forEach(unexpectedHits::add);
        if (!hits.isEmpty()) {
            problem("alert " + alertId + ": hits on values that were not planted as bad: " + hits.keySet());
        }
        for (JsonNode e : answer.path("events")) {
            JsonNode error = e.path("misp").path("error");
            if (!error.isMissingNode()) {
                uncheckedValues.increment();
                problem("alert " + alertId + ": value " + e.path("misp").path("value").asText() + " unchecked: "
                        + error.asText());
            }
        }
    }

    /** A request that got no usable answer at all (connection error, timeout): its alerts count as failed. */
    void lost(List<BenchAlert> sent, String why) {
        for (BenchAlert a : sent) {
            alerts.increment();
            failedAlerts.increment();
            expectedHits.add(a.expectedHits());
            missedHits.add(a.expectedHits());
        }
        problem(sent.size() + " alert(s) lost: " + why);
    }

    private void problem(String p) {
        synchronized (problems) {
            if (problems.size() < 10) {
                problems.add(p);
            }
        }
    }

    List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    boolean passed() {
        return failedAlerts.sum() == 0 && missedHits.sum() == 0 && uncheckedValues.sum() == 0
                && unexpectedHits.sum() == 0;
    }
}
