package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.Normaliser;
import io.github.mispcorrelator.support.DefaultRules;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Alert text is attacker-supplied: what the rules scan must cost time linear in its length, and be capped. Issue 17,
 * defect 1: a {@code hashes} value of 20,000 characters without {@code =} held an event loop 5 s, 100,000 over 95 s.
 */
class LinearTimeExtractionTest {
    private static final Duration BUDGET = Duration.ofSeconds(2);

    private static Alert sysmonProcess(String hashes) {
        return AlertParser.parse(new JsonObject()
                .put("id", "1760000000.1")
                .put("rule", new JsonObject().put("id", "61603").put("groups", new JsonArray().add("sysmon").add("sysmon_eid1_detections")))
                .put("data", new JsonObject().put("win", new JsonObject()
                        .put("system", new JsonObject().put("eventID", "1").put("providerName", "Microsoft-Windows-Sysmon"))
                        .put("eventdata", new JsonObject().put("hashes", hashes))))
                .encode());
    }

    @Test
    void aLongHashesValueWithoutEqualsSignsIsScannedInLinearTime() {
        String hostile = "A".repeat(200_000);
        Extraction out = new Extraction();
        assertTimeoutPreemptively(BUDGET, () -> out.hashes(sysmonProcess(hostile), "data.win.eventdata.hashes"));
        assertThat(out.candidates()).isEmpty();
    }

    @Test
    void theWholeDefaultRulesetStaysFastOnIt() {
        String hostile = "SHA256" + " ".repeat(100_000) + "x" + "0A".repeat(50_000);
        RuleSet rules = DefaultRules.get();
        Alert alert = sysmonProcess(hostile);
        rules.extract(sysmonProcess("SHA256=" + "a".repeat(64)));
        assertTimeoutPreemptively(BUDGET, () -> rules.extract(alert));
    }

    @Test
    void hashListsAreStillReadInAnyOrderAndSpacing() {
        Extraction out = new Extraction();
        out.hashes(sysmonProcess("SHA1=" + "a".repeat(40) + ", MD5 = " + "B".repeat(32) + ";IMPHASH=" + "c".repeat(32)
                + ",SHA256=" + "d".repeat(64) + ",bogus=zz,=12,SHA256="), "data.win.eventdata.hashes");
        assertThat(out.candidates()).extracting(c -> c.type() + "=" + c.rawValue()).containsExactly(
                "SHA1=" + "a".repeat(40), "MD5=" + "B".repeat(32), "IMPHASH=" + "c".repeat(32), "SHA256=" + "d".repeat(64));
    }

    @Test
    void aLongUrlIsNormalisedInLinearTime() {
        String url = "http://" + "a".repeat(200_000) + " ";
        assertTimeoutPreemptively(BUDGET, () -> assertThat(Normaliser.normalise(IndicatorType.URL, url + "x")).isEmpty());
        assertThat(Normaliser.normalise(IndicatorType.URL, "https://evil.example/a?b=c")).contains("https://evil.example/a?b=c");
        assertThat(Normaliser.normalise(IndicatorType.URL, "https:///path")).isEmpty();
    }

    @Test
    void oversizedValuesAndTooManyValuesAreNotLookedUp() {
        JsonArray many = new JsonArray();
        for (int i = 0; i < 50_000; i++) {
            many.add("198.51." + (i % 250) + "." + (i % 200));
        }
        Alert alert = AlertParser.parse(new JsonObject().put("id", "1.1")
                .put("data", new JsonObject().put("ips", many).put("long", "1".repeat(100_000))).encode());
        Extraction out = new Extraction();
        out.value(alert, "ip", "data.ips");
        out.value(alert, "url", "data.long");
        assertThat(out.candidates()).hasSize(Extraction.MAX_CANDIDATES);
    }

    @Test
    void longGroupNamesAreNotMatchedByRulePatterns() {
        Alert alert = AlertParser.parse(new JsonObject().put("id", "1.2")
                .put("rule", new JsonObject().put("groups", new JsonArray().add("web_" + "a".repeat(100_000)).add("sshd")))
                .encode());
        assertTimeoutPreemptively(BUDGET, () -> assertThat(alert.inGroup("(a|aa)+b|web_.*")).isFalse());
        assertThat(alert.inGroup("sshd")).isTrue();
    }
}
