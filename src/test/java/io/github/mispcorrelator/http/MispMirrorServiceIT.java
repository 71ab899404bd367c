package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.PagedMisp;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local mirror in the whole service: {@code MISP_MIRROR=true} loads MISP in pages, answers alerts with no request
 * to MISP, shows its state at {@code GET /v1/misp/status}, and after a restart answers from PostgreSQL even while
 * MISP is down. Off by default: alerts are looked up live, as before.
 */
class MispMirrorServiceIT {

    static byte[] connection(String id, String ip) {
        JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json"));
        alert.put("id", id);
        alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", ip);
        return alert.encode().getBytes();
    }

    static Map<String, String> env(FakeMisp misp, boolean mirror) {
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_MISP_URL", misp.url());
        env.put("CORRELATOR_MISP_KEY", "k");
        env.put("CORRELATOR_DRL_WATCH", "false");
        env.put("CORRELATOR_DATA_DIR", Fixtures.workDir("mirror-service").toString());
        if (mirror) {
            env.put("CORRELATOR_MISP_MIRROR", "true");
            env.put("CORRELATOR_MISP_MIRROR_PAGE", "10");
        }
        return env;
    }

    static JsonObject awaitLoaded(ServiceUnderTest app) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        JsonObject instance;
        do {
            Response r = app.get("/v1/misp/status");
            assertThat(r.status()).isEqualTo(200);
            instance = r.json().getJsonArray("instances").getJsonObject(0);
            if (instance.getBoolean("loaded") && !instance.getJsonObject("sync").getBoolean("in_progress")) {
                return r.json();
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("mirror not loaded: " + instance);
    }

    static long count(String sql, String arg) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A port an earlier test's fake MISP had names the same instance: start without its mirror. */
    static void forget(String instance) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection()) {
            for (String table : List.of("misp_mirror_attributes", "misp_mirror_state")) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE instance = ?")) {
                    ps.setString(1, instance);
                    ps.executeUpdate();
                }
            }
        }
    }

    @Test
    void theMirrorAnswersAlertsWithoutAskingMispAndSurvivesARestart() throws Exception {
        String run = Long.toString(System.nanoTime());
        try (FakeMisp misp = new FakeMisp()) {
            forget(misp.url());
            PagedMisp data = new PagedMisp().serve(misp);
            long t0 = Instant.now().getEpochSecond() - 3600;
            for (int n = 1; n <= 25; n++) {
                data.add("svc-" + run + "-" + n, "ip-dst", "81.2.73." + n, t0 + n);
            }
            try (ServiceUnderTest app = new ServiceUnderTest(env(misp, true))) {
                JsonObject status = awaitLoaded(app);
                JsonObject instance = status.getJsonArray("instances").getJsonObject(0);
                assertThat(status.getString("mode")).isEqualTo("mirror");
                assertThat(instance.getString("instance")).isEqualTo(misp.url());
                assertThat(instance.getInteger("attributes")).isEqualTo(25);
                assertThat(instance.getString("last_sync")).isNotNull();
                assertThat(instance.getString("last_full_sync")).isNotNull();
                assertThat(instance.getLong("lag_seconds")).isBetween(0L, 60L);
                assertThat(instance.getString("index_from")).isEqualTo("misp");
                assertThat(misp.searches()).hasSize(3)
                        .allSatisfy(r -> assertThat(r.json().containsKey("value")).isFalse());

                misp.reset();
                Response r = app.post("/v1/alerts", connection("1770000000." + run + "1", "81.2.73.5"));
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.json().getJsonArray("hits")).hasSize(1);
                JsonObject hit = r.json().getJsonArray("hits").getJsonObject(0).getJsonObject("misp");
                assertThat(hit.getString("attribute_uuid")).isEqualTo("svc-" + run + "-5");
                assertThat(hit.getString("instance")).isEqualTo(misp.url());
                assertThat(app.post("/v1/alerts", connection("1770000000." + run + "2", "81.2.74.1")).json()
                        .getJsonArray("hits")).isEmpty();
                assertThat(misp.requests()).as("no request to MISP for lookups").isEmpty();

                assertThat(app.get("/metrics").body()).contains("misp_mirror_attributes")
                        .contains("misp_mirror_lag_seconds");
            }

            // restart while MISP is down: the copy in PostgreSQL answers
            misp.reset();
            misp.answer(FakeMisp.Answer.json(500, "{\"message\":\"down\"}"));
            try (ServiceUnderTest app = new ServiceUnderTest(env(misp, true))) {
                long deadline = System.nanoTime() + 60_000_000_000L;
                JsonObject instance;
                do {
                    instance = app.get("/v1/misp/status").json().getJsonArray("instances").getJsonObject(0);
                    Thread.sleep(20);
                } while (!instance.getBoolean("loaded") && System.nanoTime() < deadline);
                assertThat(instance.getString("index_from")).isEqualTo("postgresql");
                assertThat(instance.getInteger("attributes")).isEqualTo(25);

                Response r = app.post("/v1/alerts", connection("1770000000." + run + "3", "81.2.73.6"));
                assertThat(r.json().getJsonArray("hits")).hasSize(1);
                assertThat(r.json().getJsonArray("events").getJsonObject(0).getJsonObject("misp").getString("error"))
                        .as("no error event: MISP's outage does not matter to lookups").isNull();
                assertThat(misp.searches()).as("only incremental pulls after a restart")
                        .allSatisfy(q -> assertThat(q.json().containsKey("timestamp")
                                || q.json().containsKey("publish_timestamp")).isTrue());
                assertThat(app.get("/health/ready").status()).isEqualTo(200);
            }
        }
    }

    @Test
    void withoutMispMirrorLookupsAreLiveAsBefore() throws Exception {
        String run = Long.toString(System.nanoTime());
        try (FakeMisp misp = new FakeMisp()) {
            forget(misp.url());
            misp.answerWithAttributes(List.of(FakeMisp.attribute("live-" + run, "ip-dst", "81.2.75.9")));
            try (ServiceUnderTest app = new ServiceUnderTest(env(misp, false))) {
                JsonObject status = app.get("/v1/misp/status").json();
                assertThat(status.getString("mode")).isEqualTo("live");
                assertThat(status.getJsonArray("instances").getJsonObject(0).getString("instance")).isEqualTo(misp.url());

                Response r = app.post("/v1/alerts", connection("1770000001." + run, "81.2.75.9"));
                assertThat(r.json().getJsonArray("hits")).hasSize(1);
                assertThat(misp.searches()).hasSize(1);
                assertThat(misp.searches().get(0).json().getJsonObject("value").getJsonArray("OR").getList()).contains("81.2.75.9");
                assertThat(count("SELECT count(*) FROM misp_mirror_state WHERE instance = ?", misp.url())).isZero();
                assertThat(app.get("/metrics").body()).doesNotContain("misp_mirror_attributes");
            }
        }
    }
}
