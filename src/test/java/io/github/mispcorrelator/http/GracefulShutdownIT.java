package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, defect 2 ("SIGTERM not handled"): the service as its own process, sent SIGTERM while an alert is in
 * flight, answers that alert, turns new ones away, and exits well within a unit's stop timeout.
 */
class GracefulShutdownIT {

    @Test
    void sigtermDrainsTheAlertInFlightAndExits() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (FakeMisp misp = new FakeMisp()) {
            // MISP takes 3 s: the alert is in flight when SIGTERM arrives
            misp.answer(new FakeMisp.Answer(200, Map.of("Content-Type", "application/json"),
                    new JsonObject().put("response", new JsonObject().put("Attribute", new io.vertx.core.json.JsonArray()
                            .add(FakeMisp.attribute("drain-1", "ip-dst", "81.2.75.1")))).encode(), 3_000));
            Path log = Fixtures.workDir("shutdown").resolve("service.log");
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.github.mispcorrelator.Main", "serve")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("CORRELATOR_HTTP_PORT", String.valueOf(port));
            pb.environment().put("CORRELATOR_DATA_DIR", Fixtures.workDir("shutdown-data").toString());
            pb.environment().put("CORRELATOR_MISP_URL", misp.url());
            pb.environment().put("CORRELATOR_SHUTDOWN_TIMEOUT", "15s");
            pb.environment().put("CORRELATOR_DRL_WATCH", "false");
            Process service = pb.start();
            try {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(2)).build();
                String base = "http://127.0.0.1:" + port;
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (true) {
                    try {
                        if (http.send(HttpRequest.newBuilder(URI.create(base + "/health/live")).build(),
                                HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                            break;
                        }
                    } catch (java.io.IOException notYet) {
                        assertThat(service.isAlive()).as("service exited at start-up; see " + log).isTrue();
                    }
                    assertThat(System.nanoTime()).as("service did not start; see " + log).isLessThan(deadline);
                    Thread.sleep(250);
                }
                JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json")).put("id", "1760003000.1");
                alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", "81.2.75.1");
                CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(HttpRequest.newBuilder(
                                URI.create(base + "/v1/alerts")).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(alert.encode())).build(), HttpResponse.BodyHandlers.ofString());
                long waitMisp = System.nanoTime() + 10_000_000_000L;
                while (misp.searches().isEmpty() && System.nanoTime() < waitMisp) {
                    Thread.sleep(50);
                }
                assertThat(misp.searches()).isNotEmpty();

                long t0 = System.nanoTime();
                service.destroy(); // SIGTERM
                HttpResponse<String> answered = inFlight.get(30, TimeUnit.SECONDS);
                assertThat(answered.statusCode()).isEqualTo(200);
                assertThat(new JsonObject(answered.body()).getJsonArray("hits")).hasSize(1);

                assertThat(service.waitFor(30, TimeUnit.SECONDS)).as("exited; see " + log).isTrue();
                long tookMs = (System.nanoTime() - t0) / 1_000_000;
                // the 3 s MISP answer, then the rest of the stop: far inside systemd's default 90 s
                assertThat(tookMs).isLessThan(20_000);
                assertThat(java.nio.file.Files.readString(log)).contains("drained");
            } finally {
                service.destroyForcibly();
            }
        }
    }
}
