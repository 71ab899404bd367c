package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.support.Fixtures;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The event shape the old script's Wazuh rules (100620–100622) read, plus the new fields. */
class WazuhEventsTest {
    private final Alert alert = Fixtures.alert("sysmon-eid3-ipv4.json");
    private final Indicator ip = new Indicator(IndicatorType.IP, "81.2.69.142", "data.win.eventdata.destinationIp", "Sysmon EID 3");

    @Test
    void aHitKeepsTheOldFieldsAndAddsContext() {
        Hit hit = new Hit(alert, ip, new MispAttribute("7", "au", "25", "eu", "C2 list", "ip-dst|port", "Network activity",
                "81.2.69.142|443", true, 2, List.of("tlp:green"), 0, "https://misp"));
        hit.setSeverity(10);

        JsonObject e = WazuhEvents.hit(alert, hit, "sha256:v");

        assertThat(e.getString("integration")).isEqualTo("misp");
        JsonObject misp = e.getJsonObject("misp");
        assertThat(misp.getString("event_id")).isEqualTo("25");
        assertThat(misp.getString("category")).isEqualTo("Network activity");
        assertThat(misp.getString("value")).isEqualTo("81.2.69.142|443");
        assertThat(misp.getString("type")).isEqualTo("ip-dst|port");
        assertThat(misp.getJsonObject("source").getString("description")).isEqualTo(alert.getRuleDescription());
        assertThat(misp.getString("threat_level")).isEqualTo("medium");
        assertThat(misp.getJsonArray("tags").getList()).containsExactly("tlp:green");
        JsonObject c = e.getJsonObject("correlator");
        assertThat(c.getString("alert_id")).isEqualTo(alert.getId());
        assertThat(c.getString("agent_id")).isEqualTo(alert.getAgentId());
        assertThat(c.getString("rule_id")).isEqualTo(alert.getRuleId());
        assertThat(c.getJsonObject("indicator").getString("type")).isEqualTo("ip");
        assertThat(c.getJsonObject("indicator").getString("field")).isEqualTo("data.win.eventdata.destinationIp");
        assertThat(c.getInteger("severity")).isEqualTo(10);
        assertThat(c.getString("drl_rule")).isEqualTo("Sysmon EID 3");
        assertThat(c.getString("ruleset")).isEqualTo("sha256:v");
    }

    @Test
    void anErrorNamesTheValueThatWentUnchecked() {
        JsonObject e = WazuhEvents.error(alert, ip, "MISP refused the request (HTTP 403)", "v");
        assertThat(e.getString("integration")).isEqualTo("misp");
        assertThat(e.getJsonObject("misp").getString("error")).contains("403");
        assertThat(e.getJsonObject("misp").getString("value")).isEqualTo("81.2.69.142");
        assertThat(e.getJsonObject("misp").containsKey("category")).isFalse();
    }
}
