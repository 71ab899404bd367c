package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.json.Json;

import java.io.IOException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads MISP's JSON: restSearch answers ({@code {"response":{"Attribute":[…]}}}, or {@code {"response":[]}} from
 * old servers) and event exports ({@code {"Event":{…}}}, the feed format). MISP sends ids, levels and timestamps as
 * strings; both strings and numbers are accepted here.
 */
public final class MispJson {
    private MispJson() {
    }

    /**
     * The tree of a restSearch body that came with a 200 (a worker thread: pages are large), as a retryable
     * {@link MispException} when it is not JSON or empty — shared by the mirror's pulls and the look-back's polls.
     */
    public static JsonNode restSearchTree(byte[] body) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new MispException("MISP answered 200 with a body that is not JSON", true, null);
        }
        if (root == null || root.isMissingNode()) {
            throw new MispException("MISP answered 200 with an empty body", true, null);
        }
        return root;
    }

    /** {@link #restSearchAttributes}, failing with a {@link MispException} (not retried) when it is no restSearch result. */
    public static List<MispAttribute> restSearchResult(JsonNode root, String instance) {
        try {
            return restSearchAttributes(root, instance);
        } catch (IllegalArgumentException e) {
            throw new MispException("MISP answered 200 but not with a restSearch result: " + e.getMessage(), false, null);
        }
    }

    /**
     * The attributes of a restSearch answer.
     *
     * @throws IllegalArgumentException when the JSON is not a restSearch answer
     */
    public static List<MispAttribute> restSearchAttributes(JsonNode root, String instance) {
        JsonNode response = root.path("response");
        if (response.isMissingNode()) {
            // a proxy or an error page answered; MISP always wraps attribute answers
            throw new IllegalArgumentException("no 'response' in MISP's answer" + errorText(root));
        }
        List<MispAttribute> out = new ArrayList<>();
        JsonNode attributes = response.isArray() ? response : response.path("Attribute");
        if (!attributes.isArray()) {
            return out;
        }
        for (JsonNode a : attributes) {
            JsonNode event = a.path("Event");
            out.add(attribute(a, event, a.path("event_id").asText(event.path("id").asText("")), instance));
        }
        return out;
    }

    /** The attributes of one event export, those inside objects included. */
    public static List<MispAttribute> eventAttributes(JsonNode root, String instance) {
        JsonNode event = root.has("Event") ? root.path("Event") : root;
        String eventId = event.path("id").asText("");
        List<MispAttribute> out = new ArrayList<>();
        event.path("Attribute").forEach(a -> out.add(attribute(a, event, eventId, instance)));
        event.path("Object").forEach(o -> o.path("Attribute").forEach(a -> out.add(attribute(a, event, eventId, instance))));
        return out;
    }

    /** Whether the event export says it is published (feeds usually omit the flag: then it is). */
    public static boolean published(JsonNode root) {
        JsonNode event = root.has("Event") ? root.path("Event") : root;
        JsonNode p = event.path("published");
        return p.isMissingNode() || p.isNull() || bool(p);
    }

    private static MispAttribute attribute(JsonNode a, JsonNode event, String eventId, String instance) {
        Set<String> tags = new LinkedHashSet<>();
        a.path("Tag").forEach(t -> tags.add(t.path("name").asText()));
        event.path("Tag").forEach(t -> tags.add(t.path("name").asText()));
        tags.remove("");
        return new MispAttribute(
                a.path("id").asText(""),
                a.path("uuid").asText(""),
                eventId,
                event.path("uuid").asText(a.path("event_uuid").asText("")),
                event.path("info").asText(""),
                a.path("type").asText(""),
                a.path("category").asText(""),
                a.path("value").asText(""),
                bool(a.path("to_ids")),
                (int) number(event.path("threat_level_id")),
                List.copyOf(tags),
                number(a.path("timestamp")),
                instance);
    }

    public static boolean bool(JsonNode n) {
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        String s = n.asText("");
        return s.equals("1") || s.equalsIgnoreCase("true");
    }

    private static long number(JsonNode n) {
        if (n.isNumber()) {
            return n.asLong();
        }
        try {
            return Long.parseLong(n.asText("").strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** MISP's error bodies carry {@code name} and {@code message}; quote the message when there is one. */
    static String errorText(JsonNode root) {
        String m = root.path("message").asText(root.path("name").asText(""));
        return m.isBlank() ? "" : ": " + m;
    }
}
