package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.support.DefaultRules;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The generic fallback: names that promise an indicator, values that keep the promise, alerts nobody claimed. */
class GenericFallbackTest {

    private static List<String> classify(String key, String value) {
        List<String> out = new ArrayList<>();
        GenericFields.classify(key, value, "data." + key, (t, v, f) -> out.add(t.id() + " " + v));
        return out;
    }

    private static List<String> extract(String json) {
        return DefaultRules.get().extract(AlertParser.parse(json)).indicators().stream()
                .map(i -> i.type().id() + " " + i.value() + " @ " + i.field() + " by " + i.ruleId()).toList();
    }

    @Test
    void theNameTableKnowsTheCommonSpellings() {
        assertThat(classify("srcip", "81.2.69.1")).containsExactly("ip 81.2.69.1");
        assertThat(classify("dest_ip", "81.2.69.1")).containsExactly("ip 81.2.69.1");
        assertThat(classify("sourceIPAddress", "81.2.69.1")).containsExactly("ip 81.2.69.1");
        assertThat(classify("remoteAddress", "81.2.69.1")).containsExactly("ip 81.2.69.1");
        assertThat(classify("clientIP", "2a02:cf40::1")).containsExactly("ip 2a02:cf40::1");
        assertThat(classify("hostname", "c2.example.net")).containsExactly("domain c2.example.net");
        assertThat(classify("host", "81.2.69.1")).containsExactly("ip 81.2.69.1");
        assertThat(classify("file_sha256", "ab".repeat(32))).containsExactly("sha256 " + "ab".repeat(32));
        assertThat(classify("hash", "ab".repeat(20))).containsExactly("sha1 " + "ab".repeat(20));
        assertThat(classify("hashes", "MD5=" + "ab".repeat(16) + ",SHA256=" + "cd".repeat(32))).hasSize(2);
        assertThat(classify("request_url", "http://evil.example/x")).containsExactly("url http://evil.example/x");
        // names that promise nothing, or values that break the promise (dropped later or never offered)
        assertThat(classify("zip", "12345")).isEmpty();
        assertThat(classify("macAddress", "00:11:22:33:44:55")).isEmpty();
        assertThat(classify("user", "81.2.69.1")).isEmpty();
        assertThat(classify("hash", "not-a-hash")).isEmpty();
    }

    @Test
    void anAlertNoFamilyRuleClaimedIsWalkedOnce() {
        String sha = "ab".repeat(32);
        assertThat(extract("""
                {"rule":{"groups":["custom"]},"decoder":{"name":"custom"},"agent":{"ip":"81.2.69.99"},
                 "data":{"client_ip":"175.16.199.1","nested":{"list":[{"dstip":"175.16.199.2"},{"dstip":"10.0.0.1"}]},
                         "md5":"not a hash","sha256":"%s","peer_ip":"175.16.199.1"}}""".formatted(sha)))
                .containsExactlyInAnyOrder(
                        "ip 175.16.199.1 @ data.client_ip by fallback.field-names",
                        "ip 175.16.199.2 @ data.nested.list.dstip by fallback.field-names",
                        "sha256 " + sha + " @ data.sha256 by fallback.field-names");
    }

    @Test
    void anAlertAFamilyRuleClaimedIsLeftToIt() {
        // Sysmon EID 3 inbound: the family rule reads the source on purpose; the local destination is not asked
        assertThat(extract("""
                {"rule":{"groups":["sysmon","sysmon_eid3_detections"]},
                 "data":{"win":{"system":{"eventID":"3","providerName":"Microsoft-Windows-Sysmon"},
                         "eventdata":{"initiated":"false","sourceIp":"175.16.199.5","destinationIp":"81.2.69.1"}}}}"""))
                .containsExactly("ip 175.16.199.5 @ data.win.eventdata.sourceIp by sysmon.eid3.inbound");
    }

    @Test
    void theCorrelatorsOwnEventsYieldNothing() {
        var result = DefaultRules.get().extract(AlertParser.parse("""
                {"rule":{"id":"100622","groups":["misp","misp_alert"]},"location":"misp",
                 "data":{"integration":"misp","misp":{"value":"81.2.69.142","type":"ip-dst"},
                         "correlator":{"indicator":{"type":"ip","value":"81.2.69.142"}},"srcip":"81.2.69.142"}}"""));
        assertThat(result.indicators()).isEmpty();
        assertThat(result.firedRules()).isEmpty();
    }

    @Test
    void familyRulesRecordTheirStableIds() {
        List<Indicator> found = DefaultRules.get().extract(AlertParser.parse("""
                {"rule":{"groups":["fortigate","syslog"]},"decoder":{"name":"fortigate-firewall-v6"},
                 "data":{"srcip":"10.1.1.1","dstip":"81.2.69.142"}}""")).indicators();
        assertThat(found).singleElement().satisfies(i -> {
            assertThat(i.ruleId()).isEqualTo("fw.fortigate");
            assertThat(i.rule()).startsWith("FortiGate");
        });
        assertThat(new HashSet<>(DefaultRules.get().ruleNames())).contains("Generic fallback: well-known indicator field names");
    }
}
