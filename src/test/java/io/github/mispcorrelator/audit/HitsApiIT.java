package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /v1/hits}, its exports and stats against a database of known hits: thousands generated in SQL (whatever the
 * API answers is compared with the same question asked in SQL) and the README's sample alerts sent through the
 * service.
 */
class HitsApiIT {
    static final int GENERATED = 6_000;
    static final int BIG_EXPORT = 60_000;
    static ScratchDatabase db;
    static ServiceUnderTest app;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        db = ScratchDatabase.create("hitsapi").migrate("latest");
        Instant to = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        db.sql(HitSeed.insert(1, GENERATED, to.minus(Duration.ofDays(90)), to));
        // the rows went to hits_default; the service's first maintenance pass gives them their months
        app = new ServiceUnderTest(db.env());
        for (String sample : List.of("sysmon-eid1-eicar.json", "sysmon-eid3-c2.json", "sysmon-eid22-c2.json")) {
            byte[] alert = Files.readAllBytes(Path.of("config/samples", sample));
            assertThat(app.post("/v1/alerts", alert).status()).isEqualTo(200);
            // a retry adds nothing
            assertThat(app.post("/v1/alerts", alert).status()).isEqualTo(200);
        }
        // as the hourly maintenance would: the months of the generated and sample hits get their partitions
        db.sql("SELECT count(*) FROM hits_maintain(400)");
        assertThat(db.value("SELECT count(*) FROM hits_default")).isEqualTo(0L);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        db.close();
    }

    static JsonObject json(String path) throws Exception {
        Response r = app.get(path);
        assertThat(r.status()).as(path + " → " + r.body()).isEqualTo(200);
        return r.json();
    }

    static List<Long> ids(JsonArray hits) {
        List<Long> out = new ArrayList<>();
        hits.forEach(h -> out.add(((JsonObject) h).getLong("id")));
        return out;
    }

    static List<Long> sqlIds(String where) {
        List<Long> out = new ArrayList<>();
        db.rows("SELECT id FROM hits " + where + " ORDER BY occurred_at DESC, id DESC").forEach(r -> out.add((Long) r.get(0)));
        return out;
    }

    static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Test
    void theSamplesAreStoredOnceWithTheirAuditFields() throws Exception {
        JsonObject page = json("/v1/hits?indicator=" + q("275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"));
        // the EICAR SHA256 matched two attributes (sha256 and filename|sha256), once however often the alert came
        assertThat(page.getJsonArray("hits")).hasSize(2);
        JsonObject hit = page.getJsonArray("hits").getJsonObject(0);
        assertThat(hit.getString("alert_id")).isEqualTo("1757320729.48664538");
        assertThat(hit.getString("occurred_at")).isEqualTo("2025-09-08T08:38:49.592Z");
        assertThat(hit.getString("ruleset_version")).startsWith("sha256:");
        assertThat(hit.getString("correlator_version")).isNotBlank();
        assertThat(hit.getString("misp_instance")).isEqualTo("feed:config/demo-feed");
        assertThat(hit.getString("looked_up_at")).isNotBlank();
        assertThat(hit.getString("origin")).isEqualTo("live");
        assertThat(hit.getString("detected_at")).isNotBlank();
        assertThat(hit.containsKey("alert")).isFalse();
    }

    @Test
    void pagesWalkEveryHitOnceNewestFirst() throws Exception {
        for (String filter : List.of("", "rule_id=92007&")) {
            List<Long> walked = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                JsonObject page = json("/v1/hits?" + filter + "limit=" + (filter.isEmpty() ? 1000 : 7)
                        + (cursor == null ? "" : "&cursor=" + cursor));
                walked.addAll(ids(page.getJsonArray("hits")));
                cursor = page.getString("next_cursor");
                pages++;
            } while (cursor != null && pages < 1000);
            assertThat(walked).isEqualTo(sqlIds(filter.isEmpty() ? "" : "WHERE rule_id = '92007'")).doesNotHaveDuplicates();
            assertThat(pages).isGreaterThan(1);
        }
    }

    @Test
    void eachFilterAsksWhatSqlWouldAnswer() throws Exception {
        Instant to = Instant.now().minus(Duration.ofDays(20)).truncatedTo(ChronoUnit.SECONDS);
        Instant from = to.minus(Duration.ofDays(10));
        Instant recent = Instant.now().minus(Duration.ofDays(60)).truncatedTo(ChronoUnit.SECONDS);
        String since = "&from=" + recent;
        String sinceSql = " AND occurred_at >= '" + recent + "'";
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("agent_id=0042", "agent_id = '0042'");
        cases.put("agent_name=host-42", "agent_name = 'host-42'");
        cases.put("indicator=" + q("81.2.69.192"), "indicator_value = '81.2.69.192'");
        cases.put("indicator_type=md5&min_severity=14" + since, "indicator_type = 'md5' AND severity >= 14" + sinceSql);
        cases.put("misp_event_id=42", "misp_event_id = '42'");
        cases.put("misp_event_uuid=00000000-0000-4000-8000-000000000042", "misp_event_uuid = '00000000-0000-4000-8000-000000000042'");
        cases.put("rule_id=92052" + since, "rule_id = '92052'" + sinceSql);
        cases.put("ruleset_version=" + q("sha256:0000000000000007") + since,
                "ruleset_version = 'sha256:0000000000000007'" + sinceSql);
        cases.put("origin=retro-hunt&agent_id=0040", "origin = 'retro-hunt' AND agent_id = '0040'");
        cases.put("manager=wazuh-manager", "manager = 'wazuh-manager'");
        cases.put("from=" + from + "&to=" + to, "occurred_at >= '" + from + "' AND occurred_at < '" + to + "'");
        cases.put("from=" + from.toString().substring(0, 10) + "&to=" + to.toString().substring(0, 10),
                "occurred_at >= '" + from.toString().substring(0, 10) + "T00:00:00Z' AND occurred_at < '"
                        + to.plus(Duration.ofDays(1)).toString().substring(0, 10) + "T00:00:00Z'");
        for (var c : cases.entrySet()) {
            List<Long> expected = sqlIds("WHERE " + c.getValue());
            assertThat(expected).as(c.getKey()).isNotEmpty().hasSizeLessThan(1000);
            assertThat(ids(json("/v1/hits?limit=1000&" + c.getKey()).getJsonArray("hits"))).as(c.getKey()).isEqualTo(expected);
        }
    }

    @Test
    void oneHitComesWithItsAlert() throws Exception {
        long id = (Long) db.value("SELECT id FROM hits WHERE alert_id = '1757321003.48732887' ORDER BY id LIMIT 1");
        JsonObject hit = json("/v1/hits/" + id);
        assertThat(hit.getLong("id")).isEqualTo(id);
        assertThat(hit.getJsonObject("alert").getString("id")).isEqualTo("1757321003.48732887");
        assertThat(hit.getJsonObject("alert").getJsonObject("agent").getString("name")).isEqualTo("WS-FIN-0042");
        JsonObject generated = json("/v1/hits/42");
        assertThat(generated.getString("misp_event_url")).isEqualTo("https://misp.example.org/events/view/42");
        assertThat(app.get("/v1/hits/999999999").status()).isEqualTo(404);
        Response bad = app.get("/v1/hits/abc");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().getString("error")).startsWith("id: ");
    }

    @Test
    void badParametersAre400NamingTheParameter() throws Exception {
        Map<String, String> cases = Map.of("/v1/hits?from=last-week", "from: ", "/v1/hits?min_severity=99", "min_severity: ",
                "/v1/hits?limit=5000", "limit: ", "/v1/hits?cursor=xyz", "cursor: ", "/v1/hits?indicator_typ=md5",
                "indicator_typ: unknown parameter", "/v1/hits/stats?to=2020-01-01&from=2021-01-01", "to: ",
                "/v1/hits?format=xlsx", "format: ");
        for (var c : cases.entrySet()) {
            Response r = app.get(c.getKey());
            assertThat(r.status()).as(c.getKey()).isEqualTo(400);
            assertThat(r.json().getString("error")).as(c.getKey()).startsWith(c.getValue());
        }
    }

    @Test
    void exportsHoldWhatThePagesHold() throws Exception {
        String filter = "misp_event_uuid=00000000-0000-4000-8000-000000000042";
        List<Long> expected = sqlIds("WHERE misp_event_uuid = '00000000-0000-4000-8000-000000000042'");
        HttpResponse<String> csv = HTTP.send(HttpRequest.newBuilder(uri("/v1/hits?format=csv&" + filter)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(csv.statusCode()).isEqualTo(200);
        assertThat(csv.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/csv"));
        assertThat(csv.headers().firstValue("Content-Disposition")).hasValueSatisfying(d -> assertThat(d).contains("attachment"));
        String[] lines = csv.body().split("\r\n");
        assertThat(lines[0]).startsWith("id,occurred_at,");
        List<Long> csvIds = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            csvIds.add(Long.parseLong(lines[i].substring(0, lines[i].indexOf(','))));
        }
        assertThat(csvIds).isEqualTo(expected);

        HttpResponse<String> nd = HTTP.send(HttpRequest.newBuilder(uri("/v1/hits?format=ndjson&with_alert=true&" + filter))
                .build(), HttpResponse.BodyHandlers.ofString());
        List<Long> ndIds = new ArrayList<>();
        nd.body().lines().forEach(l -> {
            JsonObject hit = new JsonObject(l);
            assertThat(hit.getJsonObject("alert")).isNotNull();
            ndIds.add(hit.getLong("id"));
        });
        assertThat(ndIds).isEqualTo(expected);
        assertThat(app.get("/v1/hits?format=ndjson&agent_id=nobody").body()).isEmpty();
        assertThat(app.get("/v1/hits?format=csv&agent_id=nobody").body()).startsWith("id,").hasLineCount(1);
    }

    /**
     * A large export is read from the database as the client reads it: while the client pauses, the query is still
     * open (its cursor waits in the transaction), and when it resumes, every row arrives.
     */
    @Test
    void aLargeExportStreamsAtTheClientsPace() throws Exception {
        Instant to = Instant.now().minus(Duration.ofDays(100)).truncatedTo(ChronoUnit.SECONDS);
        db.sql(HitSeed.insert(1_000_000, BIG_EXPORT, to.minus(Duration.ofDays(30)), to),
                "SELECT count(*) FROM hits_maintain(400)");
        long expected = ((Number) db.value("SELECT count(*) FROM hits WHERE origin = 'live'")).longValue();
        assertThat(expected).isGreaterThan(BIG_EXPORT / 2);
        HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(uri("/v1/hits?format=csv&origin=live")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Length")).isEmpty();
        long lines = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (int i = 0; i < 10; i++) {
                in.readLine();
                lines++;
            }
            Thread.sleep(1_500);
            List<List<Object>> open = db.rows("SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                    + "AND state <> 'idle' AND query LIKE 'SELECT id, occurred_at%origin = $1%'");
            assertThat(open).as("the export's query is still open while the client waits").isNotEmpty();
            while (in.readLine() != null) {
                lines++;
            }
        }
        assertThat(lines).isEqualTo(expected + 1);
    }

    @Test
    void statsCountByDayAgentTypeAndEvent() throws Exception {
        Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS);
        Instant from = to.minus(Duration.ofDays(14));
        String range = "occurred_at >= '" + from + "' AND occurred_at < '" + to + "'";
        JsonObject s = json("/v1/hits/stats?from=" + from + "&to=" + to + "&top=5");
        assertThat(s.getLong("total")).isEqualTo(db.value("SELECT count(*) FROM hits WHERE " + range));
        JsonArray days = s.getJsonArray("by_day");
        assertThat(days).hasSize(14);
        Map<String, Long> perDay = new HashMap<>();
        db.rows("SELECT (occurred_at AT TIME ZONE 'UTC')::date::text, count(*) FROM hits WHERE " + range + " GROUP BY 1")
                .forEach(r -> perDay.put((String) r.get(0), (Long) r.get(1)));
        days.forEach(d -> assertThat(((JsonObject) d).getLong("hits"))
                .isEqualTo(perDay.getOrDefault(((JsonObject) d).getString("day"), 0L)));
        assertThat(s.getJsonArray("by_agent")).hasSize(5);
        assertThat(s.getJsonArray("by_agent").getJsonObject(0).getLong("hits")).isEqualTo(db.value(
                "SELECT count(*) FROM hits WHERE " + range + " GROUP BY manager, agent_id ORDER BY 1 DESC LIMIT 1"));
        assertThat(s.getJsonArray("by_indicator_type")).hasSize(5);
        JsonObject event = s.getJsonArray("by_misp_event").getJsonObject(0);
        assertThat(event.getLong("hits")).isEqualTo(db.value("SELECT count(*) FROM hits WHERE " + range
                + " AND misp_event_uuid = '" + event.getString("misp_event_uuid") + "'"));
        assertThat(event.getString("misp_event_url")).startsWith("https://misp.example.org/events/view/");
        // filters apply to stats as to lists
        JsonObject one = json("/v1/hits/stats?from=" + from + "&to=" + to + "&agent_id=0042");
        assertThat(one.getLong("total")).isEqualTo(db.value("SELECT count(*) FROM hits WHERE " + range + " AND agent_id = '0042'"));
        // without a range: the last 30 days
        assertThat(json("/v1/hits/stats").getJsonArray("by_day").size()).isBetween(30, 31);
    }

    @Test
    void thePageIsServedWithAStrictPolicy() throws Exception {
        Response page = app.get("/ui/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<table id=\"hits\"").contains("app.js");
        assertThat(page.raw().headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p ->
                assertThat(p).contains("script-src 'self'").contains("frame-ancestors 'none'"));
        assertThat(app.get("/ui/app.js").status()).isEqualTo(200);
        HttpResponse<String> redirect = HTTP.send(HttpRequest.newBuilder(uri("/ui")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().firstValue("Location")).hasValue("/ui/");
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + app.service().httpPort() + path);
    }
}
