package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one alert gave: its indicators, the hits (stored), the lookup errors, and the events for Wazuh.
 */
public record Correlation(Alert alert, List<Indicator> indicators, Set<String> firedRules, Set<String> scoringRules,
                          List<Hit> hits,
                          Map<Indicator, String> lookupErrors, List<JsonObject> events, String ruleset,
                          List<Hit> newHits) {

    /** A copy that knows which of its hits the store found new. */
    public Correlation withNewHits(List<Hit> stored) {
        return new Correlation(alert, indicators, firedRules, scoringRules, hits, lookupErrors, events, ruleset, stored);
    }

    /** Events of the hits that were new in the store (what a re-check should still send to Wazuh). */
    public List<JsonObject> newEvents() {
        return newHits.stream().filter(h -> !h.isSuppressed())
                .map(h -> io.github.mispcorrelator.wazuh.WazuhEvents.hit(alert, h, ruleset)).toList();
    }

    /** The body of {@code POST /v1/rules/test}: the alert's answer plus which rules fired and what went unchecked. */
    public JsonObject toTestJson() {
        JsonObject errors = new JsonObject();
        lookupErrors.forEach((i, e) -> errors.put(i.key(), e));
        return toJson()
                .put("fired", new JsonObject()
                        .put("extract", new JsonArray(List.copyOf(firedRules)))
                        .put("score", new JsonArray(List.copyOf(scoringRules))))
                .put("lookup_errors", errors)
                .put("stored", false);
    }

    /** The body of {@code POST /v1/alerts}. */
    public JsonObject toJson() {
        JsonArray ind = new JsonArray();
        indicators.forEach(i -> ind.add(new JsonObject()
                .put("type", i.type().id()).put("value", i.value()).put("field", i.field()).put("rule", i.rule())
                .put("rule_id", i.ruleId())));
        JsonArray hitArray = new JsonArray();
        hits.forEach(h -> hitArray.add(new JsonObject()
                .put("indicator", new JsonObject().put("type", h.getType()).put("value", h.getValue())
                        .put("field", h.getField()).put("rule", h.indicator().rule())
                        .put("rule_id", h.indicator().ruleId()))
                .put("misp", new JsonObject()
                        .put("event_id", h.attribute().eventId())
                        .put("event_uuid", h.attribute().eventUuid())
                        .put("event_info", h.attribute().eventInfo())
                        .put("attribute_uuid", h.attribute().uuid())
                        .put("type", h.attribute().type())
                        .put("category", h.attribute().category())
                        .put("value", h.attribute().value())
                        .put("threat_level_id", h.attribute().threatLevel())
                        .put("to_ids", h.attribute().toIds())
                        .put("tags", new JsonArray(h.attribute().tags()))
                        .put("instance", h.attribute().instance()))
                .put("severity", h.getSeverity())
                .put("suppressed", h.isSuppressed())
                .put("labels", new JsonArray(h.getLabels().stream().toList()))
                .put("decided_by", new JsonArray(h.getDecidedBy()))
                .put("decided_by_ids", new JsonArray(h.getDecidedByIds()))));
        return new JsonObject()
                .put("alert_id", alert.getId())
                .put("indicators", ind)
                .put("hits", hitArray)
                .put("events", new JsonArray(List.copyOf(events)))
                .put("ruleset", ruleset);
    }
}
