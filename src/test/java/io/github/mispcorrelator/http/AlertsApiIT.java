package io.github.mispcorrelator.http;

import io.github.mispcorrelator.wazuh.AnalysisdMessage;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service on its embedded defaults — embedded PostgreSQL, the demo MISP feed, the shipped DRL — driven over HTTP
 * with the README's sample alerts, as a new user would.
 */
class AlertsApiIT {
    static ServiceUnderTest app;

    @BeforeAll
    static void start() {
        app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", Fixtures.workDir("api").toString(),
                "CORRELATOR_HTTP_BODY_LIMIT", "64k"));
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static byte[] sample(String name) throws Exception {
        return Files.readAllBytes(Path.of("config/samples", name));
    }

    static long rowsFor(String alertId) throws Exception {
        var ds = app.service().database().dataSource();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM hits WHERE alert_id = '" + alertId + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void theReadmeExampleFindsTheEicarHashesInTheDemoFeed() throws Exception {
        Response r = app.post("/v1/alerts", sample("sysmon-eid1-eicar.json"));

        assertThat(r.status()).isEqualTo(200);
        JsonObject body = r.json();
        String alertId = body.getString("alert_id");
        assertThat(body.getJsonArray("indicators")).hasSize(3);
        JsonArray hits = body.getJsonArray("hits");
        // md5 matches one attribute; sha256 matches the plain and the filename|sha256 attribute
        assertThat(hits).hasSize(3);
        JsonArray events = body.getJsonArray("events");
        assertThat(events).hasSize(3);
        JsonObject event = events.getJsonObject(0);
        assertThat(event.getString("integration")).isEqualTo("misp");
        assertThat(event.getJsonObject("misp").getString("category")).isEqualTo("Payload delivery");
        assertThat(event.getJsonObject("misp").getJsonObject("source").getString("description")).isNotBlank();
        assertThat(event.getJsonObject("correlator").getInteger("severity")).isEqualTo(12);
        assertThat(event.getJsonObject("correlator").getString("ruleset")).startsWith("sha256:");
        assertThat(rowsFor(alertId)).isEqualTo(3);
    }

    @Test
    void aResentAlertGetsTheSameAnswerAndAddsNoRow() throws Exception {
        Response first = app.post("/v1/alerts", sample("sysmon-eid3-c2.json"));
        Response again = app.post("/v1/alerts", sample("sysmon-eid3-c2.json"));
        assertThat(first.status()).isEqualTo(200);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().getJsonArray("hits")).hasSize(first.json().getJsonArray("hits").size()).isNotEmpty();
        assertThat(rowsFor(first.json().getString("alert_id"))).isEqualTo(1);
    }

    @Test
    void dnsQueriesAndCleanFilesBehave() throws Exception {
        Response dns = app.post("/v1/alerts", sample("sysmon-eid22-c2.json"));
        assertThat(dns.json().getJsonArray("hits")).extracting(h -> ((JsonObject) h).getJsonObject("misp").getString("value"))
                .containsExactlyInAnyOrder("c2.misp-correlator-demo.net", "81.2.69.192");
        Response clean = app.post("/v1/alerts", sample("syscheck-added-clean.json"));
        assertThat(clean.status()).isEqualTo(200);
        assertThat(clean.json().getJsonArray("indicators")).hasSize(3);
        assertThat(clean.json().getJsonArray("hits")).isEmpty();
        assertThat(clean.json().getJsonArray("events")).isEmpty();
    }

    @Test
    void formatAnalysisdAddsEachEventAsItsAnalysisdMessage() throws Exception {
        byte[] alert = sample("sysmon-eid22-c2.json");
        Response plain = app.post("/v1/alerts", alert);
        Response lines = app.post("/v1/alerts?format=analysisd", alert);
        assertThat(plain.json().containsKey("analysisd")).isFalse();
        JsonArray events = lines.json().getJsonArray("events");
        JsonArray messages = lines.json().getJsonArray("analysisd");
        assertThat(events).isEqualTo(plain.json().getJsonArray("events")).isNotEmpty();
        assertThat(messages).hasSize(events.size());
        assertThat(lines.json().getInteger("analysisd_unfit")).isZero();
        Alert parsed = AlertParser.parse(alert);
        for (int i = 0; i < events.size(); i++) {
            assertThat(messages.getString(i).getBytes(StandardCharsets.UTF_8))
                    .isEqualTo(AnalysisdMessage.format(parsed, events.getJsonObject(i)));
        }
        Response unknown = app.post("/v1/alerts?format=xml", alert);
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().getString("error")).startsWith("format: expected analysisd");
    }

    @Test
    void curlsDefaultFormContentTypeIsReadAsJson() throws Exception {
        // a '%' in the alert would break a form decoder
        byte[] alert = Fixtures.text("alerts/sysmon-eid3-ipv4.json").replace("\"protocol\"", "\"note\":\"100%\",\"protocol\"")
                .getBytes(StandardCharsets.UTF_8);
        Response r = app.post("/v1/alerts", alert, Map.of("Content-Type", "application/x-www-form-urlencoded"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getJsonArray("indicators")).hasSize(1);
    }

    @Test
    void malformedJsonIs400WithAJsonError() throws Exception {
        Response r = app.post("/v1/alerts", "{\"id\": \"1.2\", ".getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().getString("error")).startsWith("malformed JSON");
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json");
    }

    @Test
    void aNonObjectIs400() throws Exception {
        assertThat(app.post("/v1/alerts", "[{\"id\":\"1\"}]".getBytes()).status()).isEqualTo(400);
        assertThat(app.post("/v1/alerts", "\"text\"".getBytes()).json().getString("error")).contains("a string");
        assertThat(app.post("/v1/alerts", new byte[0]).status()).isEqualTo(400);
    }

    @Test
    void anAlertMissingFieldsIsServedNotRejected() throws Exception {
        Response r = app.post("/v1/alerts", "{\"rule\":{\"groups\":[\"sysmon\",\"sysmon_eid1_detections\"]}}".getBytes());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getJsonArray("indicators")).isEmpty();
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        byte[] big = ("{\"full_log\":\"" + "x".repeat(70 * 1024) + "\"}").getBytes();
        Response r = app.post("/v1/alerts", big);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().getString("error")).contains("too large");
        // and the next alert is served normally
        assertThat(app.post("/v1/alerts", sample("sysmon-eid1-eicar.json")).status()).isEqualTo(200);
    }

    @Test
    void healthEndpointsReportRulesAndStore() throws Exception {
        assertThat(app.get("/health/live").status()).isEqualTo(200);
        Response ready = app.get("/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().getString("rules")).isEqualTo(app.service().rules().version());
        assertThat(ready.json().getString("store")).isEqualTo("UP");
    }

    @Test
    void unknownPathsAndMethodsAnswerJson() throws Exception {
        Response missing = app.get("/v1/nothing");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().getString("error")).contains("/v1/nothing");
        assertThat(app.get("/v1/alerts").status()).isEqualTo(405);
    }
}
