package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Where indicators are looked up: a MISP server over HTTP, or a MISP feed held in memory. Never blocks. */
public interface MispSource {

    /**
     * Looks up the indicators of one alert. The future always succeeds: a failed lookup is reported per indicator
     * in {@link LookupResult#errors()}, so the caller can still tell Wazuh that a value went unchecked.
     */
    Future<LookupResult> lookup(List<Indicator> indicators);

    /** Names this source in hits and events ({@code https://misp.example.org} or {@code feed:config/demo-feed}). */
    String name();

    /** Whether lookups can be answered now (for {@code /health/ready}); a remote MISP is not probed here. */
    default boolean ready() {
        return true;
    }

    /**
     * This source's entry in {@code GET /v1/misp/status}: how it answers ({@code mode}: live, feed, mirror) and its
     * state. A live MISP says only its name; the local mirror its pulls, role and progress.
     */
    default JsonObject status() {
        return new JsonObject().put("instance", name()).put("mode", "live");
    }

    /** The entries of {@code GET /v1/misp/status}, one per MISP instance or feed: several sources compose theirs. */
    default List<JsonObject> statuses() {
        return List.of(status());
    }

    /**
     * {@code GET /v1/misp/status}: how lookups are answered (the first entry's mode: every configured MISP is
     * mirrored or none is), whether they can be now, and each instance's entry.
     */
    static JsonObject report(MispSource source) {
        List<JsonObject> entries = source.statuses();
        String mode = entries.isEmpty() ? "live" : entries.get(0).getString("mode", "live");
        return new JsonObject().put("mode", mode).put("ready", source.ready())
                .put("instances", new JsonArray(List.copyOf(entries)));
    }

    default Future<Void> close() {
        return Future.succeededFuture();
    }
}
