package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.correlate.RuleFailure;
import org.kie.api.runtime.rule.ConsequenceException;

/** A rule failed while running on one alert: a bug in that rule, named here, not in the alert. */
public class RuleExecutionException extends RuleFailure {
    public RuleExecutionException(String message) {
        super(message);
    }

    RuleExecutionException(String message, Throwable cause) {
        super(message, cause);
    }

    static RuleExecutionException of(RuntimeException e) {
        if (e instanceof ConsequenceException ce && ce.getMatch() != null) {
            Throwable root = ce.getCause() != null ? ce.getCause() : ce;
            return new RuleExecutionException("rule '" + ce.getMatch().getRule().getName() + "' failed: "
                    + root.getClass().getSimpleName() + ": " + root.getMessage(), e);
        }
        return new RuleExecutionException("rule evaluation failed: " + e, e);
    }
}
