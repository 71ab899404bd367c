package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.support.FakeAnalysisd;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tail ingest on a real file: lines appended as Wazuh writes them, a bad line, a rotation and a restart, with events
 * delivered to a Unix datagram socket standing in for analysisd.
 */
class AlertsTailIT {

    static String sample(String name, String id) throws Exception {
        String line = Files.readString(Path.of("config/samples", name)).strip();
        return line.replaceFirst("\"id\":\"[0-9]+\\.[0-9]+\"", "\"id\":\"" + id + "\"");
    }

    static void append(Path file, String... lines) throws Exception {
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    static JsonObject waitFor(ServiceUnderTest app, long alerts) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        JsonObject s = app.service().tail().orElseThrow().status();
        while (s.getLong("alerts") < alerts && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = app.service().tail().orElseThrow().status();
        }
        return s;
    }

    static long rows(ServiceUnderTest app, String sql) throws Exception {
        try (Connection c = app.service().database().dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void followsTheFileAcrossARotationAndARestartWithoutLosingOrRepeating() throws Exception {
        Path work = Fixtures.workDir("tail");
        Path alerts = work.resolve("logs/alerts/alerts.json");
        Files.createDirectories(alerts.getParent());
        append(alerts, sample("sysmon-eid1-eicar.json", "1000.1"), "{\"truncated line", sample("syscheck-added-clean.json", "1000.2"));
        Map<String, String> env = Map.of(
                "CORRELATOR_DATA_DIR", work.resolve("data").toString(),
                "CORRELATOR_TAIL_FILE", alerts.toString(),
                "CORRELATOR_TAIL_START", "beginning",
                "CORRELATOR_TAIL_POLL", "50ms",
                "CORRELATOR_ANALYSISD_SOCKET", work.resolve("queue/sockets/queue").toString(),
                "CORRELATOR_DRL_WATCH", "false");

        try (FakeAnalysisd analysisd = new FakeAnalysisd(work.resolve("queue/sockets/queue"))) {
            try (ServiceUnderTest app = new ServiceUnderTest(env)) {
                JsonObject s = waitFor(app, 2);
                assertThat(s.getLong("bad_lines")).isEqualTo(1);
                List<String> messages = analysisd.await(3, 10_000);
                assertThat(messages).hasSize(3).allSatisfy(m ->
                        assertThat(m).startsWith("1:[003] (WS-FIN-0042) 192.168.56.23->misp:{\"integration\":\"misp\""));
                assertThat(new JsonObject(messages.get(0).substring(messages.get(0).indexOf("->misp:") + 7))
                        .getJsonObject("correlator").getString("alert_id")).isEqualTo("1000.1");

                // Wazuh rotates: a last line in the old file, the old file moved away, a new file at the path
                append(alerts, sample("sysmon-eid3-c2.json", "1000.3"));
                Files.move(alerts, alerts.resolveSibling("ossec-alerts-27.json"));
                append(alerts, sample("sysmon-eid22-c2.json", "2000.1"));

                waitFor(app, 4);
                assertThat(analysisd.await(6, 10_000)).hasSize(6);
                assertThat(rows(app, "SELECT count(DISTINCT alert_id) FROM hits")).isEqualTo(3);
            }

            // stopped: more alerts arrive
            append(alerts, sample("sysmon-eid3-c2.json", "2000.2"), sample("syscheck-added-clean.json", "2000.3"));

            try (ServiceUnderTest again = new ServiceUnderTest(env)) {
                JsonObject s = waitFor(again, 2);
                Thread.sleep(500);
                // only the two new lines: nothing before the committed offset is read again
                assertThat(again.service().tail().orElseThrow().status().getLong("alerts")).isEqualTo(2);
                assertThat(s.getLong("bad_lines")).isZero();
                assertThat(rows(again, "SELECT count(*) FROM hits WHERE alert_id = '1000.1'")).isEqualTo(3);
                assertThat(rows(again, "SELECT count(DISTINCT alert_id) FROM hits")).isEqualTo(4);
                assertThat(analysisd.await(7, 10_000)).hasSize(7);
            }
        }
    }

    @Test
    void whileAnalysisdIsDownTheTailerWaitsAndDeliversAfterwards() throws Exception {
        Path work = Fixtures.workDir("tail-analysisd-down");
        Path alerts = work.resolve("alerts.json");
        append(alerts, sample("sysmon-eid3-c2.json", "3000.1"));
        Path socket = work.resolve("queue/sockets/queue");
        Files.createDirectories(socket.getParent());
        try (ServiceUnderTest app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", work.resolve("data").toString(),
                "CORRELATOR_TAIL_FILE", alerts.toString(),
                "CORRELATOR_TAIL_START", "beginning",
                "CORRELATOR_TAIL_POLL", "50ms",
                "CORRELATOR_ANALYSISD_SOCKET", socket.toString(),
                "CORRELATOR_DRL_WATCH", "false"))) {
            // analysisd is not listening (a manager restart): the hit is stored, the event cannot be sent
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (app.service().tail().orElseThrow().status().getLong("undelivered_events") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(rows(app, "SELECT count(*) FROM hits WHERE alert_id = '3000.1'")).isEqualTo(1);

            try (FakeAnalysisd analysisd = new FakeAnalysisd(socket)) {
                List<String> messages = analysisd.await(1, 20_000);
                assertThat(messages).isNotEmpty().allSatisfy(m -> assertThat(m).contains("\"alert_id\":\"3000.1\""));
                // read again, but stored once
                assertThat(rows(app, "SELECT count(*) FROM hits WHERE alert_id = '3000.1'")).isEqualTo(1);
            }
        }
    }
}
