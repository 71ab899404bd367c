package io.github.mispcorrelator.coverage;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.rules.RuleSet;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The blind-spot report: per log family (decoder and first rule group), how many alerts were seen, how many gave
 * indicators, and which fields held indicator-shaped values (global IP, hash, domain, URL) that no rule read —
 * with counts and one example each, biggest first. Bounded whatever the input: at most {@link #MAX_FAMILIES}
 * families and {@link #MAX_FIELDS} fields each are tracked; the rest is counted under {@code (other)}.
 * Not thread-safe: one report is filled by one thread.
 */
public final class CoverageReport {
    static final int MAX_FAMILIES = 500;
    static final int MAX_FIELDS = 100;
    static final String OTHER = "(other)";

    private static final class Field {
        final String shape;
        final String example;
        long count;

        Field(String shape, String example) {
            this.shape = shape;
            this.example = example.length() > 200 ? example.substring(0, 200) + "…" : example;
        }
    }

    private static final class Family {
        long alerts;
        long withIndicators;
        long ownEvents;
        final Map<String, Field> fields = new LinkedHashMap<>();
    }

    private final Map<String, Family> families = new LinkedHashMap<>();
    private long alerts;
    private long failed;

    /** Runs the extraction rules on the alert and counts what they read and what they left. */
    public void add(Alert alert, RuleSet rules) {
        RuleSet.ExtractionResult result;
        try {
            result = rules.extract(alert);
        } catch (RuntimeException e) {
            failed++;
            return;
        }
        add(alert, result);
    }

    void add(Alert alert, RuleSet.ExtractionResult result) {
        alerts++;
        Family f = family(familyOf(alert));
        f.alerts++;
        if (alert.isCorrelatorEvent()) {
            // our own events are deliberately not read (no loops); their values are not a blind spot
            f.ownEvents++;
            return;
        }
        if (!result.indicators().isEmpty()) {
            f.withIndicators++;
        }
        Set<String> read = new HashSet<>(result.takenFields());
        for (Indicator i : result.indicators()) {
            read.add(i.field());
        }
        Set<String> seen = new HashSet<>();
        IocShapes.walk(alert.json(), (path, value) -> {
            if (read.contains(path) || !seen.add(path)) {
                return;
            }
            IocShapes.shapeOf(value).ifPresent(shape -> {
                Field field = f.fields.get(path);
                if (field == null) {
                    String key = f.fields.size() < MAX_FIELDS ? path : OTHER;
                    field = f.fields.computeIfAbsent(key, k -> new Field(shape, value));
                }
                field.count++;
            });
        });
    }

    private Family family(String name) {
        Family f = families.get(name);
        if (f == null) {
            f = families.computeIfAbsent(families.size() < MAX_FAMILIES ? name : OTHER, k -> new Family());
        }
        return f;
    }

    /** {@code decoder · first rule group}, e.g. {@code windows_eventchannel · windows}, {@code json · amazon}. */
    static String familyOf(Alert alert) {
        String decoder = alert.getDecoder().isBlank() ? "-" : alert.getDecoder();
        JsonNode groups = alert.json().path("rule").path("groups");
        String first = groups.isArray() && !groups.isEmpty() ? groups.get(0).asText("").strip()
                : groups.isTextual() ? groups.asText().split(",")[0].strip() : "";
        return decoder + " · " + (first.isEmpty() ? "-" : first);
    }

    public long alerts() {
        return alerts;
    }

    public long failed() {
        return failed;
    }

    private List<Map.Entry<String, Family>> ordered() {
        return families.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, Family> e) -> e.getValue().alerts).reversed()
                        .thenComparing(Map.Entry::getKey))
                .toList();
    }

    private static List<Map.Entry<String, Field>> ordered(Family f) {
        return f.fields.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, Field> e) -> e.getValue().count).reversed()
                        .thenComparing(Map.Entry::getKey))
                .toList();
    }

    public JsonObject toJson() {
        JsonArray fams = new JsonArray();
        for (Map.Entry<String, Family> e : ordered()) {
            Family f = e.getValue();
            JsonArray fields = new JsonArray();
            for (Map.Entry<String, Field> fe : ordered(f)) {
                fields.add(new JsonObject().put("field", fe.getKey()).put("shape", fe.getValue().shape)
                        .put("count", fe.getValue().count).put("example", fe.getValue().example));
            }
            fams.add(new JsonObject().put("family", e.getKey()).put("alerts", f.alerts)
                    .put("with_indicators", f.withIndicators).put("own_events", f.ownEvents)
                    .put("unextracted", fields));
        }
        return new JsonObject().put("alerts", alerts).put("failed", failed).put("families", fams);
    }

    /** A plain-text table: one line per family, its unread indicator-shaped fields indented below it. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-52s %8s %10s  %s%n", "family (decoder · first group)", "alerts",
                "with IoCs", "IoC-shaped fields no rule read (shape, alerts, example)"));
        for (Map.Entry<String, Family> e : ordered()) {
            Family f = e.getValue();
            List<Map.Entry<String, Field>> fields = ordered(f);
            b.append(String.format(Locale.ROOT, "%-52s %8d %10d  %s%n", e.getKey(), f.alerts, f.withIndicators,
                    f.ownEvents > 0 ? "(" + f.ownEvents + " of the correlator's own events, not read)"
                            : fields.isEmpty() ? "-" : ""));
            for (Map.Entry<String, Field> fe : fields) {
                b.append(String.format(Locale.ROOT, "    %-60s %-6s %7d  %s%n", fe.getKey(), fe.getValue().shape,
                        fe.getValue().count, fe.getValue().example));
            }
        }
        b.append(String.format(Locale.ROOT, "%d alerts%s%n", alerts, failed > 0 ? ", " + failed + " failed in a rule" : ""));
        return b.toString();
    }
}
