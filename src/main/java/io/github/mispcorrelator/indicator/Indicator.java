package io.github.mispcorrelator.indicator;

/**
 * A normalised value worth asking MISP about, with where it came from.
 *
 * @param field  the alert field it was read from, as spelled in the alert ({@code data.win.eventdata.hashes})
 * @param rule   the DRL rule that extracted it
 * @param ruleId that rule's stable {@code @id}: renaming the rule keeps it, so audit queries keep working
 */
public record Indicator(IndicatorType type, String value, String field, String rule, String ruleId) {

    public Indicator(IndicatorType type, String value, String field, String rule) {
        this(type, value, field, rule, rule);
    }

    /** Two indicators with the same type and value are one question to MISP. */
    public String key() {
        return type.id() + ":" + value;
    }
}
