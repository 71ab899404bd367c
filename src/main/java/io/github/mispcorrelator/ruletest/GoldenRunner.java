package io.github.mispcorrelator.ruletest;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.LookupResult;
import io.github.mispcorrelator.rules.RuleSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Runs golden cases ({@code drl/tests/*.json}): each alert through the rules and its own MISP answer, compared with
 * what the case expects. Synchronous and offline, for {@code mvn verify} and {@code test-rules --golden}.
 */
public final class GoldenRunner {
    public static final String TESTS_DIR = "tests";

    private GoldenRunner() {
    }

    /** What one case gave, and every way it differed from its expectation. */
    public record Outcome(RuleTestCase testCase, List<Indicator> indicators, List<Hit> hits, List<String> failures) {
        public boolean passed() {
            return failures.isEmpty();
        }
    }

    public static List<Path> cases(Path drlDir) {
        Path dir = drlDir.resolve(TESTS_DIR);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs one case. A rule that throws fails the case with the rule's name, it does not abort the run. */
    public static Outcome run(RuleSet rules, RuleTestCase c) {
        List<String> failures = new ArrayList<>();
        List<Indicator> indicators = List.of();
        List<Hit> hits = List.of();
        try {
            indicators = rules.extract(c.alert()).indicators();
            FeedSource source = c.misp().orElse(FeedSource.of("none", List.of()));
            LookupResult result = source.lookup(indicators).result();
            hits = Correlator.hits(c.alert(), result);
            rules.score(hits);
        } catch (RuntimeException e) {
            failures.add(e.getMessage());
            return new Outcome(c, indicators, hits, failures);
        }
        if (c.expect().isPresent() && !c.expect().get().isObject()) {
            failures.add("\"expect\" must be an object");
        } else if (c.expect().isPresent()) {
            compareIndicators(c.expect().get(), indicators, failures);
            compareHits(c.expect().get(), hits, failures);
        } else {
            failures.add("no \"expect\" in the case: nothing to check");
        }
        return new Outcome(c, indicators, hits, failures);
    }

    private static void compareIndicators(JsonNode expect, List<Indicator> actual, List<String> failures) {
        if (!expect.has("indicators")) {
            return;
        }
        Set<String> want = new TreeSet<>();
        boolean withField = false;
        for (JsonNode e : expect.get("indicators")) {
            withField |= e.has("field");
            want.add(e.path("type").asText() + " " + e.path("value").asText()
                    + (e.has("field") ? " @ " + e.path("field").asText() : ""));
        }
        Set<String> got = new TreeSet<>();
        for (Indicator i : actual) {
            got.add(i.type().id() + " " + i.value() + (withField ? " @ " + i.field() : ""));
        }
        Set<String> missing = new TreeSet<>(want);
        missing.removeAll(got);
        Set<String> extra = new TreeSet<>(got);
        extra.removeAll(want);
        missing.forEach(m -> failures.add("indicator expected but not extracted: " + m));
        extra.forEach(m -> failures.add("indicator extracted but not expected: " + m));
    }

    private static void compareHits(JsonNode expect, List<Hit> actual, List<String> failures) {
        if (!expect.has("hits")) {
            return;
        }
        Set<Hit> matched = new HashSet<>();
        for (JsonNode e : expect.get("hits")) {
            String value = e.path("value").asText();
            Hit h = actual.stream()
                    .filter(x -> !matched.contains(x) && x.getValue().equals(value)
                            && (!e.has("misp_type") || x.getMispType().equals(e.get("misp_type").asText())))
                    .findFirst().orElse(null);
            String label = value + (e.has("misp_type") ? " (" + e.get("misp_type").asText() + ")" : "");
            if (h == null) {
                failures.add("hit expected but not found: " + label);
                continue;
            }
            matched.add(h);
            if (e.has("severity") && e.get("severity").asInt() != h.getSeverity()) {
                failures.add("hit " + label + ": severity " + h.getSeverity() + ", expected " + e.get("severity").asInt()
                        + " (decided by " + h.getDecidedBy() + ")");
            }
            if (e.has("suppressed") && e.get("suppressed").asBoolean() != h.isSuppressed()) {
                failures.add("hit " + label + ": suppressed " + h.isSuppressed() + ", expected " + e.get("suppressed").asBoolean());
            }
            if (e.has("labels")) {
                Set<String> labels = new TreeSet<>();
                e.get("labels").forEach(l -> labels.add(l.asText()));
                if (!labels.equals(new TreeSet<>(h.getLabels()))) {
                    failures.add("hit " + label + ": labels " + h.getLabels() + ", expected " + labels);
                }
            }
        }
        actual.stream().filter(h -> !matched.contains(h))
                .forEach(h -> failures.add("hit found but not expected: " + h.getValue() + " (" + h.getMispType() + ")"));
    }
}
