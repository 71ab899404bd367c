package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one alert gave: its indicators, the hits, which of them the store found new, and the lookup errors. The
 * events for Wazuh are derived from it once, where they are delivered or answered ({@code wazuh.WazuhEvents#of}).
 *
 * @param ruleError the message of the rule that failed on this alert (nothing looked up, nothing stored), or null
 * @param newHits   the hits the store found new (empty when nothing was stored: a dry run, a failed rule)
 * @param newOnly   whether events go out for the new hits only (a re-check: the first pass sent the others), not for
 *                  every hit (live, replay, retro-hunt: delivery is at least once, so a repeated alert sends again)
 */
public record Correlation(Alert alert, List<Indicator> indicators, Set<String> firedRules, Set<String> scoringRules,
                          List<Hit> hits, Map<Indicator, String> lookupErrors, String ruleError, String ruleset,
                          List<Hit> newHits, boolean newOnly) {

    /** A copy that knows which of its hits the store found new. */
    public Correlation withNewHits(List<Hit> stored) {
        return new Correlation(alert, indicators, firedRules, scoringRules, hits, lookupErrors, ruleError, ruleset,
                stored, newOnly);
    }

    /** The hits an event goes to Wazuh for: not suppressed, and new in the store on a re-check. */
    public List<Hit> reportedHits() {
        return (newOnly ? newHits : hits).stream().filter(h -> !h.isSuppressed()).toList();
    }
}
