package io.github.mispcorrelator.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A MISP's attributes for {@link FakeMisp}, answered as restSearch does for the local mirror's pulls: the
 * {@code to_ids}, {@code published}, {@code type}, {@code timestamp}, {@code event_timestamp},
 * {@code publish_timestamp} and {@code uuid} filters, then {@code page}/{@code limit} in id order, with MISP's
 * {@code X-Result-Count} (see {@link StrictMisp} for the source lines); and value searches (the live lookup) with
 * MISP's value semantics ({@link StrictMisp#filter}). Attributes can be added, changed and removed (hard deletion)
 * while it runs; {@link StrictMisp} models events, soft deletion and warning lists.
 */
public final class PagedMisp {
    private final List<JsonObject> attributes = new CopyOnWriteArrayList<>();
    private volatile Predicate<JsonObject> hiddenFromPages = a -> false;
    private int nextId = 1;

    /** Answers {@code misp}'s requests from these attributes from now on. */
    public PagedMisp serve(FakeMisp misp) {
        misp.answer(this::answer);
        return this;
    }

    /**
     * Adds an attribute of a published event.
     *
     * @param timestamp the attribute's timestamp (epoch seconds); its event was published then too
     */
    public synchronized JsonObject add(String uuid, String type, String value, long timestamp) {
        int id = nextId++;
        JsonObject a = FakeMisp.attribute(uuid, type, value).put("id", Integer.toString(id))
                .put("timestamp", Long.toString(timestamp));
        a.getJsonObject("Event").put("published", true).put("publish_timestamp", Long.toString(timestamp))
                .put("timestamp", Long.toString(timestamp));
        attributes.add(a);
        return a;
    }

    public void remove(String uuid) {
        attributes.removeIf(a -> a.getString("uuid").equals(uuid));
    }

    public JsonObject get(String uuid) {
        return attributes.stream().filter(a -> a.getString("uuid").equals(uuid)).findFirst().orElseThrow();
    }

    /** Replaces an attribute's JSON in place (same uuid). */
    public void replace(JsonObject attribute) {
        attributes.replaceAll(a -> a.getString("uuid").equals(attribute.getString("uuid")) ? attribute : a);
    }

    /** Attributes a paged pull does not see (as when MISP deletes rows while a pull pages), asked by uuid they are. */
    public void hideFromPages(Predicate<JsonObject> hidden) {
        this.hiddenFromPages = hidden;
    }

    public int size() {
        return attributes.size();
    }

    private FakeMisp.Answer answer(FakeMisp.Request r) {
        if (r.path().equals("/servers/getVersion.json")) {
            return FakeMisp.Answer.json(200, "{\"version\":\"2.5.1\",\"perm_sync\":false}");
        }
        if (!r.path().equals("/attributes/restSearch")) {
            return FakeMisp.Answer.json(404, "{\"name\":\"Not Found\",\"message\":\"Not Found\"}");
        }
        JsonObject q = r.json();
        List<JsonObject> found = new ArrayList<>();
        for (JsonObject a : attributes) {
            if (matches(q, a)) {
                found.add(a);
            }
        }
        found.sort(Comparator.comparingInt(a -> Integer.parseInt(a.getString("id"))));
        if (!q.containsKey("value") && !q.containsKey("uuid")) {
            found.removeIf(hiddenFromPages);
        }
        int limit = q.getInteger("limit", Integer.MAX_VALUE);
        int page = q.getInteger("page", 1);
        long from = (long) (page - 1) * limit;
        List<JsonObject> slice = from >= found.size() ? List.of()
                : found.subList((int) from, (int) Math.min(found.size(), from + limit));
        // X-Result-Count: the page's rows, plus one when it came back full (MispAttribute.php:3336-3386)
        int count = slice.size() + (q.containsKey("limit") && slice.size() >= limit ? 1 : 0);
        return new FakeMisp.Answer(200, java.util.Map.of("Content-Type", "application/json",
                "X-Result-Count", Integer.toString(count)), new JsonObject().put("response", new JsonObject()
                .put("Attribute", new JsonArray(new ArrayList<>(slice)))).encode(), 0);
    }

    private static boolean matches(JsonObject q, JsonObject a) {
        JsonObject event = a.getJsonObject("Event");
        if (q.getBoolean("to_ids", false) && !a.getBoolean("to_ids", false)) {
            return false;
        }
        if (q.getBoolean("published", false) && !event.getBoolean("published", false)) {
            return false;
        }
        if (q.containsKey("type") && !q.getJsonArray("type").contains(a.getString("type"))) {
            return false;
        }
        if (q.containsKey("timestamp") && Long.parseLong(a.getString("timestamp")) < Long.parseLong(q.getString("timestamp"))) {
            return false;
        }
        if (q.containsKey("event_timestamp") && Long.parseLong(event.getString("timestamp", "0"))
                < Long.parseLong(q.getString("event_timestamp"))) {
            return false;
        }
        if (q.containsKey("publish_timestamp") && Long.parseLong(event.getString("publish_timestamp", "0"))
                < Long.parseLong(q.getString("publish_timestamp"))) {
            return false;
        }
        if (q.containsKey("uuid") && !q.getJsonArray("uuid").contains(a.getString("uuid"))) {
            return false;
        }
        if (q.containsKey("value")) {
            String v = a.getString("value");
            int bar = v.indexOf('|');
            return StrictMisp.filter(q.getValue("value"), bar < 0 ? List.of(v, "")
                    : List.of(v.substring(0, bar), v.substring(bar + 1)), true);
        }
        return true;
    }
}
