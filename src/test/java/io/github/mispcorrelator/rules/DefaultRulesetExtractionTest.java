package io.github.mispcorrelator.rules;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.support.DefaultRules;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped DRL, compiled by Drools, against one hand-made alert per family. {@code alerts/expected.json} lists
 * exactly what each alert must yield after normalisation — no more, no less.
 */
class DefaultRulesetExtractionTest {

    static Stream<String> cases() throws Exception {
        JsonNode expected = Json.MAPPER.readTree(Fixtures.bytes("alerts/expected.json"));
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void extractsExactlyTheExpectedIndicators(String file) throws Exception {
        JsonNode expected = Json.MAPPER.readTree(Fixtures.bytes("alerts/expected.json")).get(file);
        List<String> want = new ArrayList<>();
        expected.forEach(e -> want.add(e.get("type").asText() + " " + e.get("value").asText() + " @ " + e.get("field").asText()));

        RuleSet.ExtractionResult result = DefaultRules.get().extract(Fixtures.alert(file));

        List<String> got = result.indicators().stream()
                .map(i -> i.type().id() + " " + i.value() + " @ " + i.field())
                .toList();
        assertThat(got).containsExactlyInAnyOrderElementsOf(want);
        assertThat(result.indicators()).allSatisfy(i -> assertThat(i.rule()).isNotBlank().isNotEqualTo("?"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void groupOrderNeverMatters(String file) {
        var alert = Fixtures.alert(file);
        var json = alert.json().deepCopy();
        var groups = (com.fasterxml.jackson.databind.node.ArrayNode) json.path("rule").path("groups");
        List<JsonNode> reversed = new ArrayList<>();
        groups.forEach(reversed::add);
        java.util.Collections.reverse(reversed);
        groups.removeAll();
        reversed.forEach(groups::add);

        List<Indicator> original = DefaultRules.get().extract(alert).indicators();
        List<Indicator> shuffled = DefaultRules.get().extract(AlertParser.parse(json.toString())).indicators();

        assertThat(shuffled).containsExactlyInAnyOrderElementsOf(original);
    }
}
