package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RuleSetLoaderTest {

    @TempDir
    Path dir;

    @Test
    void compileErrorNamesFileLineAndMessage() throws Exception {
        Files.writeString(dir.resolve("ok.drl"), """
                package t;
                import io.github.mispcorrelator.alert.Alert;
                rule "fine" when Alert() then end
                """);
        Files.writeString(dir.resolve("broken.drl"), """
                package t;
                import io.github.mispcorrelator.alert.Alert;

                rule "typo"
                when
                    Alert( noSuchProperty == 3 )
                then
                end
                """);

        assertThatThrownBy(() -> RuleSetLoader.load(dir))
                .isInstanceOfSatisfying(RuleCompilationException.class, e -> {
                    assertThat(e.problems()).isNotEmpty();
                    RuleProblem p = e.problems().get(0);
                    assertThat(p.file()).endsWith("broken.drl");
                    assertThat(p.line()).isEqualTo(6);
                    assertThat(p.message()).contains("noSuchProperty");
                    assertThat(e.getMessage()).contains("broken.drl:6");
                });
    }

    @Test
    void syntaxErrorNamesTheLine() throws Exception {
        Files.writeString(dir.resolve("syntax.drl"), """
                package t;
                import io.github.mispcorrelator.alert.Alert;

                rule "missing paren"
                when
                    Alert( ruleLevel > 3
                then
                end
                """);

        assertThatThrownBy(() -> RuleSetLoader.load(dir))
                .isInstanceOfSatisfying(RuleCompilationException.class, e -> {
                    assertThat(e.problems()).isNotEmpty();
                    assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).endsWith("syntax.drl"));
                    assertThat(e.problems()).anySatisfy(p -> assertThat(p.line()).isBetween(6, 8));
                });
    }

    @Test
    void anEmptyDirectoryIsAnError() {
        assertThatThrownBy(() -> RuleSetLoader.load(dir))
                .isInstanceOf(RuleCompilationException.class)
                .hasMessageContaining("no .drl files");
    }

    @Test
    void theSameFilesGiveTheSameVersionAndAChangeGivesANewOne() throws Exception {
        Path drl = dir.resolve("a.drl");
        Files.writeString(drl, """
                package t;
                import io.github.mispcorrelator.alert.Alert;
                rule "one" when Alert() then end
                """);
        String first = RuleSetLoader.load(dir).version();
        String again = RuleSetLoader.load(dir).version();
        Files.writeString(drl, Files.readString(drl).replace("\"one\"", "\"two\""));
        String changed = RuleSetLoader.load(dir).version();

        assertThat(again).isEqualTo(first);
        assertThat(changed).isNotEqualTo(first).startsWith("sha256:");
    }

    @Test
    void aRuleThatFailsOnAnAlertIsNamedInTheError() throws Exception {
        Files.writeString(dir.resolve("bad-type.drl"), """
                package t;
                import io.github.mispcorrelator.alert.Alert;
                global io.github.mispcorrelator.rules.Extraction out;
                rule "uses an unknown type"
                when $a : Alert()
                then out.value($a, "sha999", "data.x");
                end
                """);
        RuleSet rules = RuleSetLoader.load(dir);

        assertThatThrownBy(() -> rules.extract(Fixtures.alert("sysmon-eid1-stock.json")))
                .isInstanceOf(RuleExecutionException.class)
                .hasMessageContaining("uses an unknown type")
                .hasMessageContaining("sha999");
    }

    @Test
    void aRuleThatLoopsForeverIsStopped() throws Exception {
        Files.writeString(dir.resolve("loop.drl"), """
                package t;
                import io.github.mispcorrelator.correlate.Hit;
                rule "re-activates itself"
                when $h : Hit()
                then update($h);
                end
                """);
        RuleSet rules = RuleSetLoader.load(dir);

        assertThatThrownBy(() -> rules.score(List.of(hit(1))))
                .isInstanceOf(RuleExecutionException.class)
                .hasMessageContaining("re-activates itself");
    }

    @Test
    void scoringRulesSetSeverityAndAreRecorded() {
        RuleSet rules = io.github.mispcorrelator.support.DefaultRules.get();
        Hit high = hit(1);
        Hit low = hit(3);

        rules.score(List.of(high, low));

        assertThat(high.getSeverity()).isEqualTo(12);
        assertThat(high.getDecidedBy()).containsExactly("Severity: MISP threat level high");
        assertThat(low.getSeverity()).isEqualTo(7);
    }

    @Test
    void extractionRulesDoNotFireInTheScoringPhase() {
        RuleSet rules = io.github.mispcorrelator.support.DefaultRules.get();
        Hit h = hit(2);
        rules.score(List.of(h));
        assertThat(h.getDecidedBy()).allSatisfy(r -> assertThat(r).startsWith("Severity"));
    }

    static Hit hit(int threatLevel) {
        // a file event of a low-level alert: no floor rule applies, only the threat level decides
        return new Hit(Fixtures.alert("syscheck-added.json"),
                new Indicator(IndicatorType.MD5, "7c6c4c42405e48fde0cc4e8b0a2c1f3e", "data.win.eventdata.hashes", "r"),
                new MispAttribute("1", "u-" + threatLevel, "9", "eu", "info", "md5", "Payload delivery",
                        "7c6c4c42405e48fde0cc4e8b0a2c1f3e", true, threatLevel, List.of("tlp:green"), 0, "test"));
    }
}
