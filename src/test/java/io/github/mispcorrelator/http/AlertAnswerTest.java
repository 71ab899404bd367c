package io.github.mispcorrelator.http;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.support.DefaultRules;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The answers written by the generator ({@link AlertAnswer#encoded}, {@link BatchIngest.Answer#encoded}) are byte
 * for byte the {@link JsonObject} answers they replace, encoded: hits, events, awkward text, failed lines and all.
 */
class AlertAnswerTest {

    @Test
    void aSingleAlertsAnswerIsTheSameBytes() throws IOException {
        for (Correlation c : correlations()) {
            for (boolean analysisd : new boolean[]{false, true}) {
                assertThat(AlertAnswer.encoded(c, analysisd).toString())
                        .isEqualTo(AlertAnswer.of(c, analysisd).toBuffer().toString());
            }
        }
    }

    @Test
    void aBatchsAnswerIsTheSameBytes() throws IOException {
        List<Correlation> correlations = correlations();
        List<BatchIngest.LineResult> results = new ArrayList<>();
        JsonArray expected = new JsonArray();
        int line = 0;
        int hits = 0;
        for (Correlation c : correlations) {
            line += 2;
            results.add(BatchIngest.ok(line, c));
            JsonObject old = AlertAnswer.of(c);
            old.remove("ruleset");
            expected.add(old.put("line", line).put("status", 200));
            hits += c.hits().size();
        }
        results.add(BatchIngest.failed(++line, 400, null, "malformed JSON: \"quoted\" é\n"));
        expected.add(new JsonObject().put("error", "malformed JSON: \"quoted\" é\n").put("line", line).put("status", 400));
        results.add(BatchIngest.failed(++line, 503, "1755.42", "store unavailable"));
        expected.add(new JsonObject().put("alert_id", "1755.42").put("error", "store unavailable").put("line", line)
                .put("status", 503));
        BatchIngest.Answer answer = BatchIngest.summarise(results, 3);
        JsonObject old = new JsonObject()
                .put("summary", new JsonObject().put("lines", results.size()).put("blank", 3)
                        .put("ok", correlations.size()).put("failed", 1).put("unavailable", 1).put("hits", hits))
                .put("results", expected);
        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.encoded().toString()).isEqualTo(old.toBuffer().toString());
        assertThat(answer.body()).isEqualTo(old);
        assertThat(hits).isPositive();
    }

    @Test
    void aBatchRefusedWholeAnswersItsError() {
        BatchIngest.Answer answer = BatchIngest.refusedAnswer(new BatchIngest.Refused(413, "batch too long"));
        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.error()).isEqualTo("batch too long");
        assertThat(answer.encoded().toString()).isEqualTo("{\"error\":\"batch too long\"}");
    }

    /** Each test alert with what the default rules find in it, every indicator a hit (one of them suppressed). */
    private static List<Correlation> correlations() throws IOException {
        RuleSet rules = DefaultRules.get();
        List<Correlation> out = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("src/test/resources/alerts"))) {
            files = s.sorted().filter(p -> !p.getFileName().toString().equals("expected.json")).toList();
        }
        int n = 0;
        for (Path f : files) {
            Alert alert = AlertParser.parse(Files.readAllBytes(f));
            List<Indicator> indicators = rules.extract(alert).indicators();
            List<Hit> hitList = new ArrayList<>();
            for (Indicator i : indicators) {
                MispAttribute a = new MispAttribute("1001", "5f1c0b1e-0000-4000-8000-000000001001", "25",
                        "5f1c0b1e-0000-4000-8000-000000000025", "Campaign \"25\" – ünïcödé\t</script>", "ip-dst",
                        "Network activity", i.value(), true, 2, List.of("tlp:green", "misp-galaxy:x=\"y\""),
                        1_700_000_000L, "http://127.0.0.1:8443");
                hitList.add(new Hit(alert, i, a).lookedUpAt(Instant.parse("2026-01-02T03:04:05.678Z")));
            }
            if (!hitList.isEmpty()) {
                rules.score(hitList);
            }
            if (n++ % 3 == 0 && !hitList.isEmpty()) {
                hitList.get(0).suppress();
            }
            out.add(new Correlation(alert, indicators, Set.of(), Set.of(), hitList, Map.of(), null, rules.version(),
                    hitList, false));
        }
        assertThat(out.stream().filter(c -> !c.hits().isEmpty())).hasSizeGreaterThan(3);
        return out;
    }
}
