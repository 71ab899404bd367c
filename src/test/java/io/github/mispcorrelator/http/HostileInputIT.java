package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.LogCapture;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17's hostile inputs, each once, against the whole service: every one is answered without a 5xx, what can be
 * stored is stored, and nothing whole of a hostile value reaches the log.
 */
class HostileInputIT {
    static ServiceUnderTest app;
    static LogCapture log;

    @BeforeAll
    static void start() throws Exception {
        Path drl = Fixtures.workDir("hostile-drl");
        try (var files = Files.list(Path.of("drl"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".drl")).toList()) {
                Files.copy(f, drl.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(drl.resolve("zz-throws.drl"), """
                package rules.extract.broken;

                import io.github.mispcorrelator.alert.Alert;

                global io.github.mispcorrelator.rules.Extraction out;

                rule "Broken: throws on data.boom"
                when
                    $a : Alert( field("data.boom") == "yes" )
                then
                    throw new IllegalStateException("boom in a consequence");
                end
                """);
        log = LogCapture.open();
        app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", Fixtures.workDir("hostile").toString(),
                "CORRELATOR_DRL_DIR", drl.toString(),
                "CORRELATOR_DRL_WATCH", "false",
                "CORRELATOR_HTTP_BATCH_BODY_LIMIT", "2m",
                "CORRELATOR_HTTP_BATCH_MAX_LINES", "100"));
    }

    @AfterAll
    static void stop() {
        app.close();
        log.close();
    }

    static JsonObject eicar() throws Exception {
        return new JsonObject(Files.readString(Path.of("config/samples/sysmon-eid1-eicar.json")));
    }

    static long rows(String sql, String arg) throws Exception {
        try (Connection c = app.service().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"id", "agent.id", "agent.name", "rule.id", "manager.name"})
    void aLongIdentifierStillGetsItsHitsStored(String field) throws Exception {
        JsonObject alert = eicar();
        String marker = "L" + field.hashCode() + "x";
        String huge = marker + "7".repeat(6000);
        String[] path = field.split("\\.");
        JsonObject parent = path.length == 1 ? alert : alert.getJsonObject(path[0]);
        if (parent == null) {
            parent = new JsonObject();
            alert.put(path[0], parent);
        }
        parent.put(path[path.length - 1], huge);
        if (!field.equals("id")) {
            alert.put("id", "1760000999." + Math.abs(field.hashCode()));
        }
        Response r = app.post("/v1/alerts", alert.toBuffer().getBytes());
        assertThat(r.status()).as(r.body().substring(0, Math.min(300, r.body().length()))).isEqualTo(200);
        assertThat(r.json().getJsonArray("hits")).hasSize(3);
        String column = switch (field) {
            case "id" -> "alert_id";
            case "agent.id" -> "agent_id";
            case "agent.name" -> "agent_name";
            case "rule.id" -> "rule_id";
            default -> "manager";
        };
        assertThat(rows("SELECT count(*) FROM hits WHERE " + column + " LIKE ? || '%'", marker)).isEqualTo(3);
        // and again: the bounded form is stable, so a retry adds nothing
        assertThat(app.post("/v1/alerts", alert.toBuffer().getBytes()).status()).isEqualTo(200);
        assertThat(rows("SELECT count(*) FROM hits WHERE " + column + " LIKE ? || '%'", marker)).isEqualTo(3);
        assertThat(log.lines()).noneMatch(l -> l.contains("7".repeat(500)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"+294277-01-01T00:00:00Z", "-4714-11-23T00:00:00Z", "+999999999-12-31T23:59:59Z"})
    void anAlertTimestampOutsidePostgresRangeIs400NamingTheField(String timestamp) throws Exception {
        Response r = app.post("/v1/alerts", eicar().put("timestamp", timestamp).toBuffer().getBytes());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().getString("error")).startsWith("timestamp: ");
    }

    @Test
    void aSysmonGroupNumberThatOverflowsDoesNotRejectTheAlert() throws Exception {
        JsonObject alert = eicar().put("id", "1760000998.1");
        alert.getJsonObject("rule").getJsonArray("groups").add("sysmon_eid99999999999_detections");
        alert.getJsonObject("data").getJsonObject("win").getJsonObject("system").remove("eventID");
        assertThat(app.post("/v1/alerts", alert.toBuffer().getBytes()).status()).isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"from=+294277-01-01T00:00:00Z", "to=-4714-11-23", "from=+999999999-12-31T23:59:59Z",
            "to=+999999999-12-31", "from=0001-01-01&to=9999-12-31", "from=" + "2025-01-01" + "0000000000000000000000000000000000000000000000000000000000000"})
    void extremeTimesInHitQueriesAre400(String query) throws Exception {
        String q = query.replace("+", URLEncoder.encode("+", StandardCharsets.UTF_8));
        Response list = app.get("/v1/hits?" + q);
        Response stats = app.get("/v1/hits/stats?" + q);
        assertThat(list.status()).as(list.body()).isEqualTo(400);
        assertThat(stats.status()).as(stats.body()).isEqualTo(400);
        assertThat(list.json().getString("error")).containsAnyOf("from", "to");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\n\n\n", " \t\r\n  \n", "[]"})
    void anEmptyBatchIs400(String body) throws Exception {
        Response r = app.post("/v1/alerts/batch", body.getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().getString("error")).startsWith("empty batch");
    }

    @Test
    void blankLinesGetNoResultObjects() throws Exception {
        String body = "\n".repeat(1_000_000) + eicar().put("id", "1760000997.1").encode() + "\n" + "\n".repeat(500_000);
        Response r = app.post("/v1/alerts/batch", body.getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getJsonArray("results")).hasSize(1);
        assertThat(r.json().getJsonArray("results").getJsonObject(0).getInteger("line")).isEqualTo(1_000_001);
        assertThat(r.json().getJsonObject("summary").getInteger("blank")).isEqualTo(1_500_000);
        assertThat(r.body().length()).isLessThan(20_000);
    }

    @Test
    void aBatchWithTooManyLinesIs413NamingTheKey() throws Exception {
        String line = new JsonObject().put("id", "1.1").encode() + "\n";
        Response r = app.post("/v1/alerts/batch", line.repeat(101).getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().getString("error")).contains("CORRELATOR_HTTP_BATCH_MAX_LINES");
    }

    @Test
    void aBatchBodyOverItsLimitNamesTheBatchKey() throws Exception {
        Response r = app.post("/v1/alerts/batch", "{}\n".repeat(1_100_000).getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().getString("error")).contains("CORRELATOR_HTTP_BATCH_BODY_LIMIT");
        Response single = app.post("/v1/alerts", ("{\"a\":\"" + "x".repeat(1_100_000) + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(single.status()).isEqualTo(413);
        assertThat(single.json().getString("error")).contains("CORRELATOR_HTTP_BODY_LIMIT");
    }

    @Test
    void duplicateKeysAreRefusedAlikeInSingleAlertsNdjsonAndArrays() throws Exception {
        String dup = "{\"id\":\"1.1\",\"id\":\"1.2\"}";
        assertThat(app.post("/v1/alerts", dup.getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(400);
        Response nd = app.post("/v1/alerts/batch", (dup + "\n").getBytes(StandardCharsets.UTF_8));
        assertThat(nd.json().getJsonArray("results").getJsonObject(0).getInteger("status")).isEqualTo(400);
        Response array = app.post("/v1/alerts/batch", ("[" + dup + "]").getBytes(StandardCharsets.UTF_8));
        assertThat(array.status()).isEqualTo(400);
        assertThat(array.json().getString("error")).contains("Duplicate field 'id'");
    }

    @Test
    void aRuleThatThrowsFailsThatAlertWithAnErrorEvent() throws Exception {
        JsonObject alert = eicar().put("id", "1760000996.1");
        alert.getJsonObject("data").put("boom", "yes");
        Response r = app.post("/v1/alerts", alert.toBuffer().getBytes());
        assertThat(r.status()).isEqualTo(200);
        JsonArray events = r.json().getJsonArray("events");
        assertThat(events).hasSize(1);
        assertThat(events.getJsonObject(0).getJsonObject("misp").getString("error"))
                .contains("Broken: throws on data.boom").contains("boom in a consequence");
        Response batch = app.post("/v1/alerts/batch", (alert.encode() + "\n" + eicar().put("id", "1760000996.2").encode())
                .getBytes(StandardCharsets.UTF_8));
        assertThat(batch.status()).isEqualTo(200);
        assertThat(batch.json().getJsonArray("results").getJsonObject(0).getJsonArray("events").getJsonObject(0)
                .getJsonObject("misp").getString("error")).contains("Broken: throws on data.boom");
        assertThat(batch.json().getJsonArray("results").getJsonObject(1).getJsonArray("hits")).hasSize(3);
    }

    @Test
    void aCorruptCompressedBodyIs400AndTwoEncodingsAre415() throws Exception {
        Response corrupt = app.post("/v1/alerts", eicar().toBuffer().getBytes(),
                Map.of("Content-Type", "application/json", "Content-Encoding", "gzip"));
        assertThat(corrupt.status()).isEqualTo(400);
        assertThat(corrupt.json().getString("error")).contains("gzip");
        Response batch = app.post("/v1/alerts/batch", "not gzip at all".getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Encoding", "gzip"));
        assertThat(batch.status()).isEqualTo(400);
        ByteArrayOutputStream twice = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(twice)) {
            out.write(gzip(eicar().toBuffer().getBytes()));
        }
        Response doubled = app.post("/v1/alerts", twice.toByteArray(),
                Map.of("Content-Type", "application/json", "Content-Encoding", "gzip, gzip"));
        assertThat(doubled.status()).isEqualTo(415);
        Response good = app.post("/v1/alerts", gzip(eicar().put("id", "1760000995.1").toBuffer().getBytes()),
                Map.of("Content-Type", "application/json", "Content-Encoding", "gzip"));
        assertThat(good.status()).isEqualTo(200);
        assertThat(good.json().getJsonArray("hits")).hasSize(3);
    }

    @Test
    void aCompressionBombStopsAtTheLimit() throws Exception {
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bomb)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) {
                out.write(zeros);
            }
        }
        Response r = app.post("/v1/alerts/batch", bomb.toByteArray(), Map.of("Content-Encoding", "gzip"));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().getString("error")).contains("CORRELATOR_HTTP_BATCH_BODY_LIMIT");
    }

    static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(b)) {
            out.write(data);
        }
        return b.toByteArray();
    }

    @Test
    void readinessMeansAlertsAreAccepted() throws Exception {
        Response ready = app.get("/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().getString("admission")).isEqualTo("OPEN");
        assertThat(ready.json().containsKey("misp")).isFalse();
    }
}
