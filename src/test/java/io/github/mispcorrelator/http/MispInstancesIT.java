package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Several MISP instances asked together, and sightings reported back to the one that matched. */
class MispInstancesIT {

    @Test
    void everyInstanceIsAskedEachHitNamesItsInstanceAndSightingsGoToIt() throws Exception {
        try (FakeMisp a = new FakeMisp(); FakeMisp b = new FakeMisp()) {
            a.answerWithAttributes(List.of(FakeMisp.attribute("from-a", "ip-dst", "81.2.69.142")));
            b.answerWithAttributes(List.of(FakeMisp.attribute("from-b", "ip-dst|port", "81.2.69.142|443")));
            try (ServiceUnderTest app = new ServiceUnderTest(Map.of(
                    "CORRELATOR_DATA_DIR", Fixtures.workDir("instances").toString(),
                    "CORRELATOR_MISP_URL", a.url() + "," + b.url(),
                    "CORRELATOR_MISP_KEY", "key-a,key-b",
                    "CORRELATOR_MISP_SIGHTINGS", "true",
                    "CORRELATOR_MISP_SIGHTINGS_INTERVAL", "100ms",
                    "CORRELATOR_DRL_WATCH", "false"))) {

                Response r = app.post("/v1/alerts", Fixtures.bytes("alerts/sysmon-eid3-ipv4.json"));

                JsonArray hits = r.json().getJsonArray("hits");
                assertThat(hits).hasSize(2);
                assertThat(hits.stream().map(h -> ((JsonObject) h).getJsonObject("misp").getString("instance")))
                        .containsExactlyInAnyOrder(a.url(), b.url());
                assertThat(a.searches().get(0).headers().get("Authorization")).isEqualTo("key-a");
                assertThat(b.searches().get(0).headers().get("Authorization")).isEqualTo("key-b");

                long deadline = System.nanoTime() + 10_000_000_000L;
                while ((sightings(a).isEmpty() || sightings(b).isEmpty()) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                JsonObject sighting = sightings(a).get(0).json();
                // the attribute that matched (its id), not its value: MISP would mark every attribute holding it
                assertThat(sighting.getString("id")).isEqualTo("1");
                assertThat(sighting.containsKey("values")).isFalse();
                long alertTime = io.github.mispcorrelator.alert.AlertParser.parse(Fixtures.bytes("alerts/sysmon-eid3-ipv4.json"))
                        .getEpochSecond().orElseThrow();
                assertThat(sighting.getString("timestamp")).isEqualTo(Long.toString(alertTime));
                assertThat(sighting.getString("source")).isEqualTo("wazuh:misp-correlator");
                assertThat(sightings(b)).hasSize(1);
                assertThat(sightings(a).get(0).headers().get("Authorization")).isEqualTo("key-a");

                // the same alert again stores nothing new: no second sighting
                assertThat(app.post("/v1/alerts", Fixtures.bytes("alerts/sysmon-eid3-ipv4.json")).status()).isEqualTo(200);
                Thread.sleep(500);
                assertThat(sightings(a)).hasSize(1);
            }
        }
    }

    @Test
    void aFailingSightingNeverFailsTheHit() throws Exception {
        try (FakeMisp misp = new FakeMisp()) {
            misp.answer(req -> req.path().equals("/sightings/add")
                    ? FakeMisp.Answer.json(403, "{\"message\":\"You do not have permission to use this functionality.\"}")
                    // with X-Result-Count, as MISP always sends it (AppController.php:1442)
                    : new FakeMisp.Answer(200, Map.of("Content-Type", "application/json", "X-Result-Count", "1"),
                    new JsonObject().put("response", new JsonObject().put("Attribute",
                    new JsonArray().add(FakeMisp.attribute("u", "ip-dst", "81.2.69.142")))).encode(), 0));
            try (ServiceUnderTest app = new ServiceUnderTest(Map.of(
                    "CORRELATOR_DATA_DIR", Fixtures.workDir("sightings-fail").toString(),
                    "CORRELATOR_MISP_URL", misp.url(),
                    "CORRELATOR_MISP_SIGHTINGS", "true",
                    "CORRELATOR_MISP_SIGHTINGS_INTERVAL", "50ms",
                    "CORRELATOR_DRL_WATCH", "false"))) {
                for (int i = 0; i < 3; i++) {
                    Response r = app.post("/v1/alerts", Fixtures.bytes("alerts/sysmon-eid3-ipv4.json"));
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.json().getJsonArray("hits")).hasSize(1);
                    Thread.sleep(100);
                }
                assertThat(sightings(misp)).isNotEmpty();
                assertThat(app.get("/metrics").body()).contains("misp_sightings_total{outcome=\"failed\"");
            }
        }
    }

    static List<FakeMisp.Request> sightings(FakeMisp misp) {
        return misp.requests().stream().filter(r -> r.path().equals("/sightings/add")).toList();
    }
}
