package io.github.mispcorrelator.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Wazuh alert as the rules see it: the JSON object as Wazuh wrote it, plus accessors for the parts rules test
 * most. Fields are reached by dotted path ({@code data.win.eventdata.hashes}); a path segment that does not match
 * exactly is looked up ignoring case, because Sysmon for Linux capitalises keys ({@code DestinationIp}) that the
 * Windows decoder writes in camel case.
 */
public final class Alert {
    /** Group names that carry a Sysmon event id: stock ruleset, raised-level default rules, SOCFortress. */
    private static final Pattern SYSMON_GROUP = Pattern.compile("sysmon_eid(\\d{1,9})_detections|sysmon_event_?(\\d{1,9})");
    /** No Wazuh group name is near this long; longer ones are ignored, so DRL patterns never run over long text. */
    static final int MAX_GROUP = 256;
    /**
     * Alert timestamps the service accepts: PostgreSQL's timestamptz and the rules' {@code ageDays} both break on
     * years like +294277 or -4714; a Wazuh alert is never before 1970 nor centuries ahead.
     */
    public static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
    public static final Instant LATEST = Instant.parse("2200-01-01T00:00:00Z");

    /** Wazuh writes {@code 2025-08-13T08:45:06.785+0000}: no colon in the offset. */
    public static final DateTimeFormatter WAZUH_TIME = WazuhTime.WAZUH;


    /**
     * The alert as read from its bytes ({@link AlertParser}), decoded field by field as rules ask; null for an alert
     * built from a tree (stored alerts, look-back, tests).
     */
    private final AlertDocument document;
    /** The tree: given, or built from {@link #document} when first asked for ({@link #json()}). */
    private volatile ObjectNode json;
    private final String id;
    private final Set<String> groups;
    private final int sysmonEvent;

    public Alert(ObjectNode json, String fallbackId) {
        this.document = null;
        this.json = json;
        String ownId = text(json.path("id"));
        this.id = ownId != null && !ownId.isBlank() ? ownId : fallbackId;
        this.groups = readGroups(json.path("rule").path("groups"));
        this.sysmonEvent = readSysmonEvent();
    }

    Alert(AlertDocument document, String fallbackId) {
        this.document = document;
        int idSlot = document.member(0, "id");
        String ownId = idSlot < 0 ? null : document.text(idSlot);
        this.id = ownId != null && !ownId.isBlank() ? ownId : fallbackId;
        this.groups = readGroups(document, document.member(document.member(0, "rule"), "groups"));
        this.sysmonEvent = readSysmonEvent();
    }

    /** As {@link #readGroups(JsonNode)}, from the document: the same values, each as {@code asText("")} reads it. */
    private static Set<String> readGroups(AlertDocument d, int slot) {
        if (slot < 0) {
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        if (d.kind(slot) == AlertDocument.ARRAY) {
            for (int g = d.firstChild(slot); g >= 0; g = d.nextSibling(g)) {
                String text = d.text(g);
                String s = text == null ? "" : text.strip();
                if (!s.isEmpty() && s.length() <= MAX_GROUP) {
                    out.add(s);
                }
            }
        } else if (d.kind(slot) == AlertDocument.STRING) {
            splitGroups(d.text(slot), out);
        }
        return Set.copyOf(out);
    }

    private static void splitGroups(String text, Set<String> out) {
        for (String s : text.split(",")) {
            if (!s.isBlank() && s.strip().length() <= MAX_GROUP) {
                out.add(s.strip());
            }
        }
    }

    private static Set<String> readGroups(JsonNode node) {
        Set<String> out = new LinkedHashSet<>();
        if (node.isArray()) {
            node.forEach(g -> {
                // real alerts carry strings like " WEF" and "\n      authentication_success"
                String s = g.asText("").strip();
                if (!s.isEmpty() && s.length() <= MAX_GROUP) {
                    out.add(s);
                }
            });
        } else if (node.isTextual()) {
            splitGroups(node.asText(), out);
        }
        return Set.copyOf(out);
    }

    private int readSysmonEvent() {
        boolean sysmon = groups.stream().anyMatch(g -> g.startsWith("sysmon"))
                || get("data.win.system.providerName").map(p -> p.contains("Sysmon")).orElse(false);
        if (!sysmon) {
            return 0;
        }
        Optional<String> field = get("data.win.system.eventID").or(() -> get("data.system.eventID"));
        if (field.isPresent()) {
            try {
                return Integer.parseInt(field.get().strip());
            } catch (NumberFormatException ignored) {
                // fall through to the groups
            }
        }
        for (String g : groups) {
            Matcher m = SYSMON_GROUP.matcher(g);
            if (m.matches()) {
                return Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2));
            }
        }
        return 0;
    }

    // ---- accessors for rules -------------------------------------------------------------------------------

    /** The alert id ({@code <epoch>.<offset>}); for an alert without one, a digest of its content. */
    public String getId() {
        return id;
    }

    public String getManager() {
        return get("manager.name").orElse("");
    }

    public String getAgentId() {
        return get("agent.id").orElse("000");
    }

    public String getAgentName() {
        return get("agent.name").orElse("");
    }

    public String getAgentIp() {
        return get("agent.ip").orElse("");
    }

    public String getRuleId() {
        return get("rule.id").orElse("");
    }

    public int getRuleLevel() {
        if (document != null) {
            int slot = document.member(document.member(0, "rule"), "level");
            if (slot < 0) {
                return 0;
            }
            byte kind = document.kind(slot);
            return kind == AlertDocument.NUMBER ? document.intValue(slot)
                    : kind == AlertDocument.STRING ? parseIntOr(document.text(slot), 0) : 0;
        }
        JsonNode n = json.path("rule").path("level");
        return n.isNumber() ? n.asInt() : n.isTextual() ? parseIntOr(n.asText(), 0) : 0;
    }

    public String getRuleDescription() {
        return get("rule.description").orElse("");
    }

    public String getTimestamp() {
        return get("timestamp").orElse("");
    }

    /** The alert's timestamp in epoch seconds, when it has a readable one. */
    public OptionalLong getEpochSecond() {
        OptionalLong ms = getEpochMilli();
        return ms.isPresent() ? OptionalLong.of(Math.floorDiv(ms.getAsLong(), 1000)) : ms;
    }

    /**
     * The alert's timestamp in epoch milliseconds ({@code 2025-08-13T08:45:06.785+0000}, or ISO-8601), when it has
     * a readable one between {@link #EARLIEST} and {@link #LATEST} ({@link AlertParser} refuses alerts outside).
     */
    public OptionalLong getEpochMilli() {
        return instant().filter(i -> !i.isBefore(EARLIEST) && i.isBefore(LATEST))
                .map(i -> OptionalLong.of(i.toEpochMilli())).orElse(OptionalLong.empty());
    }

    /** The timestamp as written, parsed, whatever its year; empty when absent or unreadable. */
    Optional<Instant> instant() {
        // read by the parser, the store, the observation index and sightings: parse once (Optional is immutable,
        // so a racing second parse is harmless)
        Optional<Instant> t = instant;
        if (t == null) {
            t = WazuhTime.parse(getTimestamp());
            instant = t;
        }
        return t;
    }

    private Optional<Instant> instant;

    public String getLocation() {
        return get("location").orElse("");
    }

    public String getDecoder() {
        // several family rules test it on every alert
        String d = decoder;
        if (d == null) {
            d = get("decoder.name").orElse("");
            decoder = d;
        }
        return d;
    }

    private volatile String decoder;

    /** The rule groups, trimmed, as a set: order never matters. */
    public Set<String> getGroups() {
        return groups;
    }

    /**
     * The Sysmon event id (1 process create, 3 network connection, 22 DNS query …) from
     * {@code data.win.system.eventID} or {@code data.system.eventID}, or else from a group name such as
     * {@code sysmon_eid1_detections}, {@code sysmon_event3} or {@code sysmon_event_6}; 0 when not a Sysmon event.
     */
    public int getSysmonEvent() {
        return sysmonEvent;
    }

    /**
     * Whether this is one of the correlator's own events (or the old {@code custom-misp.py}'s) that Wazuh decoded
     * and raised as an alert ({@code data.integration: misp}); such an alert yields no indicator, or every hit would
     * be looked up again and answered with another event.
     */
    public boolean isCorrelatorEvent() {
        if (document != null) {
            int slot = document.member(document.member(0, "data"), "integration");
            return slot >= 0 && document.kind(slot) == AlertDocument.STRING && document.text(slot).equals("misp");
        }
        JsonNode integration = json.path("data").path("integration");
        return integration.isTextual() && integration.asText().equals("misp");
    }

    /** Whether any group, trimmed, matches the regular expression in full. */
    public boolean inGroup(String regex) {
        GroupTest test = GROUP_TESTS.get(regex);
        if (test == null) {
            test = GroupTest.of(regex);
            if (GROUP_TESTS.size() < 10_000) {
                GROUP_TESTS.put(regex, test);
            }
        }
        if (test.literals() != null) {
            // "fortigate|pfsense|osquery.*": set look-ups and prefixes, no regular expression on every group
            for (String literal : test.literals()) {
                if (groups.contains(literal)) {
                    return true;
                }
            }
            for (String prefix : test.prefixes()) {
                for (String g : groups) {
                    if (g.startsWith(prefix)) {
                        return true;
                    }
                }
            }
            return false;
        }
        for (String g : groups) {
            if (test.pattern().matcher(g).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A group condition compiled once: an alternation of plain names and {@code name.*} prefixes as two lists (what
     * nearly every rule writes), anything else as a pattern.
     */
    private record GroupTest(String[] literals, String[] prefixes, Pattern pattern) {
        private static final Pattern SIMPLE = Pattern.compile("[A-Za-z0-9_-]+(\\.\\*)?(\\|[A-Za-z0-9_-]+(\\.\\*)?)*");

        static GroupTest of(String regex) {
            if (!SIMPLE.matcher(regex).matches()) {
                return new GroupTest(null, null, Pattern.compile(regex));
            }
            List<String> literals = new ArrayList<>();
            List<String> prefixes = new ArrayList<>();
            for (String alternative : regex.split("\\|")) {
                if (alternative.endsWith(".*")) {
                    prefixes.add(alternative.substring(0, alternative.length() - 2));
                } else {
                    literals.add(alternative);
                }
            }
            return new GroupTest(literals.toArray(String[]::new), prefixes.toArray(String[]::new), null);
        }
    }

    private static final Map<String, GroupTest> GROUP_TESTS = new ConcurrentHashMap<>();

    /** Whether the field exists and is not empty: a non-blank value, or an object or list with something in it. */
    public boolean has(String path) {
        if (document != null) {
            int slot = slot(path, null);
            return slot >= 0 && (document.isContainer(slot) ? !document.isEmpty(slot) : !document.text(slot).isBlank());
        }
        JsonNode n = node(path);
        return n != null && (n.isContainerNode() ? n.size() > 0 : !n.asText("").isBlank());
    }

    /** The field's text, or empty when absent or not a scalar. */
    public Optional<String> get(String path) {
        if (document != null) {
            int slot = slot(path, null);
            return slot < 0 ? Optional.empty() : Optional.ofNullable(document.text(slot));
        }
        return Optional.ofNullable(text(node(path)));
    }

    /** {@link #walk} over the document: the slot of the field, or -1. */
    private int slot(String path, StringBuilder spelled) {
        int slot = 0;
        for (String segment : segments(path)) {
            if (document.kind(slot) != AlertDocument.OBJECT) {
                return -1;
            }
            int next = document.member(slot, segment);
            if (next < 0) {
                next = document.memberIgnoringCase(slot, segment);
            }
            if (next < 0 || document.kind(next) == AlertDocument.NULL) {
                return -1;
            }
            if (spelled != null) {
                if (spelled.length() > 0) {
                    spelled.append('.');
                }
                spelled.append(document.name(next));
            }
            slot = next;
        }
        return slot;
    }

    /**
     * The field's node, or null: what conditions need, without building the path as spelled (they run for every
     * rule on every alert, so this allocates nothing on a hit).
     */
    private JsonNode node(String path) {
        return walk(path, null);
    }

    /**
     * Follows {@code path} segment by segment, an exact key first, else one that differs only in case (Windows
     * {@code eventdata} vs Linux {@code EventData} spellings); appends the keys as spelled to {@code spelled} when
     * given. Null when a segment is missing or null.
     */
    private JsonNode walk(String path, StringBuilder spelled) {
        JsonNode node = json;
        for (String segment : segments(path)) {
            if (!node.isObject()) {
                return null;
            }
            String key = segment;
            JsonNode next = node.get(segment);
            if (next == null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getKey().equalsIgnoreCase(segment)) {
                        key = e.getKey();
                        next = e.getValue();
                        break;
                    }
                }
            }
            if (next == null || next.isNull()) {
                return null;
            }
            if (spelled != null) {
                if (spelled.length() > 0) {
                    spelled.append('.');
                }
                spelled.append(key);
            }
            node = next;
        }
        return node;
    }

    /** Rules name the same few paths on every alert: split each once (bounded, as a rule could build paths). */
    private static String[] segments(String path) {
        String[] cached = SEGMENTS.get(path);
        if (cached == null) {
            cached = path.split("\\.");
            if (SEGMENTS.size() < 10_000) {
                SEGMENTS.put(path, cached);
            }
        }
        return cached;
    }

    private static final Map<String, String[]> SEGMENTS = new ConcurrentHashMap<>();

    /** The text of a field, or {@code ""}: for rule conditions, which cannot use Optional. */
    public String field(String path) {
        return get(path).orElse("");
    }

    /** The text of the first of the fields that is present and not blank, or {@code ""} (Sysmon's two prefixes). */
    public String firstField(String... paths) {
        for (String p : paths) {
            String v = field(p);
            if (!v.isBlank()) {
                return v;
            }
        }
        return "";
    }

    /** The field's node and the path as spelled in this alert (the case may differ from {@code path}). */
    public Optional<Map.Entry<String, JsonNode>> resolve(String path) {
        StringBuilder spelled = new StringBuilder();
        if (document != null) {
            int slot = slot(path, spelled);
            return slot < 0 ? Optional.empty() : Optional.of(Map.entry(spelled.toString(), document.node(slot)));
        }
        JsonNode node = walk(path, spelled);
        return node == null ? Optional.empty() : Optional.of(Map.entry(spelled.toString(), node));
    }

    /**
     * The alert as received, for storage and for rules that need something no accessor offers; for an alert read
     * from bytes, built on the first call (most alerts are never stored: they hit nothing).
     */
    public ObjectNode json() {
        ObjectNode tree = json;
        if (tree == null) {
            tree = (ObjectNode) document.tree();
            json = tree;
        }
        return tree;
    }

    /** What {@link #walkFields} asks of its caller as it goes. */
    public interface FieldWalk {
        /** Whether to leave out the field at {@code path} ({@code depth} below the start) and all under it. */
        boolean skip(StringBuilder path, int depth);

        /** Whether a scalar under {@code name} is wanted: only then is its text decoded. */
        boolean wants(String name);

        /** A wanted scalar: its name (an array's elements carry the array's), its text, its dotted path. */
        void scalar(String name, String text, String path);
    }

    /**
     * Walks all of the top-level field {@code key}, depth first: objects by member, arrays by element, scalars to
     * {@code walk} when it wants their name (the generic fallback's walk over {@code data}, which reads a few values
     * of hundreds: no tree of the part is built for it).
     */
    public void walkFields(String key, FieldWalk walk) {
        StringBuilder path = new StringBuilder(key);
        if (document != null) {
            int slot = document.member(0, key);
            if (slot >= 0) {
                walkFields(slot, path, key, walk, 0);
            }
        } else if (json.has(key)) {
            walkFields(json.get(key), path, key, walk, 0);
        }
    }

    /** {@code path} is shared and restored on return: no string is built for fields whose name promises nothing. */
    private void walkFields(int slot, StringBuilder path, String name, FieldWalk walk, int depth) {
        if (walk.skip(path, depth)) {
            return;
        }
        byte kind = document.kind(slot);
        if (kind == AlertDocument.OBJECT) {
            int length = path.length();
            for (int c = document.firstChild(slot); c >= 0; c = document.nextSibling(c)) {
                path.append('.').append(document.name(c));
                walkFields(c, path, document.name(c), walk, depth + 1);
                path.setLength(length);
            }
        } else if (kind == AlertDocument.ARRAY) {
            // a list keeps its name: data.aws.resource.instanceDetails.networkInterfaces.publicIp
            for (int c = document.firstChild(slot); c >= 0; c = document.nextSibling(c)) {
                walkFields(c, path, name, walk, depth + 1);
            }
        } else if (walk.wants(name)) {
            String text = document.text(slot);
            walk.scalar(name, text == null ? "" : text, path.toString());
        }
    }

    private static void walkFields(JsonNode node, StringBuilder path, String name, FieldWalk walk, int depth) {
        if (walk.skip(path, depth)) {
            return;
        }
        if (node.isObject()) {
            int length = path.length();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                path.append('.').append(e.getKey());
                walkFields(e.getValue(), path, e.getKey(), walk, depth + 1);
                path.setLength(length);
            }
        } else if (node.isArray()) {
            for (JsonNode element : node) {
                walkFields(element, path, name, walk, depth + 1);
            }
        } else if (node.isValueNode() && walk.wants(name)) {
            walk.scalar(name, node.asText(""), path.toString());
        }
    }

    private static String text(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull() || n.isContainerNode()) {
            return null;
        }
        return n.asText();
    }

    private static int parseIntOr(String s, int fallback) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** The id as log lines show it: cut to {@value #LOGGED_ID} characters, an attacker may send megabytes. */
    public String logId() {
        return abbreviate(id, LOGGED_ID);
    }

    private static final int LOGGED_ID = 80;

    /** {@code s} cut to {@code max} characters with an ellipsis and the full length: never a whole value in a log. */
    public static String abbreviate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max) + "…(" + s.length() + " chars)";
    }

    @Override
    public String toString() {
        return "Alert[" + logId() + ", rule " + abbreviate(getRuleId(), LOGGED_ID) + ", agent "
                + abbreviate(getAgentId(), LOGGED_ID) + "]";
    }
}
