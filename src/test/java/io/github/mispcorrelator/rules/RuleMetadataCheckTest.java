package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.support.DefaultRules;
import io.github.mispcorrelator.support.Fixtures;
import org.drools.drl.ast.descr.RuleDescr;
import org.drools.drl.parser.DrlParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The metadata the product shows must say what the rule does; a mismatch fails the load with file and line. */
class RuleMetadataCheckTest {
    private static final String HEAD = """
            package t;
            import io.github.mispcorrelator.alert.Alert;
            import io.github.mispcorrelator.correlate.Hit;
            global io.github.mispcorrelator.rules.Extraction out;
            """;

    private static List<RuleProblem> check(String drl) {
        return RuleMetadataCheck.check("t.drl", HEAD + drl, new HashMap<>());
    }

    @Test
    void anIndicatorListThatDiffersFromTheConsequenceIsAProblem() {
        List<RuleProblem> p = check("""
                rule "says ip, extracts a domain"
                    @indicator("ip")
                when $a : Alert() then out.domain($a, "data.hostname");
                end
                """);
        assertThat(p).singleElement().satisfies(x -> {
            assertThat(x.line()).isEqualTo(5);
            assertThat(x.message()).contains("@indicator(\"ip\")").contains("extracts domain");
        });
        assertThat(check("""
                rule "right"
                    @indicator("ip, domain, md5")
                when $a : Alert() then out.urlHost($a, "data.url"); out.hash($a, "md5", "data.md5");
                end
                """)).isEmpty();
    }

    @Test
    void aSeverityTheConsequenceDoesNotSetIsAProblem() {
        assertThat(check("""
                rule "says 12, raises 10"
                    @severity(12)
                when $h : Hit() then $h.raise(10);
                end
                """)).singleElement().satisfies(x -> assertThat(x.message()).contains("@severity(12)"));
        assertThat(check("""
                rule "lowers"
                    @severity("-2")
                when $h : Hit() then $h.lower(2);
                end
                """)).isEmpty();
    }

    @Test
    void anUnknownPhaseAndARepeatedIdAreProblems() {
        assertThat(check("""
                rule "typo in the phase"
                    ruleflow-group "ajdust"
                when $h : Hit() then $h.label("x");
                end
                """)).singleElement().satisfies(x -> assertThat(x.message()).contains("not a scoring phase"));
        assertThat(check("""
                rule "one" @id("same") when $h : Hit() then $h.label("x"); end
                rule "two" @id("same") when $h : Hit() then $h.label("y"); end
                """)).singleElement().satisfies(x -> assertThat(x.message()).contains("already used"));
    }

    @Test
    void theLoaderRefusesAMismatchWithFileAndLine() throws Exception {
        Path dir = Fixtures.workDir("metadata-check");
        Files.writeString(dir.resolve("bad.drl"), HEAD + """
                rule "says ip, extracts a domain"
                    @indicator("ip")
                when $a : Alert() then out.domain($a, "data.hostname");
                end
                """);
        assertThatThrownBy(() -> RuleSetLoader.load(dir))
                .isInstanceOf(RuleCompilationException.class)
                .hasMessageContaining("bad.drl:5")
                .hasMessageContaining("@indicator");
    }

    @Test
    void everyShippedRuleHasAUniqueIdAndIsInAPhaseOrExtracts() throws Exception {
        List<String> missing = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        try (Stream<Path> files = Files.walk(Path.of("drl"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".drl")).toList()) {
                for (RuleDescr r : new DrlParser().parse(false, Files.readString(f)).getRules()) {
                    if (r.getAnnotation("id") == null) {
                        missing.add(f + ": " + r.getName());
                    } else {
                        assertThat(ids.add(r.getAnnotation("id").getSingleValueAsString())).isTrue();
                    }
                    boolean scores = r.getConsequence().toString().contains("$h.");
                    if (scores) {
                        assertThat(r.getAttributes()).as(r.getName()).containsKey("ruleflow-group");
                    }
                }
            }
        }
        assertThat(missing).isEmpty();
        assertThat(DefaultRules.get().ruleNames()).hasSizeGreaterThan(30);
    }
}
