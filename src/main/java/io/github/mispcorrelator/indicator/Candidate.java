package io.github.mispcorrelator.indicator;

/** A raw value a rule pointed at, before {@link Normaliser} decides whether it is a usable indicator. */
public record Candidate(IndicatorType type, String rawValue, String field, String rule) {
}
