package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, defects 2 and 3: beyond its caps the service sheds — 503 with {@code Retry-After}, at once, without
 * reading the body — instead of queueing without bound; readiness says so; once the load passes, it serves again.
 */
class OverloadIT {

    static byte[] alert(int n) {
        JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json"));
        alert.put("id", "1760001000." + n);
        alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", "81.2.73." + n);
        return alert.encode().getBytes();
    }

    @Test
    void singleAlertsAndBatchesBeyondTheCapsAre503WithRetryAfter() throws Exception {
        try (FakeMisp misp = new FakeMisp();
             ServiceUnderTest app = new ServiceUnderTest(Map.of(
                     "CORRELATOR_DATA_DIR", Fixtures.workDir("overload").toString(),
                     "CORRELATOR_MISP_URL", misp.url(),
                     "CORRELATOR_MISP_CACHE_SIZE", "0",
                     "CORRELATOR_HTTP_MAX_IN_FLIGHT", "4",
                     "CORRELATOR_HTTP_MAX_BATCHES", "1"))) {
            // MISP takes 2 s for everything: what is admitted stays in flight meanwhile
            misp.answer(new FakeMisp.Answer(200, Map.of("Content-Type", "application/json"),
                    "{\"response\":{\"Attribute\":[]}}", 2_000));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + app.service().httpPort();
            List<CompletableFuture<HttpResponse<String>>> singles = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int n = 1; n <= 12; n++) {
                singles.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/alerts"))
                        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(alert(n))).build(), HttpResponse.BodyHandlers.ofString()));
            }
            List<CompletableFuture<HttpResponse<String>>> batches = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                batches.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/alerts/batch"))
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(alert(100 + n))).build(), HttpResponse.BodyHandlers.ofString()));
            }
            // the shed requests are answered at once, long before MISP answers the admitted ones
            Thread.sleep(1_000);
            long shedFast = singles.stream().filter(CompletableFuture::isDone).count();
            assertThat(shedFast).isGreaterThanOrEqualTo(8);
            ServiceUnderTest.Response ready = app.get("/health/ready");
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.json().getString("admission")).isEqualTo("FULL");

            List<Integer> statuses = new ArrayList<>();
            for (var f : singles) {
                HttpResponse<String> r = f.get();
                statuses.add(r.statusCode());
                if (r.statusCode() == 503) {
                    assertThat(r.headers().firstValue("Retry-After")).isPresent();
                    assertThat(new JsonObject(r.body()).getString("error")).contains("CORRELATOR_HTTP_MAX_IN_FLIGHT");
                }
            }
            assertThat(statuses).containsOnly(200, 503);
            assertThat(statuses.stream().filter(s -> s == 200).count()).isEqualTo(4);
            List<Integer> batchStatuses = new ArrayList<>();
            for (var f : batches) {
                batchStatuses.add(f.get().statusCode());
            }
            assertThat(batchStatuses.stream().filter(s -> s == 200).count()).isEqualTo(1);
            assertThat(batchStatuses.stream().filter(s -> s == 503).count()).isEqualTo(2);
            assertThat(System.nanoTime() - t0).isLessThan(20_000_000_000L);

            assertThat(app.get("/metrics").body())
                    .containsPattern("http_shed_requests_total\\{endpoint=\"alerts\"[^}]*\\} 8\\.0")
                    .containsPattern("http_shed_requests_total\\{endpoint=\"alerts_batch\"[^}]*\\} 2\\.0");

            // the load is gone: admitted again, ready again (after the shedding memory of a few seconds)
            misp.answer(FakeMisp.Answer.json(200, "{\"response\":{\"Attribute\":[]}}"));
            assertThat(app.post("/v1/alerts", alert(50)).status()).isEqualTo(200);
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (app.get("/health/ready").status() != 200 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(app.get("/health/ready").status()).isEqualTo(200);
        }
    }
}
