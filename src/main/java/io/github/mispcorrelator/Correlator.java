package io.github.mispcorrelator;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.LookupResult;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.store.HitStore;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One alert through the whole flow: extract indicators (DRL), look them up (MISP or feed), score the hits (DRL),
 * store them, and build the events for Wazuh. The returned future completes only once the hits are committed.
 */
public final class Correlator {
    private final Supplier<RuleSet> rules;
    private final MispSource misp;
    private final HitStore store;

    public Correlator(Supplier<RuleSet> rules, MispSource misp, HitStore store) {
        this.rules = rules;
        this.misp = misp;
        this.store = store;
    }

    public Future<Correlation> process(Alert alert) {
        // one rule set for the whole alert, even if a reload swaps it meanwhile
        RuleSet ruleSet = rules.get();
        RuleSet.ExtractionResult extracted;
        try {
            extracted = ruleSet.extract(alert);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        List<Indicator> indicators = extracted.indicators();
        return misp.lookup(indicators).compose(result -> {
            List<Hit> hits = hits(alert, result);
            try {
                ruleSet.score(hits);
            } catch (RuntimeException e) {
                return Future.failedFuture(e);
            }
            String version = ruleSet.version();
            return store.save(alert, hits, version).map(saved -> new Correlation(alert, indicators,
                    extracted.firedRules(), hits, result.errors(), events(alert, hits, result, version), version));
        });
    }

    private static List<Hit> hits(Alert alert, LookupResult result) {
        List<Hit> hits = new ArrayList<>();
        for (Map.Entry<Indicator, List<MispAttribute>> e : result.matches().entrySet()) {
            for (MispAttribute a : e.getValue()) {
                hits.add(new Hit(alert, e.getKey(), a));
            }
        }
        return hits;
    }

    private static List<JsonObject> events(Alert alert, List<Hit> hits, LookupResult result, String version) {
        List<JsonObject> events = new ArrayList<>();
        hits.stream().filter(h -> !h.isSuppressed()).forEach(h -> events.add(WazuhEvents.hit(alert, h, version)));
        result.errors().forEach((indicator, error) -> events.add(WazuhEvents.error(alert, indicator, error, version)));
        return events;
    }

    public MispSource misp() {
        return misp;
    }
}
