package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;

import java.util.List;
import java.util.Set;

/**
 * One compiled rule set as the pipeline uses it (a port, implemented by {@code rules.RuleSet}): leased for an
 * alert's whole flow so a reload cannot dispose it midway, it extracts the indicators and scores the hits.
 * Both steps throw a {@link RuleFailure} when a rule fails on the alert.
 */
public interface Rules {

    /** Takes a lease; false when the rule set was retired meanwhile (then ask for the current one again). */
    boolean acquire();

    /** Gives the lease back. */
    void release();

    /** The rule set's version, recorded with every hit and event. */
    String version();

    /** The indicators of one alert and the extraction rules that fired. */
    Extracted extract(Alert alert);

    /** Scores the hits of one alert in place; returns the names of the scoring rules that fired. */
    Set<String> score(List<Hit> hits);

    /** Whether the value is on an allow-list: known-good, never kept in the observation index. */
    boolean allowListed(Indicator indicator);

    /** What extraction found. */
    interface Extracted {
        List<Indicator> indicators();

        Set<String> firedRules();
    }
}
