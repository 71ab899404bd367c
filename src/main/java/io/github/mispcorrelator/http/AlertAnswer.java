package io.github.mispcorrelator.http;

import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.HitJson;
import io.github.mispcorrelator.wazuh.AnalysisdMessage;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The answer for one alert: the body of {@code POST /v1/alerts}, a batch line's result, and (with what fired) of
 * {@code POST /v1/rules/test}. Hits render through {@link HitJson}, events through {@link WazuhEvents#of}, once each
 * (the analysisd lines are made from those same events).
 */
final class AlertAnswer {
    private AlertAnswer() {
    }

    /** {@code {"alert_id", "indicators", "hits", "events", "ruleset"}}. */
    static JsonObject of(Correlation c) {
        return of(c, false);
    }

    /**
     * As {@link #of(Correlation)}; with {@code analysisdLines} ({@code ?format=analysisd}) also {@code analysisd}: each
     * event as its analysisd message ({@code 1:<location>:<json>}), what the integratord forwarder writes to the
     * socket as is, and {@code analysisd_unfit}, how many events were left out because even shrunk they do not fit
     * one message.
     */
    static JsonObject of(Correlation c, boolean analysisdLines) {
        List<JsonObject> events = WazuhEvents.of(c);
        JsonArray indicators = new JsonArray();
        c.indicators().forEach(i -> indicators.add(HitJson.indicatorWithRule(i)));
        JsonArray hits = new JsonArray();
        c.hits().forEach(h -> hits.add(HitJson.answer(h)));
        JsonObject answer = new JsonObject()
                .put("alert_id", c.alert().getId())
                .put("indicators", indicators)
                .put("hits", hits)
                .put("events", new JsonArray(events))
                .put("ruleset", c.ruleset());
        if (analysisdLines) {
            AnalysisdMessage.Lines lines = AnalysisdMessage.lines(c.alert(), events);
            answer.put("analysisd", new JsonArray(lines.lines())).put("analysisd_unfit", lines.unfit());
        }
        return answer;
    }

    /** The body of {@code POST /v1/rules/test}: the alert's answer plus which rules fired and what went unchecked. */
    static JsonObject ofTest(Correlation c) {
        JsonObject errors = new JsonObject();
        c.lookupErrors().forEach((i, e) -> errors.put(i.key(), e));
        return of(c)
                .put("fired", new JsonObject()
                        .put("extract", new JsonArray(List.copyOf(c.firedRules())))
                        .put("score", new JsonArray(List.copyOf(c.scoringRules()))))
                .put("lookup_errors", errors)
                .put("stored", false);
    }
}
