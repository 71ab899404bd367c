package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The families the issue named, end to end on the real service (embedded PostgreSQL, shipped DRL, a MISP feed of
 * its own): an alert carrying a known-bad value goes in over HTTP and comes out as a row in {@code hits} (with the
 * rule's stable id) and as the event for Wazuh in the answer. The alerts are the golden cases'.
 */
class LogFamiliesIT {
    static ServiceUnderTest app;

    @BeforeAll
    static void start() throws Exception {
        Path work = Fixtures.workDir("log-families");
        Path feed = work.resolve("feed");
        Files.createDirectories(feed);
        String event = "b1d2c3e4-0000-4000-8000-00000000f010";
        JsonArray attributes = new JsonArray();
        String[][] values = {
                {"ip-dst", "81.2.69.142"},            // FortiGate dstip
                {"ip-src", "81.2.69.160"},            // CloudTrail sourceIPAddress
                {"ip-src", "81.2.69.144"},            // Office 365 ClientIP (with a port in the alert)
                {"ip-dst|port", "81.2.69.215|443"},   // WFP 5156 destAddress
                {"domain", "beacon.example.com"},     // Sysmon EID 3 destinationHostname
                {"ip-dst", "91.92.240.0/24"}};        // a CIDR block
        for (int i = 0; i < values.length; i++) {
            attributes.add(new JsonObject().put("uuid", "c0ffee00-0000-4000-8000-00000000000" + i)
                    .put("type", values[i][0]).put("category", "Network activity").put("value", values[i][1])
                    .put("to_ids", true).put("timestamp", "1756886400").put("Tag", new JsonArray()));
        }
        JsonObject meta = new JsonObject().put("info", "issue 10 families").put("threat_level_id", "2")
                .put("timestamp", "1756886400").put("published", true).put("uuid", event).put("date", "2025-09-03");
        Files.writeString(feed.resolve("manifest.json"), new JsonObject().put(event, meta.copy()).encode());
        Files.writeString(feed.resolve(event + ".json"),
                new JsonObject().put("Event", meta.copy().put("Attribute", attributes)).encode());
        app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", work.resolve("data").toString(),
                "CORRELATOR_FEED_DIR", feed.toString(),
                "CORRELATOR_DRL_WATCH", "false"));
    }

    @AfterAll
    static void stop() throws Exception {
        app.close();
    }

    static byte[] golden(String name, String alertId, String patchPath, String patchValue) throws Exception {
        JsonObject alert = new JsonObject(Files.readString(Path.of("drl/tests", name + ".json"))).getJsonObject("alert");
        alert.put("id", alertId);
        if (patchPath != null) {
            String[] p = patchPath.split("\\.");
            JsonObject o = alert;
            for (int i = 0; i < p.length - 1; i++) {
                o = o.getJsonObject(p[i]);
            }
            o.put(p[p.length - 1], patchValue);
        }
        return alert.encode().getBytes(StandardCharsets.UTF_8);
    }

    static List<String> rows(String alertId) throws Exception {
        try (Connection c = app.service().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT indicator_value || ' ' || drl_rule_id || ' ' || misp_value"
                     + " || ' ' || array_to_string(decided_by_ids, ',') FROM hits WHERE alert_id = ? ORDER BY id")) {
            ps.setString(1, alertId);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> out = new java.util.ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "fortigate-traffic-deny,           ,                                   , 81.2.69.142,        fw.fortigate,            81.2.69.142",
            "fortigate-traffic-deny,           data.dstip,                         91.92.240.17, 91.92.240.17, fw.fortigate,           91.92.240.0/24",
            "aws-cloudtrail-console-login,     ,                                   , 81.2.69.160,        cloud.aws.cloudtrail,    81.2.69.160",
            "office365-login-client-ip-port,   ,                                   , 81.2.69.144,        cloud.office365,         81.2.69.144",
            "windows-wfp-5156-outbound,        ,                                   , 81.2.69.215,        windows.wfp.connection,  81.2.69.215|443",
            "sysmon-eid3-destination-hostname, data.win.eventdata.destinationIp,  175.16.199.1, beacon.example.com, sysmon.eid3.outbound, beacon.example.com"})
    void aKnownBadValueGivesItsHitEndToEnd(String golden, String patchPath, String patchValue, String value, String ruleId,
                                           String mispValue) throws Exception {
        String alertId = "1757511618." + Math.abs((golden + patchValue).hashCode());
        Response r = app.post("/v1/alerts", golden(golden, alertId, patchPath, patchValue));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonArray events = r.json().getJsonArray("events");
        assertThat(events).hasSize(1);
        JsonObject correlator = events.getJsonObject(0).getJsonObject("correlator");
        assertThat(correlator.getJsonObject("indicator").getString("value")).isEqualTo(value);
        assertThat(correlator.getString("drl_rule_id")).isEqualTo(ruleId);
        assertThat(correlator.getInteger("severity")).isEqualTo(10);
        assertThat(correlator.getJsonArray("decided_by_ids").getList()).contains("score.threat.medium");
        assertThat(rows(alertId)).containsExactly(value + " " + ruleId + " " + mispValue + " score.threat.medium");
        // the event Wazuh gets back (the integration forwards the answer's events to analysisd)
        assertThat(events.getJsonObject(0).getString("integration")).isEqualTo("misp");
        assertThat(events.getJsonObject(0).getJsonObject("misp").getString("value")).isEqualTo(mispValue);
    }

    @Test
    void theCorrelatorsOwnEventHandedBackGivesNothing() throws Exception {
        String alertId = "1757511618.424242";
        Response r = app.post("/v1/alerts", golden("correlator-own-event-no-loop", alertId, null, null));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getJsonArray("indicators")).isEmpty();
        assertThat(r.json().getJsonArray("events")).isEmpty();
        assertThat(rows(alertId)).isEmpty();
    }

    @Test
    void theBlindSpotReportCoversRecentAlerts() throws Exception {
        app.post("/v1/alerts", ("{\"id\":\"1757511618.777\",\"rule\":{\"groups\":[\"acme\"]},\"decoder\":{\"name\":\"acme-edr\"},"
                + "\"data\":{\"peer\":\"216.160.83.7\"}}").getBytes(StandardCharsets.UTF_8));
        Response r = app.get("/v1/coverage");

        assertThat(r.status()).isEqualTo(200);
        JsonObject acme = r.json().getJsonArray("families").stream().map(JsonObject.class::cast)
                .filter(f -> f.getString("family").equals("acme-edr · acme")).findFirst().orElseThrow();
        assertThat(acme.getJsonArray("unextracted").getJsonObject(0).getString("field")).isEqualTo("data.peer");
        assertThat(r.json().getString("ruleset")).startsWith("sha256:");
    }
}
