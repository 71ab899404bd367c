package io.github.mispcorrelator.logs;

import io.github.mispcorrelator.LogFormat;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.FakeMisp.Answer;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole service logs in both formats (logback.xml as shipped, on standard output as under systemd) while it meets
 * a failing MISP and a wrong API token: no secret of the configuration appears in either, JSON lines are JSON, and the
 * MISP instance is a field.
 */
class LogSecretsIT {
    static final String MISP_KEY = "MispSecretKey-4c1f9e2a7b3d5e6f8091a2b3c4d5e6f7";
    static final String INGEST = "IngestSecretToken-0a1b2c3d4e5f6071";
    static final String READ = "ReadSecretToken-8192a3b4c5d6e7f80";
    static final String ADMIN = "AdminSecretToken-1f2e3d4c5b6a7980";
    static final String DB_PASSWORD = "DbSecretPassword-77aa88bb99cc";
    static final String WRONG_TOKEN = "WrongSecretToken-5566778899aabbcc";

    @Test
    void noSecretInTextOrJsonLogs() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                captured.write(b);
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                captured.write(b, off, len);
                original.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
        String text;
        String json;
        configure("/logback.xml");
        try (FakeMisp misp = new FakeMisp()) {
            // an outage: 503 to every request, so the breaker opens and says so, naming the instance
            misp.answer(Answer.json(503, "{\"name\":\"Service Unavailable\",\"message\":\"down\",\"url\":\"/\"}"));
            LogFormat.use("text");
            exercise(misp);
            text = captured.toString(StandardCharsets.UTF_8);
            captured.reset();
            LogFormat.use("json");
            exercise(misp);
            json = captured.toString(StandardCharsets.UTF_8);
        } finally {
            LogFormat.use("text");
            System.setOut(original);
            configure("/logback-test.xml");
        }
        for (String secret : List.of(MISP_KEY, INGEST, READ, ADMIN, DB_PASSWORD, WRONG_TOKEN)) {
            assertThat(text).as("text logs").doesNotContain(secret);
            assertThat(json).as("JSON logs").doesNotContain(secret);
        }
        assertThat(text).contains("Starting misp-correlator").containsPattern("circuit opened: .* misp_instance=http://127\\.0\\.0\\.1:\\d+");
        List<String> lines = json.lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).isNotEmpty().allSatisfy(l -> assertThat(new JsonObject(l).getString("level")).isNotBlank());
        assertThat(lines).anySatisfy(l -> assertThat(new JsonObject(l).getString("formattedMessage")).startsWith("Starting misp-correlator"));
        assertThat(lines).anySatisfy(l -> {
            JsonObject o = new JsonObject(l);
            assertThat(o.getString("formattedMessage")).contains("circuit opened");
            assertThat(o.getJsonArray("kvpList").getJsonObject(0).getString("misp_instance")).startsWith("http://127.0.0.1:");
        });
    }

    /** The shipped logback.xml (tests otherwise log through logback-test.xml). */
    private static void configure(String resource) throws Exception {
        ch.qos.logback.classic.LoggerContext context =
                (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        context.reset();
        ch.qos.logback.classic.joran.JoranConfigurator joran = new ch.qos.logback.classic.joran.JoranConfigurator();
        joran.setContext(context);
        joran.doConfigure(LogSecretsIT.class.getResource(resource));
    }

    private static void exercise(FakeMisp misp) throws Exception {
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_MISP_URL", misp.url());
        env.put("CORRELATOR_MISP_KEY", MISP_KEY);
        env.put("CORRELATOR_MISP_RETRIES", "0");
        env.put("CORRELATOR_MISP_BREAKER_FAILURES", "1");
        env.put("CORRELATOR_MISP_TIMEOUT", "2s");
        env.put("CORRELATOR_INGEST_TOKEN", INGEST);
        env.put("CORRELATOR_READ_TOKEN", READ);
        env.put("CORRELATOR_ADMIN_TOKEN", ADMIN);
        env.put("CORRELATOR_DRL_WATCH", "false");
        if (!env.containsKey("CORRELATOR_DB_PASSWORD")) {
            // the embedded test database trusts local connections: any password is accepted, and must stay hidden
            env.put("CORRELATOR_DB_PASSWORD", DB_PASSWORD);
        }
        byte[] alert = Files.readAllBytes(Path.of("config/samples/sysmon-eid3-c2.json"));
        try (ServiceUnderTest s = new ServiceUnderTest(env)) {
            assertThat(s.post("/v1/alerts", alert, Map.of("Content-Type", "application/json",
                    "Authorization", "Bearer " + INGEST)).status()).isEqualTo(200);
            assertThat(s.post("/v1/alerts", alert, Map.of("Content-Type", "application/json",
                    "Authorization", "Bearer " + WRONG_TOKEN)).status()).isEqualTo(401);
        }
    }
}
