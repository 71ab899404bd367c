package io.github.mispcorrelator.alert;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlertTest {

    private static Alert alert(String groups, String system) {
        return AlertParser.parse("{\"id\":\"1.2\",\"rule\":{\"groups\":" + groups + "},\"data\":{" + system + "}}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "[\"sysmon\",\"sysmon_eid1_detections\",\"windows\"] | 1",
            "[\"windows\",\"sysmon_event3\",\"sysmon\"]           | 3",
            "[\"windows\",\"sysmon\",\"sysmon_event_6\"]          | 6",
            "[\"sysmon\",\" sysmon_event22 \"]                   | 22",
            "[\"\\n      sysmon_eid7_detections\",\"sysmon\"]     | 7",
            "[\"windows\",\"authentication_failed\"]             | 0"
    })
    void sysmonEventComesFromGroupsInAnyOrderAndSpacing(String groups, int eid) {
        assertThat(alert(groups, "").getSysmonEvent()).isEqualTo(eid);
    }

    @Test
    void theEventIdFieldWinsOverGroupNames() {
        Alert a = alert("[\"sysmon\",\"sysmon_event1\"]", "\"win\":{\"system\":{\"eventID\":\"15\"}}");
        assertThat(a.getSysmonEvent()).isEqualTo(15);
        Alert linux = alert("[\"sysmon\"]", "\"system\":{\"eventID\":\"3\"}");
        assertThat(linux.getSysmonEvent()).isEqualTo(3);
    }

    @Test
    void aWindowsEventIdIsNotASysmonEventId() {
        Alert logon = alert("[\"windows\",\"authentication_failed\"]", "\"win\":{\"system\":{\"eventID\":\"1\"}}");
        assertThat(logon.getSysmonEvent()).isZero();
    }

    @Test
    void groupsAreTrimmedAndMatchedByPattern() {
        Alert a = alert("[\" WEF\",\"\\n      authentication_success\",\"syscheck_entry_modified\"]", "");
        assertThat(a.getGroups()).containsExactlyInAnyOrder("WEF", "authentication_success", "syscheck_entry_modified");
        assertThat(a.inGroup("syscheck_entry_(added|modified)")).isTrue();
        assertThat(a.inGroup("syscheck")).isFalse();
    }

    @Test
    void fieldLookUpFallsBackToIgnoringCaseAndReportsTheRealSpelling() {
        Alert a = AlertParser.parse("{\"data\":{\"eventdata\":{\"DestinationIp\":\"81.2.69.142\"}}}");
        assertThat(a.get("data.eventdata.destinationIp")).hasValue("81.2.69.142");
        assertThat(a.resolve("data.eventdata.destinationIp").orElseThrow().getKey()).isEqualTo("data.eventdata.DestinationIp");
        assertThat(a.has("data.eventdata.sourceIp")).isFalse();
        assertThat(a.get("data.eventdata")).isEmpty();
    }

    @Test
    void missingEnvelopeFieldsHaveSafeDefaults() {
        Alert a = AlertParser.parse("{}");
        assertThat(a.getAgentId()).isEqualTo("000");
        assertThat(a.getManager()).isEmpty();
        assertThat(a.getRuleLevel()).isZero();
        assertThat(a.getGroups()).isEmpty();
        // no id: a digest of the body, so a retried alert is still recognised
        assertThat(a.getId()).startsWith("sha256:").isEqualTo(AlertParser.parse("{}").getId());
    }

    @Test
    void notAnObjectIsRejectedWithAClearMessage() {
        assertThatThrownBy(() -> AlertParser.parse("[1,2]")).isInstanceOf(InvalidAlertException.class)
                .hasMessageContaining("got an array");
        assertThatThrownBy(() -> AlertParser.parse("{\"id\": ")).isInstanceOf(InvalidAlertException.class)
                .hasMessageStartingWith("malformed JSON");
        assertThatThrownBy(() -> AlertParser.parse("{} {}")).isInstanceOf(InvalidAlertException.class);
        assertThatThrownBy(() -> AlertParser.parse("")).isInstanceOf(InvalidAlertException.class)
                .hasMessageContaining("empty body");
        assertThatThrownBy(() -> AlertParser.parse("[".repeat(10_000))).isInstanceOf(InvalidAlertException.class);
    }
}
