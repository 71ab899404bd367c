package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer for one alert's indicators: every matching attribute per indicator (not just the first), and for
 * indicators that could not be checked, what went wrong; for answers served from a cache, when MISP gave them
 * (indicators absent from {@code answeredAt} were answered just now).
 */
public record LookupResult(Map<Indicator, List<MispAttribute>> matches, Map<Indicator, String> errors,
                           Map<Indicator, Instant> answeredAt) {

    /** An answer obtained just now (no cached part). */
    public LookupResult(Map<Indicator, List<MispAttribute>> matches, Map<Indicator, String> errors) {
        this(matches, errors, Map.of());
    }

    public static LookupResult failed(List<Indicator> indicators, String error) {
        Map<Indicator, String> errors = new LinkedHashMap<>();
        indicators.forEach(i -> errors.put(i, error));
        return new LookupResult(Map.of(), errors);
    }

    public static LookupResult empty() {
        return new LookupResult(Map.of(), Map.of());
    }
}
