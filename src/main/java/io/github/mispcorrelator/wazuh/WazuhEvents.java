package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Builds the events returned to Wazuh, one per hit. The {@code integration} and {@code misp.*} fields keep the old
 * {@code custom-misp.py} shape, so its rules 100620–100622 keep firing; {@code correlator.*} adds what it lacked.
 */
public final class WazuhEvents {
    private WazuhEvents() {
    }

    public static JsonObject hit(Alert alert, Hit hit, String ruleset) {
        MispAttribute a = hit.attribute();
        JsonObject misp = new JsonObject()
                .put("event_id", a.eventId())
                .put("category", a.category())
                .put("value", a.value())
                .put("type", a.type())
                .put("source", new JsonObject().put("description", alert.getRuleDescription()))
                .put("attribute_uuid", a.uuid())
                .put("event_uuid", a.eventUuid())
                .put("event_info", a.eventInfo())
                .put("threat_level", threatLevel(a.threatLevel()))
                .put("to_ids", a.toIds())
                .put("tags", new JsonArray(a.tags()))
                .put("instance", a.instance());
        JsonObject correlator = context(alert, hit.indicator(), ruleset)
                .put("severity", hit.getSeverity())
                .put("labels", new JsonArray(hit.getLabels().stream().toList()))
                .put("decided_by", new JsonArray(hit.getDecidedBy()))
                .put("decided_by_ids", new JsonArray(hit.getDecidedByIds()));
        Hit.PastSighting past = hit.pastSighting();
        if (past != null) {
            // a retrospective event (Wazuh rule 100650): the value was seen before MISP knew it
            correlator.put("origin", "look-back").put("look_back", new JsonObject()
                    .put("first_seen", past.firstSeen().toString())
                    .put("last_seen", past.lastSeen().toString())
                    .put("alerts", past.agentAlerts())
                    .put("first_alert_id", past.firstAlertId())
                    .put("last_alert_id", past.lastAlertId())
                    .put("sighting_age_days", hit.getSightingAgeDays())
                    .put("agents_total", past.agents())
                    .put("alerts_total", past.alerts()));
        }
        return new JsonObject().put("integration", "misp").put("misp", misp).put("correlator", correlator);
    }

    /** An indicator that could not be checked: the SOC must know a value went unchecked, and why. */
    public static JsonObject error(Alert alert, Indicator indicator, String error, String ruleset) {
        JsonObject misp = new JsonObject()
                .put("error", error)
                .put("value", indicator.value())
                .put("source", new JsonObject().put("description", alert.getRuleDescription()));
        return new JsonObject().put("integration", "misp").put("misp", misp)
                .put("correlator", context(alert, indicator, ruleset));
    }

    /** A rule failed on this alert (a bug in the DRL, not in the alert): its values went unchecked. */
    public static JsonObject ruleError(Alert alert, String error, String ruleset) {
        JsonObject misp = new JsonObject()
                .put("error", "the rules failed on this alert, its values were not checked: " + error)
                .put("source", new JsonObject().put("description", alert.getRuleDescription()));
        JsonObject correlator = new JsonObject()
                .put("alert_id", alert.getId())
                .put("manager", alert.getManager())
                .put("rule_id", alert.getRuleId())
                .put("agent_id", alert.getAgentId())
                .put("ruleset", ruleset);
        return new JsonObject().put("integration", "misp").put("misp", misp).put("correlator", correlator);
    }

    private static JsonObject context(Alert alert, Indicator indicator, String ruleset) {
        return new JsonObject()
                .put("alert_id", alert.getId())
                .put("manager", alert.getManager())
                .put("rule_id", alert.getRuleId())
                .put("agent_id", alert.getAgentId())
                .put("indicator", new JsonObject()
                        .put("type", indicator.type().id())
                        .put("value", indicator.value())
                        .put("field", indicator.field()))
                .put("drl_rule", indicator.rule())
                .put("drl_rule_id", indicator.ruleId())
                .put("ruleset", ruleset);
    }

    /** MISP's threat_level_id as a word a SOC rule can match. */
    static String threatLevel(int id) {
        return switch (id) {
            case 1 -> "high";
            case 2 -> "medium";
            case 3 -> "low";
            case 4 -> "undefined";
            default -> "unknown";
        };
    }
}
