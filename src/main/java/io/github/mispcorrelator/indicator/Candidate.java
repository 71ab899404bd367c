package io.github.mispcorrelator.indicator;

/**
 * A raw value a rule pointed at, before {@link Normaliser} decides whether it is a usable indicator.
 *
 * @param ruleId the rule's stable {@code @id} (its name when it declares none)
 */
public record Candidate(IndicatorType type, String rawValue, String field, String rule, String ruleId) {

    public Candidate(IndicatorType type, String rawValue, String field, String rule) {
        this(type, rawValue, field, rule, rule);
    }
}
