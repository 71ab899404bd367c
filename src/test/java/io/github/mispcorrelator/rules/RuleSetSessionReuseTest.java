package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.support.DefaultRules;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Sessions are pooled and reused alert after alert (issue 16): nothing one alert leaves in its session — facts a rule
 * inserted, the {@code out} global, activations of a halted run, the focus stack — may reach the next alert.
 */
class RuleSetSessionReuseTest {
    /** Every channel through which one alert could reach the next one's evaluation, each with a rule that tells. */
    static final String LEAKY_RULES = """
            package t;
            import io.github.mispcorrelator.alert.Alert;
            global io.github.mispcorrelator.rules.Extraction out;

            declare Seen
                alertId : String
            end

            rule "remember"
            when $a : Alert()
            then insert(new Seen($a.getId()));
            end

            rule "fact leaked"
            when
                Seen($id : alertId)
                $a : Alert(id != $id)
            then
                throw new IllegalStateException("a fact of alert " + $id + " reached alert " + $a.getId());
            end

            rule "hashes"
            when $a : Alert(sysmonEvent == 1)
            then out.hashes($a, "data.win.eventdata.hashes");
            end

            rule "loop"
            when $a : Alert(ruleId == "loop")
            then update($a);
            end

            rule "focus"
            when $a : Alert(ruleId == "focus")
            then kcontext.getKieRuntime().getAgenda().getAgendaGroup("suppress").setFocus();
            end

            rule "late"
            ruleflow-group "suppress"
            when $a : Alert()
            then
            end
            """;

    private static Alert alert(String id, String ruleId) {
        return AlertParser.parse("{\"id\":\"" + id + "\",\"rule\":{\"id\":\"" + ruleId + "\"}}");
    }

    @Test
    void factsGlobalsHaltedActivationsAndFocusStayWithTheirAlert(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("leaky.drl"), LEAKY_RULES);
        RuleSet rs = RuleSetLoader.load(dir);
        Alert sysmon = Fixtures.alert("sysmon-eid1-stock.json");
        List<Indicator> sysmonHashes = rs.extract(sysmon).indicators();
        assertThat(sysmonHashes).isNotEmpty();

        for (int round = 0; round < 10; round++) {
            // a fact inserted by "remember" for the previous alert would make "fact leaked" throw here
            RuleSet.ExtractionResult plain = rs.extract(alert("plain-" + round, "1"));
            assertThat(plain.firedRules()).containsExactly("remember");
            // a new out each time: the previous alert's hashes are not in this alert's result, and back again
            assertThat(plain.indicators()).isEmpty();
            assertThat(rs.extract(sysmon).indicators()).isEqualTo(sysmonHashes);

            // a run stopped after MAX_FIRINGS leaves its activations on the agenda; the next alert must not fire them
            Alert looping = alert("loop-" + round, "loop");
            assertThatThrownBy(() -> rs.extract(looping)).isInstanceOf(RuleExecutionException.class)
                    .hasMessageContaining("'loop'");
            assertThat(rs.extract(alert("after-loop-" + round, "1")).firedRules()).containsExactly("remember");

            // the focus a rule gave an agenda group is this alert's alone
            assertThat(rs.extract(alert("focus-" + round, "focus")).firedRules())
                    .containsExactlyInAnyOrder("remember", "focus", "late");
            assertThat(rs.extract(alert("after-focus-" + round, "1")).firedRules()).containsExactly("remember");
        }
        rs.retire();
        assertThat(rs.disposed()).isTrue();
    }

    @Test
    void concurrentAlertsOnTheDefaultRulesGetWhatTheyGetAlone() throws Exception {
        RuleSet rs = DefaultRules.get();
        List<Alert> alerts = new ArrayList<>();
        for (String name : List.of("sysmon-eid1-stock.json", "sysmon-eid3-ipv4.json", "sysmon-eid22-dns.json",
                "sshd-failure.json", "syscheck-added.json", "sysmon-eid3-ipv6.json", "windows-other-provider-hashes.json")) {
            alerts.add(Fixtures.alert(name));
        }
        List<RuleSet.ExtractionResult> alone = new ArrayList<>();
        for (Alert a : alerts) {
            alone.add(rs.extract(a));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                runs.add(pool.submit(() -> {
                    for (int i = 0; i < 400; i++) {
                        int k = (i + offset) % alerts.size();
                        RuleSet.ExtractionResult r = rs.extract(alerts.get(k));
                        assertThat(r.indicators()).isEqualTo(alone.get(k).indicators());
                        assertThat(r.firedRules()).isEqualTo(alone.get(k).firedRules());
                        assertThat(r.takenFields()).isEqualTo(alone.get(k).takenFields());
                    }
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
