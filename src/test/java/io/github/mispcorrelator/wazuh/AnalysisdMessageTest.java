package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class AnalysisdMessageTest {

    private static Alert agent(String id, String name, String ip) {
        return AlertParser.parse(new JsonObject().put("agent", new JsonObject().put("id", id).put("name", name).put("ip", ip)).encode());
    }

    @Test
    void ipv6AgentAddressesAreEscapedSoAnalysisdCanSplitTheLocation() {
        assertThat(AnalysisdMessage.location(agent("015", "web-01", "fd00:1::15")))
                .isEqualTo("[015] (web-01) fd00|:1|:|:15->misp");
    }

    @Test
    void pipesAreDoubledBeforeColonsAreEscaped() {
        assertThat(AnalysisdMessage.location(agent("002", "a|b:c", "81.2.69.142")))
                .isEqualTo("[002] (a||b|:c) 81.2.69.142->misp");
    }

    @Test
    void theManagersOwnAlertsGoToLocationMisp() {
        assertThat(AnalysisdMessage.location(agent("000", "wazuh", "127.0.0.1"))).isEqualTo("misp");
        assertThat(AnalysisdMessage.location(AlertParser.parse("{}"))).isEqualTo("misp");
    }

    @Test
    void theMessageIsQueueIdLocationAndJson() {
        JsonObject event = new JsonObject().put("integration", "misp");
        byte[] msg = AnalysisdMessage.format(agent("001", "host", "10.0.0.5"), event);
        assertThat(new String(msg, StandardCharsets.UTF_8)).isEqualTo("1:[001] (host) 10.0.0.5->misp:{\"integration\":\"misp\"}");
    }

    @Test
    void anOversizedEventIsShrunkToFitOneDatagram() {
        JsonArray tags = new JsonArray();
        for (int i = 0; i < 5000; i++) {
            tags.add("misp-galaxy:threat-actor=\"actor number " + i + "\"");
        }
        JsonObject event = new JsonObject().put("integration", "misp")
                .put("misp", new JsonObject().put("value", "81.2.69.142").put("tags", tags)
                        .put("source", new JsonObject().put("description", "d".repeat(10_000))));
        byte[] msg = AnalysisdMessage.format(agent("001", "host", "10.0.0.5"), event);
        assertThat(msg.length).isLessThanOrEqualTo(AnalysisdMessage.MAX_BYTES);
        String text = new String(msg, StandardCharsets.UTF_8);
        assertThat(text).contains("\"value\":\"81.2.69.142\"").contains("\"truncated\":true");
    }
}
