package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A seeded fuzz suite over what callers control — alert fields, batch bodies, headers, query parameters — against
 * the whole service: no answer is a 5xx (other than 503 with {@code Retry-After}), no event loop blocks (the
 * {@code BlockedEventLoops} extension fails the test), and the heap is what it was once the run is over. The seed is
 * printed; {@code -Dfuzz.seed=N} replays a run, {@code -Dfuzz.rounds=N} makes it longer.
 */
class HostileInputFuzzIT {
    static ServiceUnderTest app;
    static final long SEED = Long.getLong("fuzz.seed", System.currentTimeMillis());
    static final int ROUNDS = Integer.getInteger("fuzz.rounds", 1200);
    static final List<String> FAILURES = new ArrayList<>();
    static List<JsonObject> samples = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        System.out.println("HostileInputFuzzIT seed " + SEED + " (-Dfuzz.seed=" + SEED + " to replay)");
        app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", Fixtures.workDir("fuzz").toString(),
                "CORRELATOR_DRL_WATCH", "false",
                "CORRELATOR_HTTP_BODY_LIMIT", "256k",
                "CORRELATOR_HTTP_BATCH_BODY_LIMIT", "2m",
                "CORRELATOR_HTTP_BATCH_MAX_LINES", "2000"));
        try (var files = Files.list(Path.of("config/samples"))) {
            for (Path f : files.sorted().toList()) {
                samples.add(new JsonObject(Files.readString(f)));
            }
        }
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    // ---- generators ------------------------------------------------------------------------------------------

    static final String[] PATHS = {"id", "timestamp", "agent.id", "agent.name", "agent.ip", "manager.name", "rule.id",
            "rule.level", "rule.groups", "rule.description", "location", "decoder.name", "data.win.eventdata.hashes",
            "data.win.eventdata.hash", "data.win.eventdata.destinationIp", "data.win.eventdata.queryName",
            "data.win.eventdata.queryResults", "data.win.system.eventID", "data.win.system.providerName", "data.srcip",
            "data.url", "data.hostname", "syscheck.sha256_after", "syscheck.md5_after", "data.osquery.columns"};

    static Object hostileValue(Random r) {
        return switch (r.nextInt(22)) {
            case 0 -> "A".repeat(r.nextInt(60_000));
            case 1 -> "SHA256=" + " ".repeat(r.nextInt(20_000)) + "x";
            case 2 -> "http://" + "a".repeat(r.nextInt(50_000)) + " ";
            case 3 -> Long.MAX_VALUE;
            case 4 -> -1e308;
            case 5 -> "99999999999999999999999999";
            case 6 -> "+294277-01-01T00:00:00Z";
            case 7 -> "-4714-11-23T00:00:00Z";
            case 8 -> "+999999999-12-31T23:59:59Z";
            case 9 -> "2025-08-13T08:45:06.785+0000";
            case 10 -> "\u0000\uFFFF\uD83D\uDE00\u202E" + "é".repeat(r.nextInt(2000));
            case 11 -> new JsonArray().add("sysmon").add("sysmon_eid" + "9".repeat(1 + r.nextInt(30)) + "_detections")
                    .add("web_" + "a".repeat(r.nextInt(5000)));
            case 12 -> nested(r.nextInt(150));
            case 13 -> null;
            case 14 -> new JsonObject();
            case 15 -> "::ffff:" + r.nextInt(256) + "." + r.nextInt(256) + ".1.1%eth0";
            case 16 -> "1.2.3.4;5.6.7.8;" + "[".repeat(r.nextInt(3000)) + ":".repeat(r.nextInt(3000));
            case 17 -> true;
            case 18 -> bigArray(r);
            case 19 -> "MD5=" + "0".repeat(32) + ",SHA1=" + "f".repeat(40) + ",IMPHASH==,=" + "=".repeat(r.nextInt(5000));
            case 20 -> "x".repeat(3000) + "." + "y".repeat(3000) + ".com";
            default -> r.nextInt();
        };
    }

    static Object nested(int depth) {
        JsonObject o = new JsonObject().put("v", "1.2.3.4");
        for (int i = 0; i < depth; i++) {
            o = new JsonObject().put("n", o);
        }
        return o;
    }

    static JsonArray bigArray(Random r) {
        JsonArray a = new JsonArray();
        for (int i = 0, n = r.nextInt(5000); i < n; i++) {
            a.add("81.2." + (i % 250) + "." + (i % 200));
        }
        return a;
    }

    static JsonObject mutated(Random r) {
        JsonObject alert = samples.get(r.nextInt(samples.size())).copy();
        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
            String[] path = PATHS[r.nextInt(PATHS.length)].split("\\.");
            JsonObject parent = alert;
            for (int k = 0; k < path.length - 1; k++) {
                Object child = parent.getValue(path[k]);
                if (!(child instanceof JsonObject)) {
                    child = new JsonObject();
                    parent.put(path[k], child);
                }
                parent = (JsonObject) child;
            }
            parent.put(path[path.length - 1], hostileValue(r));
        }
        if (r.nextInt(4) == 0) {
            alert.put("id", "1760009" + r.nextInt(1000) + "." + r.nextInt(1_000_000));
        }
        return alert;
    }

    static byte[] alertBody(Random r) {
        String text = mutated(r).encode();
        return switch (r.nextInt(12)) {
            case 0 -> text.substring(0, r.nextInt(text.length() + 1)).getBytes(StandardCharsets.UTF_8);
            case 1 -> text.replaceFirst("\\{", "{\"id\":\"dup\",\"id\":\"dup\",").getBytes(StandardCharsets.UTF_8);
            case 2 -> ("[" + text + "]").getBytes(StandardCharsets.UTF_8);
            case 3 -> {
                byte[] b = text.getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < 5 && b.length > 0; i++) {
                    b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                }
                yield b;
            }
            default -> text.getBytes(StandardCharsets.UTF_8);
        };
    }

    static byte[] batchBody(Random r) {
        StringBuilder b = new StringBuilder();
        boolean array = r.nextInt(3) == 0;
        int n = r.nextInt(30);
        if (array) {
            b.append('[');
        }
        for (int i = 0; i < n; i++) {
            if (array && i > 0) {
                b.append(',');
            }
            b.append(switch (r.nextInt(8)) {
                case 0 -> "";
                case 1 -> "   \t";
                case 2 -> "{\"id\":1,\"id\":2}";
                case 3 -> "not json";
                default -> mutated(r).encode();
            });
            if (!array) {
                b.append(r.nextBoolean() ? "\n" : "\r\n");
                if (r.nextInt(5) == 0) {
                    b.append("\n".repeat(r.nextInt(20_000)));
                }
            }
        }
        if (array && r.nextBoolean()) {
            b.append(']');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, String> headers(Random r, byte[][] body) throws Exception {
        Map<String, String> h = new HashMap<>();
        switch (r.nextInt(10)) {
            case 0 -> h.put("Content-Encoding", "gzip");
            case 1 -> {
                h.put("Content-Encoding", "gzip");
                body[0] = gzip(body[0]);
            }
            case 2 -> {
                h.put("Content-Encoding", "gzip, gzip");
                body[0] = gzip(gzip(body[0]));
            }
            case 3 -> h.put("Content-Encoding", "br");
            case 4 -> h.put("Content-Encoding", "deflate");
            default -> { }
        }
        switch (r.nextInt(6)) {
            case 0 -> h.put("Content-Type", "application/x-www-form-urlencoded");
            case 1 -> h.put("Content-Type", "multipart/form-data; boundary=x");
            case 2 -> h.put("Content-Type", "text/plain; charset=" + "x".repeat(r.nextInt(500)));
            default -> h.put("Content-Type", "application/json");
        }
        if (r.nextInt(5) == 0) {
            h.put("Authorization", r.nextBoolean() ? "Bearer " + "t".repeat(r.nextInt(4000)) : "Basic !!!" + r.nextInt());
        }
        if (r.nextInt(8) == 0) {
            h.put("X-Forwarded-For", "1.2.3.4, " + "9".repeat(r.nextInt(2000)));
        }
        return h;
    }

    static final String[] QUERY_KEYS = {"from", "to", "agent_id", "agent_name", "indicator", "indicator_type", "limit",
            "cursor", "format", "with_alert", "origin", "top", "bogus", "from"};

    static String query(Random r) {
        StringBuilder q = new StringBuilder();
        for (int i = 0, n = r.nextInt(5); i < n; i++) {
            String value = switch (r.nextInt(10)) {
                case 0 -> "+294277-01-01T00:00:00Z";
                case 1 -> "-4714-11-23";
                case 2 -> String.valueOf(r.nextLong());
                case 3 -> "'; DROP TABLE hits; --";
                case 4 -> "x".repeat(r.nextInt(5000));
                case 5 -> "2025-08-13";
                case 6 -> "9999-12-31T23:59:59.999999999Z";
                case 7 -> "\u0000";
                case 8 -> "%ZZ%";
                default -> String.valueOf(r.nextInt(10_000) - 100);
            };
            q.append(i == 0 ? "?" : "&").append(QUERY_KEYS[r.nextInt(QUERY_KEYS.length)]).append('=')
                    .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
        return q.toString();
    }

    static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(b)) {
            out.write(data);
        }
        return b.toByteArray();
    }

    // ---- the run ---------------------------------------------------------------------------------------------

    static void check(String what, ServiceUnderTest.Response r) {
        boolean ok = r.status() < 500 || r.status() == 503 && r.raw().headers().firstValue("Retry-After").isPresent();
        if (!ok && FAILURES.size() < 20) {
            FAILURES.add(what + " -> " + r.status() + " " + r.body().substring(0, Math.min(300, r.body().length())));
        }
    }

    static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void noInputGivesA5xxBlocksALoopOrGrowsTheHeap() throws Exception {
        Random r = new Random(SEED);
        // one pass before measuring: caches and JIT settle
        check("warm-up", app.post("/v1/alerts", samples.get(0).encode().getBytes(StandardCharsets.UTF_8)));
        long before = usedHeapAfterGc();
        long t0 = System.nanoTime();
        for (int round = 0; round < ROUNDS; round++) {
            int kind = r.nextInt(10);
            try {
                if (kind < 5) {
                    byte[][] body = {alertBody(r)};
                    Map<String, String> h = headers(r, body);
                    check("alert #" + round, app.post("/v1/alerts", body[0], h));
                } else if (kind < 7) {
                    byte[][] body = {batchBody(r)};
                    Map<String, String> h = headers(r, body);
                    check("batch #" + round, app.post("/v1/alerts/batch", body[0], h));
                } else if (kind < 8) {
                    byte[][] body = {alertBody(r)};
                    check("rules/test #" + round, app.post("/v1/rules/test", body[0], headers(r, body)));
                } else {
                    String path = (r.nextBoolean() ? "/v1/hits" : "/v1/hits/stats") + query(r);
                    check("GET " + path.substring(0, Math.min(200, path.length())), app.get(path));
                }
            } catch (java.io.IOException e) {
                // a connection the server closed (a 413 or 503 before the body was read) is an answer, not a failure
            }
        }
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        long after = usedHeapAfterGc();
        System.out.printf("HostileInputFuzzIT: %d rounds in %d s, heap after GC %d MiB -> %d MiB%n", ROUNDS, seconds,
                before >> 20, after >> 20);
        assertThat(FAILURES).as("seed " + SEED).isEmpty();
        assertThat(app.get("/health/live").status()).isEqualTo(200);
        assertThat(after - before).as("heap growth over the run (seed " + SEED + ")").isLessThan(150L << 20);
    }
}
