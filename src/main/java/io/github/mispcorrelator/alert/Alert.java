package io.github.mispcorrelator.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
    private static final Pattern SYSMON_GROUP = Pattern.compile("sysmon_eid(\\d+)_detections|sysmon_event_?(\\d+)");

    /** Wazuh writes {@code 2025-08-13T08:45:06.785+0000}: no colon in the offset. */
    public static final java.time.format.DateTimeFormatter WAZUH_TIME =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss[.SSSSSS][.SSS][.SS][.S]XX");

    /** Rules pass the same few literals on every alert: compile each once. */
    private static final Map<String, Pattern> PATTERNS = new java.util.concurrent.ConcurrentHashMap<>();

    private final ObjectNode json;
    private final String id;
    private final Set<String> groups;
    private final int sysmonEvent;

    public Alert(ObjectNode json, String fallbackId) {
        this.json = json;
        String ownId = text(json.path("id"));
        this.id = ownId != null && !ownId.isBlank() ? ownId : fallbackId;
        this.groups = readGroups(json.path("rule").path("groups"));
        this.sysmonEvent = readSysmonEvent();
    }

    private static Set<String> readGroups(JsonNode node) {
        Set<String> out = new LinkedHashSet<>();
        if (node.isArray()) {
            node.forEach(g -> {
                // real alerts carry strings like " WEF" and "\n      authentication_success"
                String s = g.asText("").strip();
                if (!s.isEmpty()) {
                    out.add(s);
                }
            });
        } else if (node.isTextual()) {
            for (String s : node.asText().split(",")) {
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
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
    public java.util.OptionalLong getEpochSecond() {
        java.util.OptionalLong ms = getEpochMilli();
        return ms.isPresent() ? java.util.OptionalLong.of(Math.floorDiv(ms.getAsLong(), 1000)) : ms;
    }

    /** The alert's timestamp in epoch milliseconds ({@code 2025-08-13T08:45:06.785+0000}, or ISO-8601). */
    public java.util.OptionalLong getEpochMilli() {
        String t = getTimestamp().strip();
        if (t.isEmpty()) {
            return java.util.OptionalLong.empty();
        }
        try {
            return java.util.OptionalLong.of(java.time.OffsetDateTime.parse(t, WAZUH_TIME).toInstant().toEpochMilli());
        } catch (java.time.format.DateTimeParseException e) {
            try {
                return java.util.OptionalLong.of(java.time.OffsetDateTime.parse(t).toInstant().toEpochMilli());
            } catch (java.time.format.DateTimeParseException e2) {
                return java.util.OptionalLong.empty();
            }
        }
    }

    public String getLocation() {
        return get("location").orElse("");
    }

    public String getDecoder() {
        return get("decoder.name").orElse("");
    }

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
        JsonNode integration = json.path("data").path("integration");
        return integration.isTextual() && integration.asText().equals("misp");
    }

    /** Whether any group, trimmed, matches the regular expression in full. */
    public boolean inGroup(String regex) {
        Pattern p = PATTERNS.computeIfAbsent(regex, Pattern::compile);
        return groups.stream().anyMatch(g -> p.matcher(g).matches());
    }

    /** Whether the field exists and is not empty: a non-blank value, or an object or list with something in it. */
    public boolean has(String path) {
        return resolve(path).map(Map.Entry::getValue)
                .map(n -> n.isContainerNode() ? n.size() > 0 : !n.asText("").isBlank())
                .orElse(false);
    }

    /** The field's text, or empty when absent or not a scalar. */
    public Optional<String> get(String path) {
        return resolve(path).map(Map.Entry::getValue).map(Alert::text);
    }

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
        JsonNode node = json;
        StringBuilder actual = new StringBuilder();
        for (String segment : path.split("\\.")) {
            if (!node.isObject()) {
                return Optional.empty();
            }
            String key = segment;
            JsonNode next = node.get(segment);
            if (next == null) {
                for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                    String candidate = it.next();
                    if (candidate.equalsIgnoreCase(segment)) {
                        key = candidate;
                        next = node.get(candidate);
                        break;
                    }
                }
            }
            if (next == null || next.isNull()) {
                return Optional.empty();
            }
            if (actual.length() > 0) {
                actual.append('.');
            }
            actual.append(key);
            node = next;
        }
        return Optional.of(Map.entry(actual.toString(), node));
    }

    /** The alert as received, for storage and for rules that need something no accessor offers. */
    public ObjectNode json() {
        return json;
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

    @Override
    public String toString() {
        return "Alert[" + id + ", rule " + getRuleId() + ", agent " + getAgentId() + "]";
    }
}
