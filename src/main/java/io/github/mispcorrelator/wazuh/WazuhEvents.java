package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.HitJson;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the events returned to Wazuh, one per hit. The {@code integration} and {@code misp.*} fields keep the old
 * {@code custom-misp.py} shape, so its rules 100620–100622 keep firing; {@code correlator.*} adds what it lacked.
 */
public final class WazuhEvents {
    private WazuhEvents() {
    }

    /**
     * The events of one correlation, built once where they are delivered or answered: one per reported hit
     * ({@link Correlation#reportedHits()}), one per value that went unchecked, or the one naming a failed rule.
     */
    public static List<JsonObject> of(Correlation c) {
        if (c.ruleError() != null) {
            return List.of(ruleError(c.alert(), c.ruleError(), c.ruleset()));
        }
        List<Hit> hits = c.reportedHits();
        List<JsonObject> events = new ArrayList<>(hits.size() + c.lookupErrors().size());
        hits.forEach(h -> events.add(hit(c.alert(), h, c.ruleset())));
        c.lookupErrors().forEach((indicator, error) -> events.add(error(c.alert(), indicator, error, c.ruleset())));
        return events;
    }

    public static JsonObject hit(Alert alert, Hit hit, String ruleset) {
        MispAttribute a = hit.attribute();
        JsonObject misp = HitJson.attribute(a)
                .put("source", new JsonObject().put("description", alert.getRuleDescription()))
                .put("threat_level", threatLevel(a.threatLevel()));
        JsonObject correlator = HitJson.decisions(hit, context(alert, hit.indicator(), ruleset));
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
                .put("indicator", HitJson.indicator(indicator))
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
