package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the body of {@code POST /attributes/restSearch}: the values in the body (never in the URL), the MISP types
 * that can hold them (composites included), the detection filters, and the event context scoring needs.
 */
public final class RestSearchRequest {
    /** restSearch pages its answer; one alert's values never come near this many attributes in practice. */
    static final int LIMIT = 1000;

    private RestSearchRequest() {
    }

    /** to_ids, published and warning lists, as configured: asked of MISP by lookups and by the mirror's pulls. */
    public static void detectionFilters(JsonObject body, MispSettings settings) {
        if (settings.toIds()) {
            body.put("to_ids", true);
        }
        if (settings.published()) {
            body.put("published", true);
        }
        if (settings.enforceWarninglist()) {
            // MISP drops values on its warning lists (public resolvers, CDNs, top domains): fewer false positives
            body.put("enforceWarninglist", true);
        }
    }

    /** Pages read for one question before giving up: 50 × 1000 attributes. */
    static final int MAX_PAGES = 50;

    public static JsonObject body(List<Indicator> indicators, MispSettings settings) {
        return body(indicators, settings, 1);
    }

    public static JsonObject body(List<Indicator> indicators, MispSettings settings, int page) {
        Set<String> values = new LinkedHashSet<>();
        Set<String> types = new LinkedHashSet<>();
        for (Indicator i : indicators) {
            values.add(i.value());
            types.addAll(i.type().mispTypes());
        }
        JsonObject body = new JsonObject()
                .put("returnFormat", "json")
                .put("value", new JsonArray(List.copyOf(values)))
                .put("type", new JsonArray(List.copyOf(types)))
                // event threat level, event uuid and info come with includeContext; event tags with includeEventTags
                .put("includeContext", true)
                .put("includeEventTags", true)
                .put("limit", LIMIT)
                .put("page", page);
        detectionFilters(body, settings);
        AttributeFilter f = settings.filter();
        if (!f.tagsInclude().isEmpty() || !f.tagsExclude().isEmpty()) {
            // MISP's tag filter: any listed tag, none of the "!"-prefixed ones (checked again on the answer)
            JsonArray tags = new JsonArray();
            f.tagsInclude().stream().sorted().forEach(tags::add);
            f.tagsExclude().stream().sorted().forEach(t -> tags.add("!" + t));
            body.put("tags", tags);
        }
        return body;
    }
}
