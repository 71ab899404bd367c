package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Several MISP instances asked together: every instance is asked, hits from all are kept (each says which instance
 * matched in {@link MispAttribute#instance()}), and a value counts as unchecked if any instance failed on it, so it
 * is checked again later.
 */
public final class MultiMispSource implements MispSource {
    private final List<MispSource> sources;

    public MultiMispSource(List<MispSource> sources) {
        this.sources = List.copyOf(sources);
    }

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        List<Future<LookupResult>> all = sources.stream().map(s -> s.lookup(indicators)).toList();
        return Future.all(all).map(v -> {
            Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
            Map<Indicator, String> errors = new LinkedHashMap<>();
            Map<Indicator, Instant> at = new LinkedHashMap<>();
            for (int i = 0; i < all.size(); i++) {
                LookupResult r = all.get(i).result();
                String instance = sources.get(i).name();
                r.matches().forEach((ind, attrs) -> matches.computeIfAbsent(ind, k -> new ArrayList<>()).addAll(attrs));
                r.errors().forEach((ind, e) -> errors.merge(ind, instance + ": " + e, (a, b) -> a + "; " + b));
                r.answeredAt().forEach((ind, t) -> at.merge(ind, t, (a, b) -> a.isBefore(b) ? a : b));
            }
            return new LookupResult(matches, errors, at);
        });
    }

    @Override
    public String name() {
        return sources.stream().map(MispSource::name).collect(Collectors.joining(","));
    }

    /** The instances' entries, in the configured order. */
    @Override
    public List<JsonObject> statuses() {
        return sources.stream().flatMap(s -> s.statuses().stream()).toList();
    }

    /** All of {@code GET /v1/misp/status} (several instances have no one entry). */
    @Override
    public JsonObject status() {
        return MispSource.report(this);
    }

    @Override
    public boolean ready() {
        return sources.stream().allMatch(MispSource::ready);
    }

    @Override
    public Future<Void> close() {
        return Future.all(sources.stream().map(MispSource::close).toList()).mapEmpty();
    }
}
