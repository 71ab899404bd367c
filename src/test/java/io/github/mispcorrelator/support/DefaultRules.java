package io.github.mispcorrelator.support;

import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleSetLoader;

import java.nio.file.Path;

/** The shipped {@code drl/} rule set, compiled once per test JVM (a build takes seconds). */
public final class DefaultRules {
    private static RuleSet ruleSet;

    private DefaultRules() {
    }

    public static synchronized RuleSet get() {
        if (ruleSet == null) {
            ruleSet = RuleSetLoader.load(Path.of("drl"));
        }
        return ruleSet;
    }
}
