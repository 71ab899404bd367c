package io.github.mispcorrelator.support;

import io.github.mispcorrelator.indicator.IpAddresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * A MISP 2.5 for {@link FakeMisp} that is as unkind as the real one: events and attributes with the timestamps MISP
 * moves, restSearch with MISP's filter semantics, warning lists applied after the SQL LIMIT, rate limiting, sightings
 * and the warning-list API. Each behaviour follows MISP's source (MISP/MISP at bb0909a3, VERSION.json 2.5.1):
 * <ul>
 *   <li><b>Defaults</b>: the json export is non-restrictive, so an absent {@code to_ids} or {@code published} filter
 *       means both (app/Lib/Export/JsonExport.php:5, app/Model/MispAttribute.php:3194-3201); an absent
 *       {@code deleted} means {@code deleted = 0} (MispAttribute.php:1933-1940); {@code deleted: [0,1]} returns both
 *       (Event.php:2819-2836 set_filter_deleted, AppModel.php:3596-3630 convert_filters), {@code deleted: 1} only
 *       the deleted ones.</li>
 *   <li><b>Values</b> ({@code value}, and {@code tags}): a list entry starting with {@code !} is a negation
 *       (AppModel.php:3614-3625); the {@code {"OR": [...]}} form is taken as is, so {@code !} there is a literal
 *       character (AppModel.php:3613, Event.php:2956-2976); an entry starting or ending with {@code %} becomes
 *       {@code LIKE} (plus equality) in either form, with no escape (AppModel.php:3543-3553). Values are compared
 *       with both halves of a composite ({@code value1}, {@code value2}; Event.php:2974).</li>
 *   <li><b>Timestamps</b>: {@code timestamp} is Attribute.timestamp, {@code event_timestamp} Event.timestamp,
 *       {@code publish_timestamp} Event.publish_timestamp, all "at or after" (Event.php:3031-3087). Soft deletion sets
 *       {@code deleted}, moves Attribute.timestamp and unpublishes the event, moving Event.timestamp
 *       (MispAttribute.php:3051-3072, Event.php:6028-6052); an attribute edit ({@code to_ids}) or an attribute tag
 *       does the same (AttributesController.php:917-921, MispAttribute.php:2227-2253 touch,
 *       AttributesController.php:2737); an event tag or event edit (threat level) moves only Event.timestamp and
 *       unpublishes (EventsController.php:3951, Event.php:6028-6052); publishing sets {@code published} and
 *       {@code publish_timestamp} (Event.php:4805-4806).</li>
 *   <li><b>Tags</b>: {@code tags} includes match event or attribute tags; {@code !tag} exclusions, in attribute
 *       scope, only attribute tags (MispAttribute.php:1096-1183). Non-exportable tags are left out unless
 *       {@code includeAllTags} (MispAttribute.php:2160, 2199). The answer carries attribute tags, then event tags with
 *       {@code "inherited": 1} in {@code Attribute.Tag} (with {@code includeEventTags}, JsonExport.php:51-62), and
 *       with {@code includeContext} the event's fields and its own {@code Event.Tag} (MispAttribute.php:2099-2133).</li>
 *   <li><b>Paging</b>: {@code limit}/{@code page} are the SQL LIMIT/OFFSET; without {@code order} there is no ORDER
 *       BY (MispAttribute.php:1891-1902) — here: newest change first, so pages shift when rows change between them;
 *       {@code order: "Attribute.id ASC"} is honoured (AppModel.php:4227). Warning lists ({@code enforceWarninglist})
 *       drop attributes after the LIMIT (MispAttribute.php:2025-2028), so a page may be short while more rows exist.
 *       {@code X-Result-Count} is the SQL row count of the page, plus one when the page came back full
 *       (MispAttribute.php:3336-3386, AppController.php:1442); a limit above {@code memory_limit × 50} is fetched in
 *       chunks and counts only the first chunk (MispAttribute.php:3306-3312, 3345-3362).</li>
 *   <li><b>Rate limit</b> (restSearch of attributes and events only; getVersion, sightings and warning lists are never
 *       limited): past {@code count} searches in the window, 429 with {@code X-Rate-Limit-Limit},
 *       {@code -Remaining}, {@code -Reset} (seconds left) and no {@code Retry-After}
 *       (RateLimitComponent.php:6-13, 43-69; AppController.php:874-900; RestResponseComponent.php:828-836).</li>
 *   <li><b>Sightings</b> ({@code /sightings/add}): {@code id} may be a {@code |}-separated list of numeric ids, a
 *       single 36-character value is a uuid (Sighting.php:815-821, 929-941); {@code values} mark every attribute whose
 *       value1 or value2 equals one, in any event (Sighting.php:822-838); {@code timestamp} is the sighting's date
 *       (SightingsController.php:52); deleted attributes are not excluded (MispAttribute.php:1747-1770
 *       fetchAttributesSimple). Nothing matched: HTTP 200 with {@code {"message": "Could not add the Sighting.
 *       Reason: ..."}} (SightingsController.php:83-87, Sighting.php:850-852).</li>
 *   <li><b>Warning lists</b>: {@code GET /warninglists/index/enabled:1} (WarninglistsController.php:23-56),
 *       {@code GET /warninglists/view/{id}} with entries and types (WarninglistsController.php:358-385); matching as
 *       Warninglist.php:568-600 and 635-729 (string, substring, hostname, cidr, regex; both halves of a composite).</li>
 * </ul>
 */
public final class StrictMisp {
    public record Tag(int id, String name, boolean exportable) {
    }

    public static final class Event {
        public final int id;
        public final String uuid;
        public String info;
        public int threatLevel = 2;
        public boolean published = true;
        public long timestamp;
        public long publishTimestamp;
        public final List<Tag> tags = new CopyOnWriteArrayList<>();

        Event(int id, String uuid, String info, long now) {
            this.id = id;
            this.uuid = uuid;
            this.info = info;
            this.timestamp = now;
            this.publishTimestamp = now;
        }
    }

    public static final class Attribute {
        public final int id;
        public final String uuid;
        public final Event event;
        public final String type;
        public final String value;
        public String category = "Network activity";
        public boolean toIds = true;
        public boolean deleted;
        public long timestamp;
        public final List<Tag> tags = new CopyOnWriteArrayList<>();

        Attribute(int id, String uuid, Event event, String type, String value, long timestamp) {
            this.id = id;
            this.uuid = uuid;
            this.event = event;
            this.type = type;
            this.value = value;
            this.timestamp = timestamp;
        }

        String value1() {
            int bar = value.indexOf('|');
            return type.contains("|") || type.equals("malware-sample") ? (bar < 0 ? value : value.substring(0, bar)) : value;
        }

        String value2() {
            int bar = value.indexOf('|');
            return (type.contains("|") || type.equals("malware-sample")) && bar >= 0 ? value.substring(bar + 1) : "";
        }
    }

    public record Warninglist(int id, String name, String type, String category, Set<String> types, List<String> entries,
                              boolean enabled) {
    }

    public record Sighting(int attributeId, long timestamp, String source, String type) {
    }

    private final Map<Integer, Event> events = new HashMap<>();
    private final List<Attribute> attributes = new CopyOnWriteArrayList<>();
    private final List<Warninglist> warninglists = new CopyOnWriteArrayList<>();
    private final List<Sighting> sightings = new CopyOnWriteArrayList<>();
    private final Map<String, Tag> tagsByName = new HashMap<>();
    private volatile LongSupplier clock = () -> System.currentTimeMillis() / 1000;
    private int nextEvent = 1;
    private int nextAttribute = 1;
    private volatile int memoryLimitMb = 2048;
    // rate limiting: searches allowed per window, the window's end
    private int rateLimit;
    private long rateWindowSeconds = 900;
    private int rateCount;
    private long rateWindowEnds;

    public StrictMisp serve(FakeMisp misp) {
        misp.answer(this::answer);
        return this;
    }

    public StrictMisp clock(LongSupplier epochSeconds) {
        this.clock = epochSeconds;
        return this;
    }

    long now() {
        return clock.getAsLong();
    }

    /** PHP's memory_limit for the API user's role, in MB (AppController.php:316-318). */
    public StrictMisp memoryLimitMb(int mb) {
        this.memoryLimitMb = mb;
        return this;
    }

    /** The role's {@code rate_limit_count} per window (MISP's window is 900 s); 0 = not rate-limited. */
    public synchronized StrictMisp rateLimit(int count, long windowSeconds) {
        this.rateLimit = count;
        this.rateWindowSeconds = windowSeconds;
        this.rateCount = 0;
        this.rateWindowEnds = 0;
        return this;
    }

    // ---- data ------------------------------------------------------------------------------------------------------

    public synchronized Event event(String uuid, String info) {
        Event e = new Event(nextEvent++, uuid, info, now());
        events.put(e.id, e);
        return e;
    }

    public synchronized Attribute add(Event event, String uuid, String type, String value, long timestamp) {
        Attribute a = new Attribute(nextAttribute++, uuid, event, type, value, timestamp);
        attributes.add(a);
        return a;
    }

    public synchronized Tag tag(String name, boolean exportable) {
        return tagsByName.computeIfAbsent(name, n -> new Tag(tagsByName.size() + 1, n, exportable));
    }

    public Attribute attribute(String uuid) {
        return attributes.stream().filter(a -> a.uuid.equals(uuid)).findFirst().orElseThrow();
    }

    public List<Attribute> attributes() {
        return List.copyOf(attributes);
    }

    /** Soft deletion as MISP does it by default. */
    public synchronized void delete(String uuid) {
        Attribute a = attribute(uuid);
        a.deleted = true;
        touch(a);
    }

    public synchronized void setToIds(String uuid, boolean toIds) {
        Attribute a = attribute(uuid);
        a.toIds = toIds;
        touch(a);
    }

    public synchronized void tagAttribute(String uuid, Tag tag) {
        Attribute a = attribute(uuid);
        a.tags.add(tag);
        touch(a);
    }

    public synchronized void tagEvent(Event e, Tag tag) {
        e.tags.add(tag);
        unpublish(e);
    }

    public synchronized void setThreatLevel(Event e, int level) {
        e.threatLevel = level;
        unpublish(e);
    }

    public synchronized void publish(Event e) {
        e.published = true;
        e.publishTimestamp = now();
    }

    private void touch(Attribute a) {
        a.timestamp = now();
        unpublish(a.event);
    }

    private void unpublish(Event e) {
        e.published = false;
        e.timestamp = now();
    }

    public synchronized Warninglist warninglist(String name, String type, Set<String> types, List<String> entries) {
        Warninglist w = new Warninglist(warninglists.size() + 1, name, type, "false_positive", types, entries, true);
        warninglists.add(w);
        return w;
    }

    public List<Sighting> sightings() {
        return List.copyOf(sightings);
    }

    // ---- HTTP ------------------------------------------------------------------------------------------------------

    private FakeMisp.Answer answer(FakeMisp.Request r) {
        String path = r.path();
        if (path.equals("/servers/getVersion.json")) {
            return FakeMisp.Answer.json(200, "{\"version\":\"2.5.1\",\"perm_sync\":false,\"perm_sighting\":true}");
        }
        if (path.equals("/attributes/restSearch")) {
            synchronized (this) {
                FakeMisp.Answer limited = rateLimited(path);
                if (limited != null) {
                    return limited;
                }
                return restSearch(r.json());
            }
        }
        if (path.equals("/sightings/add")) {
            synchronized (this) {
                return addSighting(r.json());
            }
        }
        if (path.startsWith("/warninglists/index")) {
            boolean onlyEnabled = path.contains("enabled:1");
            JsonArray out = new JsonArray();
            for (Warninglist w : warninglists) {
                if (!onlyEnabled || w.enabled()) {
                    out.add(new JsonObject().put("Warninglist", listJson(w)
                            .put("warninglist_entry_count", Integer.toString(w.entries().size()))
                            .put("valid_attributes", String.join(", ", w.types()))));
                }
            }
            return FakeMisp.Answer.json(200, new JsonObject().put("Warninglists", out).encode());
        }
        if (path.startsWith("/warninglists/view/")) {
            String id = path.substring("/warninglists/view/".length());
            for (Warninglist w : warninglists) {
                if (Integer.toString(w.id()).equals(id)) {
                    JsonArray entries = new JsonArray();
                    w.entries().forEach(e -> entries.add(new JsonObject().put("id", "1").put("value", e)
                            .put("warninglist_id", id).put("comment", null)));
                    JsonArray types = new JsonArray();
                    w.types().forEach(t -> types.add(new JsonObject().put("id", "1").put("type", t).put("warninglist_id", id)));
                    return FakeMisp.Answer.json(200, new JsonObject().put("Warninglist", listJson(w)
                            .put("WarninglistEntry", entries).put("WarninglistType", types)).encode());
                }
            }
            return notFound(path, "Warninglist not found.");
        }
        return notFound(path, "Not Found");
    }

    private static JsonObject listJson(Warninglist w) {
        return new JsonObject().put("id", Integer.toString(w.id())).put("name", w.name()).put("type", w.type())
                .put("description", w.name()).put("version", "1").put("enabled", w.enabled()).put("default", true)
                .put("category", w.category());
    }

    private static FakeMisp.Answer notFound(String path, String message) {
        return FakeMisp.Answer.json(404, new JsonObject().put("name", message).put("message", message).put("url", path).encode());
    }

    private FakeMisp.Answer rateLimited(String path) {
        if (rateLimit <= 0) {
            return null;
        }
        long now = now();
        if (now >= rateWindowEnds) {
            rateCount = 0;
            rateWindowEnds = 0;
        }
        if (rateCount >= rateLimit) {
            String body = new JsonObject().put("name", "Rate limit exceeded.").put("message", "Rate limit exceeded.")
                    .put("url", path).encode();
            return new FakeMisp.Answer(429, Map.of("Content-Type", "application/json",
                    "X-Rate-Limit-Limit", Integer.toString(rateLimit),
                    "X-Rate-Limit-Remaining", Integer.toString(rateLimit - rateCount),
                    "X-Rate-Limit-Reset", Long.toString(rateWindowEnds - now)), body, 0);
        }
        if (++rateCount == 1) {
            rateWindowEnds = now + rateWindowSeconds;
        }
        return null;
    }

    private FakeMisp.Answer restSearch(JsonObject q) {
        List<Attribute> rows = new ArrayList<>();
        // the type list is converted once per request (20,000 attributes are asked about per page)
        Map<String, List<String>> types = q.containsKey("type") ? convertFilters(q.getValue("type")) : null;
        Set<String> typeIn = types == null ? null : new java.util.HashSet<>(types.getOrDefault("OR", List.of()));
        JsonObject rest = q.copy();
        rest.remove("type");
        for (Attribute a : attributes) {
            if ((typeIn == null || typeIn.contains(a.type)) && matches(rest, a)) {
                rows.add(a);
            }
        }
        String order = q.getString("order");
        if (order != null && order.toLowerCase(Locale.ROOT).matches("(attribute\\.)?id( asc)?")) {
            rows.sort(Comparator.comparingInt(a -> a.id));
        } else {
            // no ORDER BY: whatever the index gives; here newest change first
            rows.sort(Comparator.<Attribute>comparingLong(a -> -a.timestamp).thenComparingInt(a -> a.id));
        }
        Integer limit = q.getInteger("limit");
        int page = q.getInteger("page", 1);
        List<Attribute> slice = rows;
        int sqlCount;
        int increment = 0;
        boolean enforce = Boolean.TRUE.equals(truthy(q.getValue("enforceWarninglist")));
        List<Attribute> kept = new ArrayList<>();
        if (limit != null) {
            long from = (long) (page - 1) * limit;
            slice = from >= rows.size() ? List.of() : rows.subList((int) from, (int) Math.min(rows.size(), from + limit));
            int maxLimit = memoryLimitMb * 50;
            // MISP fetches in chunks of maxLimit and counts only the first chunk's rows
            sqlCount = limit > maxLimit ? Math.min(slice.size(), maxLimit) : slice.size();
        } else {
            sqlCount = rows.size();
        }
        for (Attribute a : slice) {
            if (enforce && warned(a)) {
                continue;
            }
            kept.add(a);
        }
        if (limit != null && limit <= memoryLimitMb * 50 && kept.size() >= limit) {
            increment = 1;
        }
        boolean allTags = Boolean.TRUE.equals(truthy(q.getValue("includeAllTags")));
        boolean context = Boolean.TRUE.equals(truthy(q.getValue("includeContext")));
        boolean eventTags = Boolean.TRUE.equals(truthy(q.getValue("includeEventTags")));
        JsonArray out = new JsonArray();
        for (Attribute a : kept) {
            out.add(json(a, allTags, context, eventTags));
        }
        String body = new JsonObject().put("response", new JsonObject().put("Attribute", out)).encode();
        return new FakeMisp.Answer(200, Map.of("Content-Type", "application/json",
                "X-Result-Count", Integer.toString(sqlCount + increment),
                "X-Skipped-Elements-Count", Integer.toString(slice.size() - kept.size())), body, 0);
    }

    private boolean matches(JsonObject q, Attribute a) {
        if (q.containsKey("type") && !filter(q.getValue("type"), List.of(a.type), false)) {
            return false;
        }
        if (q.containsKey("value") && !filter(q.getValue("value"), List.of(a.value1(), a.value2()), true)) {
            return false;
        }
        if (q.containsKey("uuid") && !filter(q.getValue("uuid"), List.of(a.uuid), false)) {
            return false;
        }
        if (q.containsKey("to_ids") && !oneOf(q.getValue("to_ids"), a.toIds)) {
            return false;
        }
        if (q.containsKey("published") && !oneOf(q.getValue("published"), a.event.published)) {
            return false;
        }
        Object deleted = q.getValue("deleted");
        if (deleted == null ? a.deleted : !oneOf(deleted, a.deleted)) {
            return false;
        }
        if (q.containsKey("timestamp") && a.timestamp < number(q.getValue("timestamp"))) {
            return false;
        }
        if (q.containsKey("event_timestamp") && a.event.timestamp < number(q.getValue("event_timestamp"))) {
            return false;
        }
        if (q.containsKey("publish_timestamp") && a.event.publishTimestamp < number(q.getValue("publish_timestamp"))) {
            return false;
        }
        if (q.containsKey("tags")) {
            Map<String, List<String>> f = convertFilters(q.getValue("tags"));
            Set<String> attributeTags = new LinkedHashSet<>();
            a.tags.forEach(t -> attributeTags.add(t.name()));
            Set<String> all = new LinkedHashSet<>(attributeTags);
            a.event.tags.forEach(t -> all.add(t.name()));
            List<String> include = f.getOrDefault("OR", List.of());
            if (!include.isEmpty() && include.stream().noneMatch(all::contains)) {
                return false;
            }
            // attribute scope: exclusions look at attribute tags only
            if (f.getOrDefault("NOT", List.of()).stream().anyMatch(attributeTags::contains)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a value filter (list, OR/NOT object, or "a&&!b" string) lets one of these field values through. */
    public static boolean filter(Object filter, List<String> fields, boolean like) {
        Map<String, List<String>> f = convertFilters(filter);
        List<String> or = f.getOrDefault("OR", List.of());
        if (!or.isEmpty()) {
            boolean any = false;
            for (String v : or) {
                for (String field : fields) {
                    if (field.equals(v) || (like && isLike(v) && like(v, field))) {
                        any = true;
                    }
                }
            }
            if (!any) {
                return false;
            }
        }
        for (String v : f.getOrDefault("NOT", List.of())) {
            for (String field : fields) {
                if (field.equals(v) || (like && isLike(v) && like(v, field))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** AppModel::convert_filters. */
    static Map<String, List<String>> convertFilters(Object filter) {
        Map<String, List<String>> out = new HashMap<>();
        if (filter instanceof JsonObject o) {
            for (String op : List.of("OR", "NOT", "AND")) {
                Object v = o.getValue(op);
                if (v instanceof JsonArray arr) {
                    arr.forEach(x -> out.computeIfAbsent(op, k -> new ArrayList<>()).add(String.valueOf(x)));
                } else if (v != null) {
                    out.computeIfAbsent(op, k -> new ArrayList<>()).add(String.valueOf(v));
                }
            }
            return out;
        }
        List<String> items = new ArrayList<>();
        if (filter instanceof JsonArray arr) {
            arr.forEach(x -> items.add(String.valueOf(x)));
        } else if (filter != null) {
            items.addAll(List.of(String.valueOf(filter).split("&&")));
        }
        for (String s : items) {
            if (s.isEmpty()) {
                continue;
            }
            if (s.charAt(0) == '!') {
                out.computeIfAbsent("NOT", k -> new ArrayList<>()).add(s.substring(1));
            } else {
                out.computeIfAbsent("OR", k -> new ArrayList<>()).add(s);
            }
        }
        return out;
    }

    static boolean isLike(String v) {
        return !v.isEmpty() && (v.charAt(0) == '%' || v.charAt(v.length() - 1) == '%');
    }

    /** MySQL LIKE, case-insensitive as MISP's default collation: % any run, _ any one character. */
    static boolean like(String pattern, String value) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            re.append(c == '%' ? ".*" : c == '_' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE | Pattern.DOTALL).matcher(value).matches();
    }

    private static boolean oneOf(Object filter, boolean actual) {
        if (filter instanceof JsonArray arr) {
            for (Object x : arr) {
                if (Boolean.valueOf(actual).equals(truthy(x))) {
                    return true;
                }
            }
            return false;
        }
        if ("only".equals(filter)) {
            return actual;
        }
        return Boolean.valueOf(actual).equals(truthy(filter));
    }

    private static Boolean truthy(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = String.valueOf(v);
        return !(s.isEmpty() || s.equals("0") || s.equalsIgnoreCase("false"));
    }

    private static long number(Object v) {
        return v instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(v).strip());
    }

    private JsonObject json(Attribute a, boolean allTags, boolean context, boolean eventTags) {
        JsonObject o = new JsonObject()
                .put("id", Integer.toString(a.id)).put("event_id", Integer.toString(a.event.id)).put("object_id", "0")
                .put("object_relation", null).put("category", a.category).put("type", a.type).put("to_ids", a.toIds)
                .put("uuid", a.uuid).put("timestamp", Long.toString(a.timestamp)).put("distribution", "5")
                .put("sharing_group_id", "0").put("comment", "").put("deleted", a.deleted)
                .put("disable_correlation", false).put("first_seen", null).put("last_seen", null).put("value", a.value);
        JsonObject event;
        if (context) {
            JsonArray tags = new JsonArray();
            for (Tag t : a.event.tags) {
                if (allTags || t.exportable()) {
                    tags.add(new JsonObject().put("local", false).put("id", Integer.toString(t.id())).put("name", t.name())
                            .put("colour", "#ffffff").put("numerical_value", null));
                }
            }
            event = new JsonObject().put("id", Integer.toString(a.event.id)).put("orgc_id", "1").put("org_id", "1")
                    .put("date", "2025-09-01").put("threat_level_id", Integer.toString(a.event.threatLevel))
                    .put("info", a.event.info).put("published", a.event.published).put("uuid", a.event.uuid)
                    .put("analysis", "2").put("timestamp", Long.toString(a.event.timestamp)).put("distribution", "1")
                    .put("publish_timestamp", Long.toString(a.event.publishTimestamp)).put("sharing_group_id", "0")
                    .put("extends_uuid", "").put("Tag", tags)
                    .put("Orgc", new JsonObject().put("id", "1").put("name", "ORGNAME").put("uuid", "5f6e7b5a-0000-4000-8000-000000000001"));
        } else {
            event = new JsonObject().put("org_id", "1").put("distribution", "1").put("id", Integer.toString(a.event.id))
                    .put("info", a.event.info).put("orgc_id", "1").put("uuid", a.event.uuid)
                    .put("publish_timestamp", Long.toString(a.event.publishTimestamp));
        }
        o.put("Event", event);
        JsonArray tags = new JsonArray();
        for (Tag t : a.tags) {
            if (allTags || t.exportable()) {
                tags.add(new JsonObject().put("id", Integer.toString(t.id())).put("name", t.name()).put("colour", "#ffffff")
                        .put("numerical_value", null).put("is_galaxy", false).put("local", false));
            }
        }
        if (eventTags) {
            for (Tag t : a.event.tags) {
                if (allTags || t.exportable()) {
                    tags.add(new JsonObject().put("id", Integer.toString(t.id())).put("name", t.name()).put("colour", "#ffffff")
                            .put("numerical_value", null).put("inherited", 1));
                }
            }
        }
        if (!tags.isEmpty()) {
            o.put("Tag", tags);
        }
        return o;
    }

    private FakeMisp.Answer addSighting(JsonObject body) {
        if (body.containsKey("request")) {
            body = body.getJsonObject("request");
        }
        long timestamp = body.containsKey("timestamp") ? number(body.getValue("timestamp")) : now();
        String source = body.getString("source", "");
        String type = String.valueOf(body.getValue("type", "0"));
        List<Attribute> matched = new ArrayList<>();
        Object id = body.getValue("id", body.getValue("uuid"));
        if (id != null) {
            String ids = String.valueOf(id);
            if (ids.contains("|")) {
                Set<String> wanted = new LinkedHashSet<>();
                for (String s : ids.split("\\|")) {
                    if (s.matches("\\d+")) {
                        wanted.add(s);
                    }
                }
                attributes.stream().filter(a -> wanted.contains(Integer.toString(a.id))).forEach(matched::add);
            } else if (ids.length() == 36) {
                attributes.stream().filter(a -> a.uuid.equals(ids)).forEach(matched::add);
            } else {
                attributes.stream().filter(a -> Integer.toString(a.id).equals(ids)).forEach(matched::add);
            }
        } else {
            List<String> values = new ArrayList<>();
            if (body.getValue("value") != null) {
                values.add(body.getString("value"));
            } else if (body.getValue("values") instanceof JsonArray arr) {
                arr.forEach(v -> values.add(String.valueOf(v)));
            }
            if (values.isEmpty()) {
                return sightingFailed("No valid attributes found.");
            }
            attributes.stream().filter(a -> (values.contains(a.value1()) || values.contains(a.value2())))
                    .forEach(matched::add);
        }
        if (matched.isEmpty()) {
            return sightingFailed("No valid attributes found that match the criteria.");
        }
        JsonObject last = null;
        for (Attribute a : matched) {
            sightings.add(new Sighting(a.id, timestamp, source, type));
            last = new JsonObject().put("id", Integer.toString(sightings.size())).put("attribute_id", Integer.toString(a.id))
                    .put("event_id", Integer.toString(a.event.id)).put("org_id", "1")
                    .put("date_sighting", Long.toString(timestamp)).put("source", source).put("type", type);
        }
        return FakeMisp.Answer.json(200, new JsonObject().put("Sighting", last).encode());
    }

    private static FakeMisp.Answer sightingFailed(String reason) {
        return FakeMisp.Answer.json(200, new JsonObject().put("message", "Could not add the Sighting. Reason: " + reason).encode());
    }

    // ---- warning lists (Warninglist.php:635-729) --------------------------------------------------------------------

    private boolean warned(Attribute a) {
        for (Warninglist w : warninglists) {
            if (w.enabled() && (w.types().contains("ALL") || w.types().contains(a.type)) && listed(w, a)) {
                return true;
            }
        }
        return false;
    }

    private static boolean listed(Warninglist w, Attribute a) {
        List<String> values = a.type.equals("malware-sample") || a.type.contains("|")
                ? List.of(a.value.split("\\|", 2)) : List.of(a.value);
        for (String v : values) {
            switch (w.type()) {
                case "string" -> {
                    if (w.entries().contains(v)) {
                        return true;
                    }
                }
                case "substring" -> {
                    if (w.entries().stream().anyMatch(v::contains)) {
                        return true;
                    }
                }
                case "hostname" -> {
                    String host = v.contains("//") ? (v.split("/").length > 2 ? v.split("/")[2] : "") : v.split("/")[0];
                    host = host.replaceAll("\\.+$", "");
                    String[] parts = host.split("\\.");
                    String rebuilt = "";
                    Set<String> entries = new java.util.HashSet<>();
                    w.entries().forEach(e -> entries.add(e.toLowerCase(Locale.ROOT).replaceAll("^\\.+|\\.+$", "")));
                    for (int i = parts.length - 1; i >= 0; i--) {
                        rebuilt = rebuilt.isEmpty() ? parts[i] : parts[i] + "." + rebuilt;
                        if (entries.contains(rebuilt)) {
                            return true;
                        }
                    }
                }
                case "cidr" -> {
                    if (w.entries().stream().anyMatch(c -> inCidr(v, c))) {
                        return true;
                    }
                }
                default -> {
                }
            }
        }
        return false;
    }

    static boolean inCidr(String ip, String cidr) {
        String[] parts = cidr.split("/");
        var net = IpAddresses.parse(parts[0]);
        var addr = IpAddresses.parse(ip);
        if (net.isEmpty() || addr.isEmpty() || net.get().getAddress().length != addr.get().getAddress().length) {
            return false;
        }
        int bits = parts.length > 1 ? Integer.parseInt(parts[1].strip()) : net.get().getAddress().length * 8;
        return IpAddresses.inBlock(addr.get().getAddress(), net.get().getAddress(), bits);
    }
}
