package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The detection engineer's API: rule status, reload, and testing an alert without storing anything. */
class RulesApiIT {
    static ServiceUnderTest app;
    static Path drl;

    @BeforeAll
    static void start() throws Exception {
        Path work = Fixtures.workDir("rules-api");
        drl = Files.createDirectories(work.resolve("drl"));
        try (var files = Files.list(Path.of("drl"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".drl")).toList()) {
                Files.copy(f, drl.resolve(f.getFileName()));
            }
        }
        app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", work.resolve("data").toString(),
                "CORRELATOR_DRL_DIR", drl.toString(),
                "CORRELATOR_DRL_WATCH", "false"));
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static long hitRows() throws Exception {
        try (Connection c = app.service().database().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM hits")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void statusNamesTheVersionFilesAndRules() throws Exception {
        JsonObject status = app.get("/v1/rules").json();
        assertThat(status.getString("version")).startsWith("sha256:");
        assertThat(status.getString("loaded_at")).isNotBlank();
        assertThat(status.getJsonArray("files").getList()).contains("extract-sysmon.drl", "score.drl");
        assertThat(status.getJsonArray("rules").getList()).contains("Sysmon EID 22: DNS query name");
    }

    @Test
    void testingAnAlertWithItsOwnMispAnswerStoresNothing() throws Exception {
        long before = hitRows();
        JsonObject testCase = new JsonObject()
                .put("alert", new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json")))
                .put("misp", new JsonArray().add(new JsonObject()
                        .put("id", "1").put("event_id", "2").put("uuid", "aaaa0000-0000-4000-8000-000000000001")
                        .put("type", "ip-dst|port").put("category", "Network activity").put("to_ids", true)
                        .put("timestamp", "1756800000").put("value", "81.2.69.142|443")
                        .put("Event", new JsonObject().put("id", "2").put("uuid", "e2").put("info", "C2").put("threat_level_id", "3"))));

        Response r = app.post("/v1/rules/test", testCase.encode().getBytes());

        assertThat(r.status()).isEqualTo(200);
        JsonObject body = r.json();
        assertThat(body.getJsonObject("fired").getJsonArray("extract").getList()).contains("Sysmon EID 3: outbound connection destination");
        assertThat(body.getJsonObject("fired").getJsonArray("score").getList()).contains("Severity: MISP threat level low");
        assertThat(body.getJsonArray("hits")).hasSize(1);
        assertThat(body.getJsonArray("hits").getJsonObject(0).getInteger("severity")).isEqualTo(7);
        assertThat(body.getBoolean("stored")).isFalse();
        assertThat(hitRows()).isEqualTo(before);
    }

    @Test
    void aBareAlertIsLookedUpInTheConfiguredSource() throws Exception {
        Response r = app.post("/v1/rules/test", Files.readAllBytes(Path.of("config/samples/sysmon-eid1-eicar.json")));
        assertThat(r.json().getJsonArray("hits")).hasSize(3);
        assertThat(r.json().getJsonArray("indicators")).hasSize(3);
    }

    @Test
    void aBrokenReloadIsRejectedAndTheLastGoodRulesKeepServing() throws Exception {
        String before = app.get("/v1/rules").json().getString("version");
        Path broken = drl.resolve("zz-broken.drl");
        Files.writeString(broken, "package x;\n\nrule \"oops\"\nwhen\n    Alert( \nthen\nend\n");
        try {
            Response r = app.post("/v1/rules/reload", new byte[0]);
            assertThat(r.status()).isEqualTo(422);
            JsonObject problem = r.json().getJsonArray("problems").getJsonObject(0);
            assertThat(problem.getString("file")).endsWith("zz-broken.drl");
            assertThat(problem.getInteger("line")).isPositive();
            assertThat(app.get("/v1/rules").json().getJsonObject("last_reload").getString("outcome")).isEqualTo("rejected");
            assertThat(app.get("/v1/rules").json().getString("version")).isEqualTo(before);
            assertThat(app.post("/v1/alerts", Files.readAllBytes(Path.of("config/samples/sysmon-eid22-c2.json"))).status())
                    .isEqualTo(200);
        } finally {
            Files.delete(broken);
        }
        Response fixed = app.post("/v1/rules/reload", new byte[0]);
        assertThat(fixed.status()).isEqualTo(200);
    }
}
