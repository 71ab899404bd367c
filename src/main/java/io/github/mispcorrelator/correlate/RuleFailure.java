package io.github.mispcorrelator.correlate;

/**
 * A rule failed while running on one alert: a bug in that rule, not in the alert. The pipeline fails that alert only
 * and says so to the SOC (an error event), never with a 5xx; the rule engine's own exception extends this one.
 */
public class RuleFailure extends RuntimeException {
    public RuleFailure(String message) {
        super(message);
    }

    public RuleFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
