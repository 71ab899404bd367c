package io.github.mispcorrelator.http;

import io.github.mispcorrelator.store.EmbeddedPostgresServer;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.LogCapture;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, defect 8: credentials planted in {@code MISP_URL} (user info) and {@code DB_URL} (a password parameter)
 * appear in no answer — events, hits, exports, stats, metrics, status, readiness — and in no log line. The MISP
 * instance is named by its URL without them, everywhere.
 */
class SecretsIT {
    static final String MISP_USER = "PlantedMispUser";
    static final String MISP_PASSWORD = "PlantedMispPw1";
    static final String DB_PASSWORD = "PlantedDbPw3";

    @Test
    void plantedPasswordsAppearInNoAnswerAndNoLogLine() throws Exception {
        EmbeddedPostgresServer db = EmbeddedPostgresServer.start(Fixtures.workDir("secrets-db"));
        try (LogCapture log = LogCapture.open(); FakeMisp misp = new FakeMisp()) {
            misp.answerWithAttributes(List.of(FakeMisp.attribute("secret-1", "ip-dst", "81.2.74.9")));
            String mispUrl = misp.url().replace("://", "://" + MISP_USER + ":" + MISP_PASSWORD + "@");
            String dbUrl = db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "password=" + DB_PASSWORD;
            List<String> answers = new ArrayList<>();
            try (ServiceUnderTest app = new ServiceUnderTest(Map.of(
                    "CORRELATOR_DB_URL", dbUrl, "CORRELATOR_DB_USER", db.user(),
                    "CORRELATOR_MISP_URL", mispUrl, "CORRELATOR_MISP_RETRIES", "0"))) {
                JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json")).put("id", "1760002000.1");
                alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", "81.2.74.9");
                ServiceUnderTest.Response r = app.post("/v1/alerts", alert.encode().getBytes());
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.json().getJsonArray("hits")).hasSize(1);
                String instance = r.json().getJsonArray("events").getJsonObject(0).getJsonObject("misp").getString("instance");
                assertThat(instance).isEqualTo(misp.url());
                answers.add(r.body());
                answers.add(app.post("/v1/alerts/batch", alert.put("id", "1760002000.2").encode().getBytes()).body());
                for (String path : List.of("/v1/hits", "/v1/hits?format=csv", "/v1/hits?format=ndjson&with_alert=true",
                        "/v1/hits/stats", "/metrics", "/v1/misp/status", "/health/ready", "/health/live", "/v1/rules")) {
                    ServiceUnderTest.Response a = app.get(path);
                    assertThat(a.status()).as(path).isEqualTo(200);
                    answers.add(a.body());
                }
                assertThat(String.join("\n", answers)).contains("/events/view/");
                // MISP down: the error events and the status name the instance the same way
                misp.answer(FakeMisp.Answer.json(500, "{}"));
                alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", "81.2.74.10");
                answers.add(app.post("/v1/alerts", alert.put("id", "1760002000.3").encode().getBytes()).body());
                answers.add(app.get("/v1/misp/status").body());
            }
            String everything = String.join("\n", answers) + "\n" + log.text();
            assertThat(everything).doesNotContain(MISP_PASSWORD).doesNotContain(MISP_USER).doesNotContain(DB_PASSWORD);
            assertThat(misp.searches()).isNotEmpty();
        } finally {
            db.close();
        }
    }
}
