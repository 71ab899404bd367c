package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A live MISP that refuses, fails or hangs: the alert still gets an answer, with error events for Wazuh. */
class MispOutageIT {
    static FakeMisp misp;
    static ServiceUnderTest app;

    @BeforeAll
    static void start() {
        misp = new FakeMisp();
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_MISP_URL", misp.url());
        env.put("CORRELATOR_MISP_KEY", "k3y");
        env.put("CORRELATOR_MISP_TIMEOUT", "500ms");
        app = new ServiceUnderTest(env);
    }

    @AfterAll
    static void stop() {
        app.close();
        misp.close();
    }

    @Test
    void refusedLookupGivesAnErrorEventAndTheNextAlertIsServed() throws Exception {
        misp.answer(FakeMisp.Answer.json(403, Fixtures.text("misp/error-403.json")));
        Response refused = app.post("/v1/alerts", Fixtures.bytes("alerts/sysmon-eid3-ipv6.json"));

        assertThat(refused.status()).isEqualTo(200);
        assertThat(refused.json().getJsonArray("hits")).isEmpty();
        JsonObject event = refused.json().getJsonArray("events").getJsonObject(0);
        assertThat(event.getString("integration")).isEqualTo("misp");
        assertThat(event.getJsonObject("misp").getString("error")).contains("HTTP 403");
        assertThat(event.getJsonObject("misp").getString("value")).isEqualTo("2a02:cf40:add:4411:1234::42");

        misp.answerWithAttributes(List.of(new JsonObject()
                .put("id", "7").put("event_id", "3").put("uuid", "b7000000-0000-4000-8000-000000000007")
                .put("type", "ip-dst").put("category", "Network activity").put("to_ids", true)
                .put("value", "2a02:cf40:add:4411:1234::42")
                .put("Event", new JsonObject().put("id", "3").put("uuid", "e3").put("info", "v6 C2").put("threat_level_id", "2"))));
        Response ok = app.post("/v1/alerts", Fixtures.bytes("alerts/sysmon-eid3-ipv6.json"));
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().getJsonArray("hits")).hasSize(1);
        assertThat(ok.json().getJsonArray("events").getJsonObject(0).getJsonObject("misp").getString("type")).isEqualTo("ip-dst");
    }

    @Test
    void aHungMispCostsTheAlertTheTimeoutNotMore() throws Exception {
        misp.answer(FakeMisp.Answer.hang());
        long start = System.nanoTime();
        Response r = app.post("/v1/alerts", Fixtures.bytes("alerts/sysmon-eid1-stock.json"));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getJsonArray("events")).hasSize(4)
                .allSatisfy(e -> assertThat(((JsonObject) e).getJsonObject("misp").getString("error")).contains("500 ms"));
        assertThat(ms).isLessThan(5_000);
    }
}
