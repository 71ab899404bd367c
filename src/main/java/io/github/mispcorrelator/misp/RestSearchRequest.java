package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the body of {@code POST /attributes/restSearch}: the values in the body (never in the URL), the MISP types
 * that can hold them (composites included), the detection filters, and the event context scoring needs.
 * <p>MISP reinterprets values: in a plain list an entry starting with {@code !} is a negation
 * (app/Model/AppModel.php:3614-3625 convert_filters), which the {@code {"OR": [...]}} form avoids (taken as is,
 * AppModel.php:3613; Event.php:2956-2976 set_filter_value); an entry starting or ending with {@code %} becomes a
 * {@code LIKE} in either form and MISP has no escape (AppModel.php:3543-3553 generic_add_filter), so such values are
 * never sent ({@link #reinterpreted}).
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

    /**
     * Why MISP cannot be asked about this value without changing the question, or null when it can: a leading or
     * trailing {@code %} turns the value into a LIKE pattern ({@code http://%} would ask for every URL).
     */
    public static String reinterpreted(String value) {
        if (!value.isEmpty() && (value.charAt(0) == '%' || value.charAt(value.length() - 1) == '%')) {
            return UNCHECKED_PREFIX + "MISP reads a value starting or ending with % as a LIKE pattern and has no escape for it";
        }
        return null;
    }

    /** How an error for a value that is never asked of MISP starts (such an alert is not re-checked: asking again cannot help). */
    public static final String UNCHECKED_PREFIX = "not asked of MISP: ";

    /** MISP's value filter with the values taken literally: the OR form, where a leading {@code !} negates nothing. */
    static JsonObject literalValues(Collection<String> values) {
        return new JsonObject().put("OR", new JsonArray(List.copyOf(values)));
    }

    /**
     * Stable paging: without {@code order} MISP sends no ORDER BY (app/Model/MispAttribute.php:1891-1902), so
     * offset pages may overlap or skip rows; ordering by id is accepted by findOrder (MispAttribute.php:3273-3281).
     */
    public static final String ORDER = "Attribute.id ASC";

    /**
     * Whether another page may hold more: MISP's {@code X-Result-Count} is the page's SQL row count, plus one when it
     * came back full (MispAttribute.php:3336-3386), counted before warning lists drop attributes
     * (MispAttribute.php:2025-2028) — so a short page is no end while the count reaches the limit. Without the header
     * (a proxy dropped it), or with one counting fewer rows than came back (a limit above MISP's
     * {@code memory_limit × 50} is fetched in chunks and only the first chunk is counted, MispAttribute.php:3306-3312,
     * 3345-3362), a page cut by warning lists could be short too: then only an empty page ends.
     *
     * @param resultCount MISP's X-Result-Count, or null
     * @param filteredAfterLimit whether MISP drops attributes after the LIMIT (enforceWarninglist)
     */
    public static boolean morePages(Integer resultCount, int returned, int limit, boolean filteredAfterLimit) {
        if (resultCount != null && returned <= resultCount) {
            return resultCount >= limit;
        }
        return filteredAfterLimit ? returned > 0 : returned >= limit;
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
                .put("value", literalValues(values))
                .put("type", new JsonArray(List.copyOf(types)))
                // event threat level, event uuid and info come with includeContext; event tags with includeEventTags
                .put("includeContext", true)
                .put("includeEventTags", true)
                // non-exportable tags too: our own tag filters must see every tag (MispAttribute.php:2160, 2199)
                .put("includeAllTags", true)
                .put("order", ORDER)
                .put("limit", LIMIT)
                .put("page", page);
        detectionFilters(body, settings);
        AttributeFilter f = settings.filter();
        if (!f.tagsInclude().isEmpty() || !f.tagsExclude().isEmpty()) {
            // MISP's tag filter: any listed tag, none of the "!"-prefixed ones — in attribute scope MISP applies the
            // exclusions to attribute tags only, not event tags (MispAttribute.php:1160-1183): AttributeFilter checks
            // the answer again, event tags included
            JsonArray tags = new JsonArray();
            f.tagsInclude().stream().sorted().forEach(tags::add);
            f.tagsExclude().stream().sorted().forEach(t -> tags.add("!" + t));
            body.put("tags", tags);
        }
        return body;
    }
}
