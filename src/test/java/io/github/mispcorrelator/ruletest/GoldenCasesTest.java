package io.github.mispcorrelator.ruletest;

import io.github.mispcorrelator.support.DefaultRules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Every golden case in {@code drl/tests/}: a detection engineer adds a case without writing Java. */
class GoldenCasesTest {

    static List<Path> cases() {
        return GoldenRunner.cases(Path.of("drl"));
    }

    @Test
    void theShippedRulesComeWithCases() {
        assertThat(cases()).hasSizeGreaterThanOrEqualTo(10);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void goldenCase(Path file) {
        GoldenRunner.Outcome outcome = GoldenRunner.run(DefaultRules.get(), RuleTestCase.fromFile(file));
        assertThat(outcome.failures()).as(file.toString()).isEmpty();
    }
}
