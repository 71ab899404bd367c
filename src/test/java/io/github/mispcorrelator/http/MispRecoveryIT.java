package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A MISP outage loses no hit: alerts answered with error events while MISP hangs wait in the re-check queue, the
 * breaker fails later alerts fast, and once MISP answers again every affected alert is checked and its hits stored.
 */
class MispRecoveryIT {

    static long count(ServiceUnderTest app, String sql) throws Exception {
        try (Connection c = app.service().database().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static byte[] connection(int n) {
        JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json"));
        alert.put("id", "1760000000." + n);
        alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", "81.2.72." + n);
        return alert.encode().getBytes();
    }

    @Test
    void everyAlertHitDuringAnOutageIsRecheckedOnceMispRecovers() throws Exception {
        try (FakeMisp misp = new FakeMisp();
             ServiceUnderTest app = new ServiceUnderTest(Map.of(
                     "CORRELATOR_DATA_DIR", Fixtures.workDir("recovery").toString(),
                     "CORRELATOR_MISP_URL", misp.url(),
                     "CORRELATOR_MISP_TIMEOUT", "300ms",
                     "CORRELATOR_MISP_RETRIES", "0",
                     "CORRELATOR_MISP_BREAKER_FAILURES", "2",
                     "CORRELATOR_MISP_BREAKER_OPEN", "300ms",
                     "CORRELATOR_MISP_RECHECK_INTERVAL", "1s",
                     "CORRELATOR_DRL_WATCH", "false"))) {
            misp.answer(r -> FakeMisp.Answer.hang());

            for (int n = 1; n <= 4; n++) {
                long t0 = System.nanoTime();
                Response r = app.post("/v1/alerts", connection(n));
                assertThat((System.nanoTime() - t0) / 1_000_000).as("alert %d waited", n).isLessThan(2_000);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.json().getJsonArray("events").getJsonObject(0).getJsonObject("misp").getString("error"))
                        .isNotBlank();
            }
            // the breaker opened after two failures: the last alerts did not wait for MISP at all
            assertThat(misp.searches()).hasSizeLessThanOrEqualTo(3);
            assertThat(count(app, "SELECT count(*) FROM recheck_queue")).isEqualTo(4);
            // alerts are still accepted (and queued for a re-check): ready; MISP's state is in the status and metrics
            assertThat(app.get("/health/ready").status()).isEqualTo(200);
            assertThat(app.get("/metrics").body()).containsPattern("misp_breaker_open\\{[^}]*\\} 1\\.0");

            List<JsonObject> known = new ArrayList<>();
            for (int n = 1; n <= 4; n++) {
                known.add(FakeMisp.attribute("rec-" + n, "ip-dst", "81.2.72." + n));
            }
            misp.answerWithAttributes(known);

            long deadline = System.nanoTime() + 30_000_000_000L;
            // the re-check stores an alert's hits and then removes its queue row: wait for both
            while ((count(app, "SELECT count(*) FROM hits WHERE alert_id LIKE '1760000000.%'") < 4
                    || count(app, "SELECT count(*) FROM recheck_queue") > 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(count(app, "SELECT count(*) FROM hits WHERE alert_id LIKE '1760000000.%'")).isEqualTo(4);
            assertThat(count(app, "SELECT count(*) FROM recheck_queue")).isZero();
            assertThat(app.get("/health/ready").status()).isEqualTo(200);

            String metrics = app.get("/metrics").body();
            assertThat(metrics).contains("misp_requests_total").contains("misp_breaker_open")
                    .contains("misp_cache_hit_ratio").contains("misp_batch_size").contains("misp_request_latency");
        }
    }
}
