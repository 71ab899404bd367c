package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code POST /v1/alerts/batch} as log shippers call it: NDJSON or a JSON array, good and bad lines mixed. */
class BatchIngestIT {
    static ServiceUnderTest app;

    @BeforeAll
    static void start() {
        app = new ServiceUnderTest(Map.of("CORRELATOR_DATA_DIR", Fixtures.workDir("batch").toString()));
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static String sample(String name) throws Exception {
        return Files.readString(Path.of("config/samples", name)).strip();
    }

    @Test
    void mixedLinesEachGetTheirOwnResultInOrder() throws Exception {
        String body = String.join("\n",
                sample("sysmon-eid1-eicar.json"),
                "{\"id\": broken",
                "",
                sample("syscheck-added-clean.json"),
                "[1,2,3]",
                sample("sysmon-eid22-c2.json")) + "\n";

        Response r = app.post("/v1/alerts/batch", body.getBytes(StandardCharsets.UTF_8));

        assertThat(r.status()).isEqualTo(200);
        JsonArray results = r.json().getJsonArray("results");
        // the blank line is counted, not answered (a body of blank lines must not become a body of results)
        assertThat(results).hasSize(5);
        assertThat(results.getJsonObject(0).getInteger("status")).isEqualTo(200);
        assertThat(results.getJsonObject(0).getJsonArray("hits")).hasSize(3);
        assertThat(results.getJsonObject(1).getInteger("status")).isEqualTo(400);
        assertThat(results.getJsonObject(1).getString("error")).startsWith("malformed JSON");
        assertThat(results.getJsonObject(2).getJsonArray("hits")).isEmpty();
        assertThat(results.getJsonObject(3).getInteger("status")).isEqualTo(400);
        assertThat(results.getJsonObject(4).getJsonArray("events")).hasSize(2);
        int[] lines = {1, 2, 4, 5, 6};
        for (int i = 0; i < 5; i++) {
            assertThat(results.getJsonObject(i).getInteger("line")).isEqualTo(lines[i]);
        }
        JsonObject summary = r.json().getJsonObject("summary");
        assertThat(summary.getInteger("lines")).isEqualTo(5);
        assertThat(summary.getInteger("blank")).isEqualTo(1);
        assertThat(summary.getInteger("ok")).isEqualTo(3);
        assertThat(summary.getInteger("failed")).isEqualTo(2);
        assertThat(summary.getInteger("hits")).isEqualTo(5);
    }

    @Test
    void aJsonArrayAsLogstashSendsIt() throws Exception {
        String body = "[" + sample("sysmon-eid3-c2.json") + "," + sample("syscheck-added-clean.json") + "]";
        Response r = app.post("/v1/alerts/batch", body.getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getJsonArray("results")).hasSize(2);
        assertThat(r.json().getJsonArray("results").getJsonObject(0).getJsonArray("hits")).hasSize(1);
    }

    @Test
    void aLargeGzippedBatchIsProcessedCompletely() throws Exception {
        StringBuilder ndjson = new StringBuilder();
        String eicar = sample("sysmon-eid1-eicar.json");
        for (int i = 0; i < 2000; i++) {
            // distinct alert ids, so every line is its own alert
            ndjson.append(eicar.replace("\"id\":\"1757320729.48664538\"", "\"id\":\"1757320729." + i + "\"")).append('\n');
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(ndjson.toString().getBytes(StandardCharsets.UTF_8));
        }
        Response r = app.post("/v1/alerts/batch", gz.toByteArray(),
                Map.of("Content-Encoding", "gzip", "Content-Type", "application/x-ndjson"));

        assertThat(r.status()).isEqualTo(200);
        JsonObject summary = r.json().getJsonObject("summary");
        assertThat(summary.getInteger("ok")).isEqualTo(2000);
        assertThat(summary.getInteger("hits")).isEqualTo(6000);
    }
}
