package io.github.mispcorrelator.support;

import io.github.mispcorrelator.CorrelatorService;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** The whole service, started from configuration as {@code java -jar} would, and an HTTP client for it. */
public final class ServiceUnderTest implements AutoCloseable {
    private final CorrelatorService service;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    public ServiceUnderTest(Map<String, String> env) {
        Map<String, String> all = new HashMap<>();
        all.put("CORRELATOR_HTTP_PORT", "0");
        all.putAll(env);
        this.service = CorrelatorService.start(CorrelatorConfig.load(null, all), BlockedEventLoops.options());
        warmUp();
    }

    /**
     * One alert through rules, lookup and scoring with nothing stored ({@code /v1/rules/test}): the JVM's first
     * pass over that code (class loading, linking) is slow, and a test's time limit on the event loop is about the
     * steady state. What blocked during start-up and this pass is not held against the test.
     */
    private void warmUp() {
        try {
            // a test case with its own MISP answer: no request reaches the configured MISP (tests count them)
            String alert = java.nio.file.Files.readString(java.nio.file.Path.of("config/samples/sysmon-eid1-eicar.json"));
            String attribute = "{\"uuid\":\"00000000-0000-4000-8000-00000000a11c\",\"type\":\"md5\",\"category\":"
                    + "\"Payload delivery\",\"value\":\"44d88612fea8a8f36de82e1278abb02f\",\"to_ids\":true,"
                    + "\"event_id\":\"1\",\"Event\":{\"threat_level_id\":\"1\",\"info\":\"warm-up\","
                    + "\"uuid\":\"00000000-0000-4000-8000-00000000a11d\"}}";
            post("/v1/rules/test", ("{\"alert\":" + alert + ",\"misp\":[" + attribute + "]}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (Exception e) {
            // a service that cannot answer shows it in the test itself
        }
        BlockedEventLoops.drain();
    }

    public CorrelatorService service() {
        return service;
    }

    public record Response(int status, String body, HttpResponse<String> raw) {
        public JsonObject json() {
            return new JsonObject(body);
        }
    }

    public Response post(String path, byte[] body) throws Exception {
        return post(path, body, Map.of("Content-Type", "application/json"));
    }

    public Response post(String path, byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        HttpRequest request = b.build();
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body(), r);
    }

    public Response get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body(), r);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + service.httpPort() + path);
    }

    @Override
    public void close() {
        service.close();
    }
}
