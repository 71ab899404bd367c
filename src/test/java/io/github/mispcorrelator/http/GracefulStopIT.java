package io.github.mispcorrelator.http;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stop (SIGTERM, as systemd sends it) lets the alerts in flight finish: an alert waiting for a slow MISP when the
 * service is closed still gets its answer, with its hits stored.
 */
class GracefulStopIT {

    @Test
    void anAlertInFlightWhenTheServiceStopsIsAnsweredAndStored() throws Exception {
        byte[] alert = Files.readAllBytes(Path.of("config/samples/sysmon-eid3-c2.json"));
        String c2 = new JsonObject(new String(alert)).getJsonObject("data").getJsonObject("win")
                .getJsonObject("eventdata").getString("destinationIp");
        try (FakeMisp misp = new FakeMisp()) {
            // every restSearch answered after 2 s: the alert is still in flight when the stop begins
            var attributes = List.of(FakeMisp.attribute("a1b2c3d4-0000-4000-8000-00000000f1f1", "ip-dst", c2));
            misp.answer(r -> {
                if (!r.path().equals("/attributes/restSearch")) {
                    return FakeMisp.Answer.json(200, "{\"version\":\"2.5.1\"}");
                }
                // X-Result-Count as MISP sends it (app/Controller/AppController.php:1442): without it a page is no end
                return new FakeMisp.Answer(200, Map.of("Content-Type", "application/json", "X-Result-Count", "1"),
                        new JsonObject().put("response", new JsonObject().put("Attribute", attributes)).encode(), 2000);
            });
            Map<String, String> env = new HashMap<>(TestDatabase.env());
            env.put("CORRELATOR_MISP_URL", misp.url());
            env.put("CORRELATOR_MISP_KEY", "graceful-stop-key");
            env.put("CORRELATOR_DRL_WATCH", "false");
            ServiceUnderTest app = new ServiceUnderTest(env);
            int port = app.service().httpPort();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/v1/alerts"))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(alert)).build(), HttpResponse.BodyHandlers.ofString());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (misp.searches().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(misp.searches()).as("the alert reached MISP").isNotEmpty();
            long closing = System.nanoTime();
            app.close();
            long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing);
            HttpResponse<String> response = inFlight.get(30, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(new JsonObject(response.body()).getJsonArray("hits")).isNotEmpty();
            // the stop waited for the answer, not for the grace period: an idle keep-alive connection holds nothing up
            assertThat(closeMs).as("close took %d ms", closeMs).isLessThan(java.time.Duration.parse("PT" + CorrelatorConfig.SHUTDOWN_TIMEOUT.defaultValue().toUpperCase()).toMillis() / 2);
        }
    }
}
