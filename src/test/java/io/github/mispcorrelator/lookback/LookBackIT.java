package io.github.mispcorrelator.lookback;

import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.lookback.LookBack.Result;
import io.github.mispcorrelator.misp.AttributeFilter;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispJson;
import io.github.mispcorrelator.support.FakeAnalysisd;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.PagedMisp;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The look-back in the whole service: alerts whose values MISP does not know are processed (no hit), MISP then
 * publishes some of them, and within one mirror pull (or one poll without a mirror) the look-back hits are stored once,
 * with the agents' first and last sightings, and their retrospective events reach analysisd. Values seen only as a
 * private address or on an allow-list never enter the index; running the trigger again adds nothing.
 */
class LookBackIT {
    static final DateTimeFormatter WAZUH_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXX");

    static String at(Instant t) {
        return WAZUH_TIME.format(t.atOffset(ZoneOffset.UTC));
    }

    /** A Sysmon network connection of an agent to an address, at a time. */
    static byte[] connection(String id, Instant when, String agentId, String agentName, String ip) {
        JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json"));
        alert.put("id", id).put("timestamp", at(when));
        alert.getJsonObject("agent").put("id", agentId).put("name", agentName);
        alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", ip);
        return alert.encode().getBytes();
    }

    /** A Sysmon DNS query for a name, with no answers. */
    static byte[] dnsQuery(String id, Instant when, String name) {
        JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid22-dns.json"));
        alert.put("id", id).put("timestamp", at(when));
        JsonObject data = alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata");
        data.put("queryName", name).put("queryResults", "");
        return alert.encode().getBytes();
    }

    static Map<String, String> env(FakeMisp misp, FakeAnalysisd analysisd, boolean mirror) {
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_MISP_URL", misp.url());
        env.put("CORRELATOR_MISP_KEY", "k");
        env.put("CORRELATOR_DRL_WATCH", "false");
        env.put("CORRELATOR_DATA_DIR", Fixtures.workDir("look-back").toString());
        env.put("CORRELATOR_ANALYSISD_SOCKET", analysisd.path().toString());
        env.put("CORRELATOR_LOOKBACK_FLUSH_INTERVAL", "100ms");
        // the cache must not hide what MISP learns (the live lookups of the second test)
        env.put("CORRELATOR_MISP_CACHE_NEGATIVE_TTL", "1ms");
        if (mirror) {
            env.put("CORRELATOR_MISP_MIRROR", "true");
            env.put("CORRELATOR_MISP_MIRROR_PAGE", "10");
            env.put("CORRELATOR_MISP_MIRROR_INTERVAL", "500ms");
        } else {
            // polled by the test, not by the clock
            env.put("CORRELATOR_LOOKBACK_INTERVAL", "1h");
        }
        return env;
    }

    static void forget(String instance) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection()) {
            for (String table : List.of("misp_mirror_attributes", "misp_mirror_state", "lookback_cursors")) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE instance = ?")) {
                    ps.setString(1, instance);
                    ps.executeUpdate();
                }
            }
        }
    }

    static List<JsonObject> lookBackHits(String value) throws Exception {
        List<JsonObject> out = new ArrayList<>();
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT alert_id, manager, agent_id, agent_name, occurred_at, misp_attribute_uuid, severity, labels::text, "
                        + "alert::text, source_field, drl_rule FROM hits_with_alert WHERE indicator_value = ? AND origin = 'look-back' "
                        + "ORDER BY agent_id, misp_attribute_uuid")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new JsonObject().put("alert_id", rs.getString(1)).put("manager", rs.getString(2))
                            .put("agent_id", rs.getString(3)).put("agent_name", rs.getString(4))
                            .put("occurred_at", rs.getTimestamp(5).toInstant().toString())
                            .put("uuid", rs.getString(6)).put("severity", rs.getInt(7)).put("labels", rs.getString(8))
                            .put("alert", new JsonObject(rs.getString(9))).put("field", rs.getString(10))
                            .put("rule", rs.getString(11)));
                }
            }
        }
        return out;
    }

    static long count(String sql, String arg) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static List<JsonObject> awaitHits(String value, int n) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        List<JsonObject> hits;
        do {
            hits = lookBackHits(value);
            if (hits.size() >= n) {
                return hits;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return hits;
    }

    static void awaitObserved(String value) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (count("SELECT count(*) FROM observations WHERE value = ?", value) == 0) {
            assertThat(System.nanoTime()).as("observation of " + value + " written").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    static JsonObject awaitMirrorLoaded(ServiceUnderTest app) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        JsonObject instance;
        do {
            instance = app.get("/v1/misp/status").json().getJsonArray("instances").getJsonObject(0);
            if (instance.getBoolean("loaded")) {
                return instance;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("mirror not loaded: " + instance);
    }

    @Test
    void aMirrorPullFindsWhoAlreadySawTheValuesMispJustPublished() throws Exception {
        String run = Long.toString(System.nanoTime() % 1_000_000_000L);
        String seen = "81.2.75." + (1 + Math.floorMod(run.hashCode(), 200));
        String never = "81.2.76." + (1 + Math.floorMod(run.hashCode(), 200));
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant d3 = now.minus(3, ChronoUnit.DAYS);
        Instant d2 = now.minus(2, ChronoUnit.DAYS);
        Instant d1 = now.minus(1, ChronoUnit.DAYS);
        Path socket = Fixtures.workDir("look-back-" + run).resolve("queue");
        try (FakeMisp misp = new FakeMisp(); FakeAnalysisd analysisd = new FakeAnalysisd(socket)) {
            forget(misp.url());
            PagedMisp data = new PagedMisp().serve(misp);
            long t0 = now.getEpochSecond() - 3600;
            data.add("lb-" + run + "-unrelated", "ip-dst", "81.2.77.1", t0);
            try (ServiceUnderTest app = new ServiceUnderTest(env(misp, analysisd, true))) {
                awaitMirrorLoaded(app);
                // agent 001 contacted the address three days ago and the day before yesterday; agent 002 yesterday
                for (byte[] alert : List.of(
                        connection("1770000000." + run + "1", d2, "001", "web-01", seen),
                        connection("1770000000." + run + "2", d3, "001", "web-01", seen),
                        connection("1770000000." + run + "3", d1, "002", "db-02", seen),
                        // seen only as a private address, and as an allow-listed name: never indexed
                        connection("1770000000." + run + "4", d1, "002", "db-02", "10.20.30.40"),
                        dnsQuery("1770000000." + run + "5", d1, "download.windowsupdate.com"))) {
                    Response r = app.post("/v1/alerts", alert);
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.json().getJsonArray("hits")).as("MISP does not know the values yet").isEmpty();
                }
                awaitObserved(seen);
                assertThat(analysisd.messages()).isEmpty();

                // MISP publishes the address, the private one, the allow-listed name, and one nobody saw
                long published = Instant.now().getEpochSecond();
                data.add("lb-" + run + "-seen", "ip-dst", seen, published);
                data.add("lb-" + run + "-private", "ip-dst", "10.20.30.40", published);
                data.add("lb-" + run + "-allow", "domain", "download.windowsupdate.com", published);
                data.add("lb-" + run + "-never", "ip-dst", never, published);

                List<JsonObject> hits = awaitHits(seen, 2);
                assertThat(hits).hasSize(2);
                JsonObject a1 = hits.get(0);
                assertThat(a1.getString("agent_id")).isEqualTo("001");
                assertThat(a1.getString("agent_name")).isEqualTo("web-01");
                assertThat(a1.getString("manager")).isEqualTo("wazuh-manager");
                assertThat(a1.getString("uuid")).isEqualTo("lb-" + run + "-seen");
                // the agent's first sighting names the hit: its alert id and time
                assertThat(a1.getString("alert_id")).isEqualTo("1770000000." + run + "2");
                assertThat(Instant.parse(a1.getString("occurred_at"))).isEqualTo(d3);
                assertThat(a1.getString("field")).isEqualTo("observations");
                assertThat(a1.getString("rule")).isEqualTo("look-back");
                JsonObject past = a1.getJsonObject("alert").getJsonObject("look_back");
                assertThat(Instant.parse(past.getString("first_seen"))).isEqualTo(d3);
                assertThat(Instant.parse(past.getString("last_seen"))).isEqualTo(d2);
                assertThat(past.getLong("alerts")).isEqualTo(2);
                assertThat(past.getString("last_alert_id")).isEqualTo("1770000000." + run + "1");
                assertThat(a1.getString("labels")).contains("look-back");
                JsonObject a2 = hits.get(1);
                assertThat(a2.getString("agent_id")).isEqualTo("002");
                assertThat(a2.getString("alert_id")).isEqualTo("1770000000." + run + "3");

                // the retrospective events, one per agent, through analysisd's socket
                List<String> messages = analysisd.await(2, 10_000);
                assertThat(messages).hasSize(2);
                List<JsonObject> events = messages.stream()
                        .map(m -> new JsonObject(m.substring(m.indexOf(":{") + 1))).toList();
                assertThat(messages).anySatisfy(m -> assertThat(m).startsWith("1:[001] (web-01) ->misp:"));
                for (JsonObject e : events) {
                    assertThat(e.getString("integration")).isEqualTo("misp");
                    assertThat(e.getJsonObject("misp").getString("value")).isEqualTo(seen);
                    JsonObject c = e.getJsonObject("correlator");
                    assertThat(c.getString("origin")).isEqualTo("look-back");
                    assertThat(c.getJsonObject("look_back").getInteger("agents_total")).isEqualTo(2);
                    assertThat(c.getJsonObject("look_back").getLong("alerts_total")).isEqualTo(3);
                }

                // nothing for the private address, the allow-listed name, or the value nobody saw
                assertThat(count("SELECT count(*) FROM hits WHERE misp_attribute_uuid = ?", "lb-" + run + "-private")).isZero();
                assertThat(count("SELECT count(*) FROM hits WHERE misp_attribute_uuid = ?", "lb-" + run + "-allow")).isZero();
                assertThat(count("SELECT count(*) FROM hits WHERE misp_attribute_uuid = ?", "lb-" + run + "-never")).isZero();
                assertThat(count("SELECT count(*) FROM observations WHERE value = ?", "10.20.30.40")).isZero();
                assertThat(count("SELECT count(*) FROM observations WHERE value = ?", "download.windowsupdate.com")).isZero();
                assertThat(count("SELECT count(*) FROM observation_days WHERE value = ?", "download.windowsupdate.com")).isZero();

                // asked directly
                Response r = app.get("/v1/observations?value=" + seen);
                assertThat(r.status()).isEqualTo(200);
                JsonObject o = r.json();
                assertThat(o.getBoolean("seen")).isTrue();
                assertThat(o.getLong("hits")).isEqualTo(2);
                JsonObject ip = o.getJsonArray("observations").getJsonObject(0);
                assertThat(ip.getString("type")).isEqualTo("ip");
                assertThat(ip.getLong("alerts")).isEqualTo(3);
                assertThat(Instant.parse(ip.getString("first_seen"))).isEqualTo(d3);
                assertThat(Instant.parse(ip.getString("last_seen"))).isEqualTo(d1);
                JsonArray agents = ip.getJsonArray("agents");
                assertThat(agents).hasSize(2);
                assertThat(agents.getJsonObject(0).getString("agent_id")).isEqualTo("002");
                assertThat(agents.getJsonObject(1).getString("agent_id")).isEqualTo("001");
                assertThat(agents.getJsonObject(1).getInteger("days")).isEqualTo(2);
                assertThat(Instant.parse(agents.getJsonObject(1).getString("last_seen"))).isEqualTo(d2);
                assertThat(app.get("/v1/observations?value=" + never).json().getBoolean("seen")).isFalse();
                assertThat(app.get("/v1/observations?value=DOWNLOAD.windowsupdate.com").json().getBoolean("seen")).isFalse();
                assertThat(app.get("/v1/observations?value=10.20.30.40").status()).isEqualTo(400);
                assertThat(app.get("/v1/observations").status()).isEqualTo(400);
                assertThat(app.get("/v1/observations?value=" + seen + "&colour=red").status()).isEqualTo(400);
                assertThat(app.get("/v1/observations?value=" + seen + "&type=hostname").status()).isEqualTo(400);
                assertThat(app.get("/v1/observations?value=" + seen + "&agents=0").status()).isEqualTo(400);

                // the trigger again: the next pulls (nothing changed), then the same attributes once more
                Thread.sleep(1500);
                LookBackService service = app.service().lookBack().orElseThrow();
                List<MispAttribute> again = MispJson.restSearchAttributes(Json.MAPPER.readTree(
                        new JsonObject().put("response", new JsonObject().put("Attribute", new JsonArray()
                                .add(data.get("lb-" + run + "-seen")))).encode()), misp.url());
                Result rerun = service.lookBack().run(again, AttributeFilter.NONE).toCompletionStage()
                        .toCompletableFuture().get(30, TimeUnit.SECONDS);
                assertThat(rerun.sightings()).isEqualTo(2);
                assertThat(rerun.stored()).isZero();
                assertThat(lookBackHits(seen)).hasSize(2);
                assertThat(analysisd.messages()).hasSize(2);
                assertThat(app.get("/metrics").body()).containsPattern("lookback_hits_total [1-9]")
                        .containsPattern("observation_index_aggregates_total\\{outcome=\"written\",?\\} [1-9]");
            }
        }
    }

    @Test
    void withoutAMirrorAPollForChangedAttributesFindsThemAndAddsNothingTheSecondTime() throws Exception {
        String run = Long.toString(System.nanoTime() % 1_000_000_000L);
        String seen = "81.2.78." + (1 + Math.floorMod(run.hashCode(), 200));
        Instant yesterday = Instant.now().truncatedTo(ChronoUnit.MILLIS).minus(1, ChronoUnit.DAYS);
        Path socket = Fixtures.workDir("look-back-live-" + run).resolve("queue");
        try (FakeMisp misp = new FakeMisp(); FakeAnalysisd analysisd = new FakeAnalysisd(socket)) {
            forget(misp.url());
            PagedMisp data = new PagedMisp().serve(misp);
            try (ServiceUnderTest app = new ServiceUnderTest(env(misp, analysisd, false))) {
                LookBackService service = app.service().lookBack().orElseThrow();
                // the first poll at start sets the cursor
                awaitCursor(misp.url());
                assertThat(app.post("/v1/alerts", connection("1770000001." + run + "1", yesterday, "007", "ws-07", seen))
                        .json().getJsonArray("hits")).isEmpty();
                awaitObserved(seen);

                data.add("lbl-" + run, "ip-dst", seen, Instant.now().getEpochSecond());
                misp.reset();
                service.pollNow().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                List<JsonObject> hits = lookBackHits(seen);
                assertThat(hits).hasSize(1);
                assertThat(hits.get(0).getString("agent_id")).isEqualTo("007");
                assertThat(hits.get(0).getString("alert_id")).isEqualTo("1770000001." + run + "1");
                assertThat(analysisd.await(1, 10_000)).hasSize(1);
                // asked for what changed since the cursor: by timestamp, and by publish_timestamp (published only)
                assertThat(misp.searches()).extracting(r -> r.json().containsKey("timestamp")).contains(true);
                assertThat(misp.searches()).extracting(r -> r.json().containsKey("publish_timestamp")).contains(true);
                assertThat(misp.searches()).allSatisfy(r -> assertThat(r.json().containsKey("value")).isFalse());

                // the same attribute comes back in the overlap of the next poll: nothing new
                service.pollNow().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                assertThat(lookBackHits(seen)).hasSize(1);
                Thread.sleep(300);
                assertThat(analysisd.messages()).hasSize(1);

                // a live alert now is a live hit, and no look-back repeats it
                assertThat(app.post("/v1/alerts", connection("1770000001." + run + "2", Instant.now(), "008", "ws-08", seen))
                        .json().getJsonArray("hits")).hasSize(1);
                service.index().flushAll().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
                service.pollNow().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                assertThat(lookBackHits(seen)).hasSize(1);
            }
        }
    }

    static void awaitCursor(String instance) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (count("SELECT count(*) FROM lookback_cursors WHERE instance = ?", instance) == 0) {
            assertThat(System.nanoTime()).as("first poll").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
