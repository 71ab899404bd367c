package io.github.mispcorrelator.wazuh;

import com.sun.net.httpserver.HttpServer;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The integratord forwarder ({@code src/main/wazuh/custom-misp-correlator.py}) run exactly as integratord runs it — a
 * temporary alert file and integratord's argv — against the real service and a Unix datagram server standing in for
 * analysisd's {@code queue/sockets/queue}. The forwarder asks for {@code ?format=analysisd} and writes the messages
 * the service formatted; every message is compared byte for byte with what the Java side ({@link AnalysisdMessage})
 * writes for the same event, so nothing is lost or changed on the way (JSON string escapes, non-ASCII, shrinking).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ForwarderIT {
    static final Path SCRIPT = Fixtures.project("src/main/wazuh/custom-misp-correlator.py");
    static final Path WRAPPER = Fixtures.project("src/main/wazuh/custom-misp-correlator");
    static final Path EICAR = Fixtures.project("config/samples/sysmon-eid1-eicar.json");
    static final Path C2_CONNECTION = Fixtures.project("config/samples/sysmon-eid3-c2.json");
    static final Path C2_DNS = Fixtures.project("config/samples/sysmon-eid22-c2.json");
    /** Recognisable, so a leak anywhere is found. */
    static final String KEY = "FAKE-key-7f3a9c-MUST-NOT-LEAK";
    static final String EICAR_LOCATION = "1:[003] (WS-FIN-0042) 192.168.56.23->misp:";

    static ServiceUnderTest app;

    Path wazuh;
    FakeAnalysisd analysisd;
    int runs;

    @BeforeAll
    static void start() {
        app = new ServiceUnderTest(Map.of("CORRELATOR_DATA_DIR", Fixtures.workDir("fwd").toString()));
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    @BeforeEach
    void wazuhDirectory() throws Exception {
        // a Wazuh install dir as the forwarder sees it: logs/, queue/sockets/queue (the socket path must stay short)
        wazuh = Fixtures.workDir("fw");
        Files.createDirectories(wazuh.resolve("logs"));
        Files.createDirectories(wazuh.resolve("queue/sockets"));
        analysisd = FakeAnalysisd.start(wazuh.resolve("queue/sockets/queue"), wazuh.resolve("analysisd.hex"));
        Files.writeString(wazuh.resolve("fwd.options"), "{\"backoff\": 0.05, \"backoff_max\": 0.2}");
    }

    @AfterEach
    void stopAnalysisd() {
        analysisd.close();
    }

    // ---- the real service ------------------------------------------------------------------------------------

    @Test
    void theSevenArgumentCallSendsEachEventAsOneDatagramWithTheJavaSidesBytes() throws Exception {
        byte[] alert = Files.readAllBytes(EICAR);
        Run run = run(sevenArguments(alertFile(alert), KEY, serviceUrl(), ""));

        assertThat(run.exit()).isEqualTo(0);
        List<byte[]> messages = analysisd.await(3);
        JsonArray events = answer(alert).getJsonArray("events");
        assertThat(events).hasSize(3);
        assertThat(messages).hasSize(3);
        for (int i = 0; i < 3; i++) {
            String message = new String(messages.get(i), StandardCharsets.UTF_8);
            assertThat(message).startsWith(EICAR_LOCATION);
            assertThat(new JsonObject(message.substring(EICAR_LOCATION.length()))).isEqualTo(events.getJsonObject(i));
            assertThat(messages.get(i)).isEqualTo(AnalysisdMessage.format(AlertParser.parse(alert), events.getJsonObject(i)));
        }
        // the service's own lines, as the forwarder received them, are those bytes
        JsonArray lines = answer(alert, "?format=analysisd").getJsonArray("analysisd");
        assertThat(lines).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(lines.getString(i).getBytes(StandardCharsets.UTF_8)).isEqualTo(messages.get(i));
        }
        assertThat(spool()).isEmpty();
    }

    @Test
    void theOlderFourArgumentCallWithShellRedirectionTokensWorksToo() throws Exception {
        byte[] alert = Files.readAllBytes(EICAR);
        Path file = alertFile(alert);
        // one token per word, and the whole tail as one token (integratord splits its command line in 5 at most)
        assertThat(run(List.of(file.toString(), "", serviceUrl() + "/", ">", "/dev/null", "2>&1")).exit()).isEqualTo(0);
        assertThat(run(List.of(file.toString(), KEY, serviceUrl(), " > /dev/null 2>&1")).exit()).isEqualTo(0);

        List<byte[]> expected = javaMessages(alert);
        List<byte[]> messages = analysisd.await(6);
        assertThat(messages).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(messages.get(i)).isEqualTo(expected.get(i % 3));
        }
        assertThat(spool()).isEmpty();
    }

    @Test
    void anIpv6AgentAddressAndAPipeInTheAgentNameAreEscaped() throws Exception {
        JsonObject json = new JsonObject(Files.readString(EICAR));
        json.getJsonObject("agent").put("ip", "fd00:1::15").put("name", "WS|FIN-0042");
        byte[] alert = json.encode().getBytes(StandardCharsets.UTF_8);

        assertThat(run(sevenArguments(alertFile(alert), KEY, serviceUrl() + "/v1/alerts", "")).exit()).isEqualTo(0);

        List<byte[]> messages = analysisd.await(3);
        assertThat(messages).hasSize(3).containsExactlyElementsOf(javaMessages(alert));
        assertThat(messages).allSatisfy(m -> assertThat(new String(m, StandardCharsets.UTF_8))
                .startsWith("1:[003] (WS||FIN-0042) fd00|:1|:|:15->misp:{\"integration\":\"misp\","));
    }

    @Test
    void theManagersOwnAlertsGoToLocationMisp() throws Exception {
        JsonObject json = new JsonObject(Files.readString(EICAR));
        json.put("agent", new JsonObject().put("id", "000").put("name", "wazuh-manager"));
        byte[] alert = json.encode().getBytes(StandardCharsets.UTF_8);

        assertThat(run(sevenArguments(alertFile(alert), KEY, serviceUrl(), "")).exit()).isEqualTo(0);

        List<byte[]> messages = analysisd.await(3);
        assertThat(messages).hasSize(3).containsExactlyElementsOf(javaMessages(alert));
        assertThat(messages).allSatisfy(m -> assertThat(new String(m, StandardCharsets.UTF_8))
                .startsWith("1:misp:{\"integration\":\"misp\","));
    }

    @Test
    void anUnreachableCorrelatorGetsTheAlertSpooledAndTheSocToldThenTheNextRunSendsTheSpoolFirst() throws Exception {
        byte[] eicar = Files.readAllBytes(EICAR);
        byte[] connection = Files.readAllBytes(C2_CONNECTION);
        String down = "http://127.0.0.1:" + closedPort();

        Run first = run(sevenArguments(alertFile(eicar), KEY, down, ""));
        Run second = run(sevenArguments(alertFile(connection), KEY, down, ""));

        assertThat(first.exit()).isEqualTo(0);
        assertThat(second.exit()).isEqualTo(0);
        assertThat(spool()).containsExactly(line(eicar), line(connection));
        List<byte[]> errors = analysisd.await(2);
        assertThat(errors).hasSize(2);
        String error = new String(errors.get(0), StandardCharsets.UTF_8);
        assertThat(error).startsWith(EICAR_LOCATION);
        JsonObject event = new JsonObject(error.substring(EICAR_LOCATION.length()));
        assertThat(event.fieldNames()).containsExactly("integration", "misp", "correlator");
        assertThat(event.getString("integration")).isEqualTo("misp");
        assertThat(event.getJsonObject("misp").fieldNames()).containsExactly("error");
        // retried once (retries = 1) ...
        assertThat(event.getJsonObject("misp").getString("error"))
                .isEqualTo("misp-correlator unreachable: connection refused (2 attempts); alert spooled");
        assertThat(event.getJsonObject("correlator")).isEqualTo(new JsonObject()
                .put("alert_id", "1757320729.48664538").put("agent_id", "003").put("rule_id", "92052"));
        JsonObject secondError = new JsonObject(new String(errors.get(1), StandardCharsets.UTF_8)
                .substring(EICAR_LOCATION.length()));
        assertThat(secondError.getJsonObject("correlator").getString("alert_id")).isEqualTo("1757320866.48698257");
        // ... but a run right after an outage tries once: integratord waits for each run, alert after alert
        assertThat(secondError.getJsonObject("misp").getString("error"))
                .isEqualTo("misp-correlator unreachable: connection refused; alert spooled");

        // the correlator is back: the spool goes first, oldest first, then the new alert; nothing new is spooled
        byte[] dns = Files.readAllBytes(C2_DNS);
        Run third = run(sevenArguments(alertFile(dns), KEY, serviceUrl(), ""));

        assertThat(third.exit()).isEqualTo(0);
        List<byte[]> expected = new ArrayList<>(javaMessages(eicar));
        expected.addAll(javaMessages(connection));
        expected.addAll(javaMessages(dns));
        List<byte[]> messages = analysisd.await(2 + expected.size());
        assertThat(messages.subList(2, messages.size())).containsExactlyElementsOf(expected);
        assertThat(spool()).isEmpty();
        assertThat(wazuh.resolve("queue/misp-correlator/unreachable")).doesNotExist();
        assertThat(log()).contains("re-sending 2 spooled alert(s)");
    }

    @Test
    void aLineThatIsNotJsonIsRejectedWithA400AndNeitherRetriedNorSpooled() throws Exception {
        Path file = wazuh.resolve("bad.alert");
        Files.writeString(file, "this is not an alert\n");

        Run run = run(sevenArguments(file, KEY, serviceUrl(), ""));

        assertThat(run.exit()).isEqualTo(0);
        assertThat(analysisd.quiet()).isEmpty();
        assertThat(spool()).isEmpty();
        assertThat(log()).contains("rejected").contains("status 400");
    }

    @Test
    void anUnreadableAlertFileExitsWith1() throws Exception {
        Run missing = run(sevenArguments(wazuh.resolve("no-such.alert"), KEY, serviceUrl(), ""));
        Run directory = run(sevenArguments(wazuh.resolve("logs"), KEY, serviceUrl(), ""));

        assertThat(missing.exit()).isEqualTo(1);
        assertThat(directory.exit()).isEqualTo(1);
        assertThat(log()).contains("cannot read alert file");
        assertThat(analysisd.quiet()).isEmpty();
    }

    @Test
    void theKeyIsNeverWrittenAnywhereEvenInDebug() throws Exception {
        byte[] alert = Files.readAllBytes(EICAR);
        Path bad = wazuh.resolve("bad.alert");
        Files.writeString(bad, "{\"id\": ");
        List<Run> runs = List.of(
                run(sevenArguments(alertFile(alert), KEY, serviceUrl(), "debug")),
                run(sevenArguments(alertFile(alert), KEY, "http://127.0.0.1:" + closedPort(), "debug")),
                run(sevenArguments(bad, KEY, serviceUrl(), "debug")),
                run(sevenArguments(wazuh.resolve("no-such.alert"), KEY, serviceUrl(), "debug")),
                run(List.of(alertFile(alert).toString(), KEY, "http://127.0.0.1:" + closedPort(), "debug")),
                run(sevenArguments(alertFile(alert), KEY, "http://" + KEY + "@127.0.0.1:" + closedPort(), "debug")));

        String log = log();
        assertThat(log).contains("DEBUG").contains("api key (set)").contains("alert spooled");
        assertThat(log).doesNotContain(KEY);
        for (Run r : runs) {
            assertThat(r.stdout()).doesNotContain(KEY);
            assertThat(r.stderr()).doesNotContain(KEY);
        }
        assertThat(String.join("\n", spool())).doesNotContain(KEY);
        assertThat(analysisd.quiet()).isNotEmpty()
                .allSatisfy(m -> assertThat(new String(m, StandardCharsets.UTF_8)).doesNotContain(KEY));
    }

    @Test
    void theShellWrapperFindsTheWazuhDirectoryFromItsOwnPlaceAndFallsBackToPython3() throws Exception {
        Path integrations = Files.createDirectories(wazuh.resolve("integrations"));
        Path wrapper = Files.copy(WRAPPER, integrations.resolve("custom-misp-correlator"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(SCRIPT, integrations.resolve("custom-misp-correlator.py"), StandardCopyOption.COPY_ATTRIBUTES);
        byte[] alert = Files.readAllBytes(EICAR);

        List<String> command = new ArrayList<>(List.of("sh", wrapper.toString()));
        command.addAll(sevenArguments(alertFile(alert), KEY, serviceUrl(), ""));
        // no WAZUH_PATH: the wrapper and the script must find <wazuh>/queue/sockets/queue from integrations/..
        Run run = exec(command, Map.of());

        assertThat(run.exit()).isEqualTo(0);
        assertThat(analysisd.await(3)).containsExactlyElementsOf(javaMessages(alert));
    }

    // ---- a scripted correlator, for what the real one does not do on demand ------------------------------------

    @Test
    void a503IsRetriedWithBackOffAndTheBearerTokenIsSentOnlyWhenThereIsAKey() throws Exception {
        byte[] alert = Files.readAllBytes(EICAR);
        JsonObject event = new JsonObject().put("integration", "misp")
                .put("misp", new JsonObject().put("category", "Payload delivery").put("value", "81.2.69.192"));
        try (ScriptedCorrelator correlator = new ScriptedCorrelator(n -> n == 0
                ? new Answer(503, "{\"error\":\"hit store unavailable\"}")
                : new Answer(200, events(event)))) {
            Run withKey = run(sevenArguments(alertFile(alert), KEY, correlator.url(), ""));
            Run withoutKey = run(sevenArguments(alertFile(alert), "", correlator.url(), ""));

            assertThat(withKey.exit()).isEqualTo(0);
            assertThat(withoutKey.exit()).isEqualTo(0);
            List<Request> requests = correlator.requests();
            assertThat(requests).hasSize(3);
            assertThat(requests).allSatisfy(r -> {
                assertThat(r.path()).isEqualTo("/v1/alerts");
                assertThat(r.contentType()).isEqualTo("application/json");
                assertThat(r.body()).isEqualTo(line(alert).getBytes(StandardCharsets.UTF_8));
            });
            assertThat(requests.get(0).authorization()).isEqualTo("Bearer " + KEY);
            assertThat(requests.get(1).authorization()).isEqualTo("Bearer " + KEY);
            assertThat(requests.get(2).authorization()).isNull();
            byte[] expected = AnalysisdMessage.format(AlertParser.parse(alert), event);
            assertThat(analysisd.await(2)).containsExactly(expected, expected);
            assertThat(spool()).isEmpty();
        }
    }

    @Test
    void aSlowCorrelatorCannotHoldIntegratordBeyondTheReplayBudget() throws Exception {
        // integratord waits for the script without a timeout and runs integrations one after another
        // (wazuh src/os_integrator/integrator.c:447-453, v4.14.0): re-sending the spool must stop in time
        byte[] alert = Files.readAllBytes(EICAR);
        Path spoolFile = wazuh.resolve("queue/misp-correlator/spool.ndjson");
        Files.createDirectories(spoolFile.getParent());
        Files.writeString(spoolFile, (line(alert) + "\n").repeat(5));
        Files.writeString(wazuh.resolve("fwd.options"), "{\"backoff\": 0.05, \"backoff_max\": 0.2, \"spool_replay_seconds\": 1}");
        JsonObject event = new JsonObject().put("integration", "misp")
                .put("misp", new JsonObject().put("category", "Payload delivery").put("value", "81.2.69.192"));
        try (ScriptedCorrelator slow = new ScriptedCorrelator(n -> {
            try {
                Thread.sleep(600);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new Answer(200, events(event));
        })) {
            long t0 = System.nanoTime();
            Run r = run(sevenArguments(alertFile(alert), KEY, slow.url(), ""));
            long tookMs = (System.nanoTime() - t0) / 1_000_000;

            assertThat(r.exit()).isEqualTo(0);
            assertThat(slow.requests()).as("two spooled alerts fit the 1 s budget, then the new one").hasSize(3);
            assertThat(spool()).hasSize(3);
            assertThat(log()).contains("replay budget of 1s used");
            assertThat(tookMs).isLessThan(5_000);
        }
    }

    @Test
    void anOversizedEventShrunkByTheJavaSideReachesAnalysisdByteForByte() throws Exception {
        Alert parsed = AlertParser.parse(Files.readAllBytes(EICAR));
        JsonArray tags = new JsonArray();
        for (int i = 0; i < 3000; i++) {
            tags.add("misp-galaxy:threat-actor=\"actor n\u00b0 " + i + "\"");
        }
        // escapes Jackson writes its own way, non-ASCII, a surrogate pair cut in half at 1,024 UTF-16 units, a double
        JsonObject big = new JsonObject().put("integration", "misp")
                .put("misp", new JsonObject().put("value", "81.2.69.192").put("tags", tags)
                        .put("event_info", "a".repeat(1023) + "\ud83d\ude00" + "b".repeat(3000))
                        .put("source", new JsonObject().put("description",
                                "\u001f\u000b\t\"\\/ \u2028 \u00e9 " + "d".repeat(20_000)))
                        .put("score", 1.0E10))
                .put("correlator", new JsonObject().put("severity", 12).put("ratio", 0.125));
        JsonObject small = new JsonObject().put("integration", "misp")
                .put("misp", new JsonObject().put("value", "caf\u00e9 \ud83d\ude00 \u0001"));
        JsonObject unfit = new JsonObject().put("integration", "misp")
                .put("misp", new JsonObject().put("value", "x")).put("correlator", new JsonObject()
                        .put("indicator", new JsonObject().put("value", "x".repeat(70_000))));
        assertThatThrownBy(() -> AnalysisdMessage.format(parsed, unfit)).isInstanceOf(IllegalArgumentException.class);

        try (ScriptedCorrelator correlator = new ScriptedCorrelator(n -> new Answer(200, events(big, unfit, small)))) {
            assertThat(run(sevenArguments(alertFile(Files.readAllBytes(EICAR)), KEY, correlator.url(), "")).exit())
                    .isEqualTo(0);
        }

        List<byte[]> messages = analysisd.await(2);
        byte[] shrunk = AnalysisdMessage.format(parsed, big);
        assertThat(shrunk.length).isLessThanOrEqualTo(AnalysisdMessage.MAX_BYTES);
        assertThat(new String(shrunk, StandardCharsets.UTF_8)).contains("\"tags\":[]").contains("\"truncated\":true");
        assertThat(messages).hasSize(2);
        assertThat(new String(messages.get(0), StandardCharsets.UTF_8)).isEqualTo(new String(shrunk, StandardCharsets.UTF_8));
        assertThat(messages.get(0)).isEqualTo(shrunk);
        assertThat(messages.get(1)).isEqualTo(AnalysisdMessage.format(parsed, small));
        assertThat(log()).contains("does not fit one analysisd message");
    }

    @Test
    void a500GivesAnErrorEventAndA401IsSpooledWithoutRetrying() throws Exception {
        byte[] alert = Files.readAllBytes(EICAR);
        try (ScriptedCorrelator failing = new ScriptedCorrelator(n -> new Answer(500, "{\"error\":\"internal error\"}"));
             ScriptedCorrelator refusing = new ScriptedCorrelator(n -> new Answer(401, "{\"error\":\"bad token\"}"))) {
            assertThat(run(sevenArguments(alertFile(alert), KEY, failing.url(), "")).exit()).isEqualTo(0);
            assertThat(failing.requests()).hasSize(1);
            assertThat(spool()).isEmpty();

            assertThat(run(sevenArguments(alertFile(alert), KEY, refusing.url(), "")).exit()).isEqualTo(0);
            assertThat(refusing.requests()).hasSize(1);
            assertThat(spool()).containsExactly(line(alert));
        }
        List<byte[]> errors = analysisd.await(2);
        assertThat(errors).hasSize(2);
        assertThat(misp(errors.get(0)).getString("error")).startsWith("misp-correlator failed on the alert: answered status 500");
        assertThat(misp(errors.get(1)).getString("error"))
                .isEqualTo("misp-correlator unreachable: answered status 401: bad token; alert spooled");
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    record Run(int exit, String stdout, String stderr) {
    }

    List<String> sevenArguments(Path alertFile, String key, String hookUrl, String debug) {
        return List.of(alertFile.toString(), key, hookUrl, debug, wazuh.resolve("fwd.options").toString(), "5", "1");
    }

    Run run(List<String> arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", SCRIPT.toString()));
        command.addAll(arguments);
        return exec(command, Map.of("WAZUH_PATH", wazuh.toString()));
    }

    Run exec(List<String> command, Map<String, String> env) throws Exception {
        int n = ++runs;
        Path out = wazuh.resolve("run-" + n + ".out");
        Path err = wazuh.resolve("run-" + n + ".err");
        ProcessBuilder pb = new ProcessBuilder(command).directory(wazuh.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("WAZUH_PATH");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the forwarder did not finish within 60 s: " + command);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    Path alertFile(byte[] alert) throws IOException {
        // as integratord writes it: one line, no newline at the end
        Path file = wazuh.resolve("custom-misp-correlator-" + System.nanoTime() + ".alert");
        Files.write(file, line(alert).getBytes(StandardCharsets.UTF_8));
        return file;
    }

    static String line(byte[] alert) {
        return new String(alert, StandardCharsets.UTF_8).strip();
    }

    static String serviceUrl() {
        return "http://127.0.0.1:" + app.service().httpPort();
    }

    static JsonObject answer(byte[] alert) throws Exception {
        return answer(alert, "");
    }

    static JsonObject answer(byte[] alert, String query) throws Exception {
        ServiceUnderTest.Response r = app.post("/v1/alerts" + query, alert);
        assertThat(r.status()).isEqualTo(200);
        return r.json();
    }

    /** What the Java side writes to analysisd for the service's events for this alert. */
    static List<byte[]> javaMessages(byte[] alert) throws Exception {
        Alert parsed = AlertParser.parse(alert);
        JsonArray events = answer(alert).getJsonArray("events");
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            out.add(AnalysisdMessage.format(parsed, events.getJsonObject(i)));
        }
        assertThat(out).isNotEmpty();
        return out;
    }

    List<String> spool() throws IOException {
        Path spool = wazuh.resolve("queue/misp-correlator/spool.ndjson");
        if (!Files.exists(spool)) {
            return List.of();
        }
        return Files.readAllLines(spool).stream().filter(l -> !l.isBlank()).toList();
    }

    String log() throws IOException {
        Path log = wazuh.resolve("logs/integrations.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    static JsonObject misp(byte[] message) {
        String text = new String(message, StandardCharsets.UTF_8);
        return new JsonObject(text.substring(text.indexOf(":{") + 1)).getJsonObject("misp");
    }

    /**
     * What the service answers with {@code ?format=analysisd} for the EICAR alert (every scripted test sends it) and
     * these events: the events and their analysisd messages, formatted by the Java side.
     */
    static String events(JsonObject... events) {
        Alert eicar;
        try {
            eicar = AlertParser.parse(Files.readAllBytes(EICAR));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AnalysisdMessage.Lines lines = AnalysisdMessage.lines(eicar, List.of(events));
        return new JsonObject().put("alert_id", "x").put("events", new JsonArray(List.of((Object[]) events)))
                .put("analysisd", new JsonArray(lines.lines())).put("analysisd_unfit", lines.unfit()).encode();
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * analysisd's datagram socket. Java 17 cannot receive AF_UNIX datagrams, so a small python3 process binds it and
     * writes each datagram, hex-encoded, as one line of a file.
     */
    static final class FakeAnalysisd implements AutoCloseable {
        private static final String RECEIVER = String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)",
                "s.bind(sys.argv[1])",
                "out = open(sys.argv[2], 'a')",
                "while True:",
                "    data = s.recv(1 << 20)",
                "    out.write(data.hex() + '\\n')",
                "    out.flush()");

        private final Process process;
        private final Path out;

        private FakeAnalysisd(Process process, Path out) {
            this.process = process;
            this.out = out;
        }

        static FakeAnalysisd start(Path socket, Path out) throws Exception {
            Process p = new ProcessBuilder("python3", "-c", RECEIVER, socket.toString(), out.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            // the output file is opened after the bind: once it exists, the socket is listening
            while (!Files.exists(out)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    fail("the fake analysisd did not bind " + socket);
                }
                Thread.sleep(20);
            }
            return new FakeAnalysisd(p, out);
        }

        List<byte[]> received() {
            try {
                List<byte[]> all = new ArrayList<>();
                for (String line : Files.readAllLines(out)) {
                    if (!line.isBlank()) {
                        all.add(HexFormat.of().parseHex(line.strip()));
                    }
                }
                return all;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Every datagram, once at least n arrived (or 15 s passed), and nothing more came for a moment. */
        List<byte[]> await(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (received().size() < n && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            return quiet();
        }

        /** Every datagram, after a moment in which any still in flight is written out. */
        List<byte[]> quiet() throws InterruptedException {
            Thread.sleep(300);
            return received();
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    record Answer(int status, String body) {
    }

    record Request(String path, String authorization, String contentType, byte[] body) {
    }

    /** An HTTP server answering POST /v1/alerts as scripted: the n-th request (from 0) gets script(n). */
    static final class ScriptedCorrelator implements AutoCloseable {
        private final HttpServer server;
        private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();

        ScriptedCorrelator(IntFunction<Answer> script) throws IOException {
            AtomicInteger count = new AtomicInteger();
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                requests.add(new Request(exchange.getRequestURI().getPath(),
                        exchange.getRequestHeaders().getFirst("Authorization"),
                        exchange.getRequestHeaders().getFirst("Content-Type"), body));
                Answer answer = script.apply(count.getAndIncrement());
                byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(answer.status(), bytes.length);
                exchange.getResponseBody().write(bytes);
                exchange.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        List<Request> requests() {
            return List.copyOf(requests);
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
