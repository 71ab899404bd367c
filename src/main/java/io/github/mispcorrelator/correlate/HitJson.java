package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A hit as JSON, in one place: the {@code /v1/alerts} answer ({@link #answer}) and the event for Wazuh
 * ({@code wazuh.WazuhEvents#hit}) are built from these parts, so a field added to a hit is added to both. The names
 * are the contract (README, HTTP API and Wazuh rules) and differ where the consumers differ: the event names the
 * threat level as a word for Wazuh rules, the answer gives MISP's number.
 */
public final class HitJson {
    private HitJson() {
    }

    /** {@code {type, value, field}}: the indicator as the event's {@code correlator.indicator}. */
    public static JsonObject indicator(Indicator i) {
        return new JsonObject().put("type", i.type().id()).put("value", i.value()).put("field", i.field());
    }

    /** {@code {type, value, field, rule, rule_id}}: the indicator as the answer lists it, with the rule that found it. */
    public static JsonObject indicatorWithRule(Indicator i) {
        return indicator(i).put("rule", i.rule()).put("rule_id", i.ruleId());
    }

    /** The MISP attribute behind a hit, without its threat level (each shape names that its own way). */
    public static JsonObject attribute(MispAttribute a) {
        return new JsonObject()
                .put("event_id", a.eventId())
                .put("event_uuid", a.eventUuid())
                .put("event_info", a.eventInfo())
                .put("attribute_uuid", a.uuid())
                .put("type", a.type())
                .put("category", a.category())
                .put("value", a.value())
                .put("to_ids", a.toIds())
                .put("tags", new JsonArray(a.tags()))
                .put("instance", a.instance());
    }

    /** What the scoring rules decided: severity, labels, and which rules decided it (names and stable ids). */
    public static JsonObject decisions(Hit h, JsonObject into) {
        return into.put("severity", h.getSeverity())
                .put("labels", new JsonArray(h.getLabels().stream().toList()))
                .put("decided_by", new JsonArray(h.getDecidedBy()))
                .put("decided_by_ids", new JsonArray(h.getDecidedByIds()));
    }

    /** One entry of the answer's {@code hits}. */
    public static JsonObject answer(Hit h) {
        JsonObject o = new JsonObject()
                .put("indicator", indicatorWithRule(h.indicator()))
                .put("misp", attribute(h.attribute()).put("threat_level_id", h.attribute().threatLevel()))
                .put("suppressed", h.isSuppressed());
        return decisions(h, o);
    }
}
