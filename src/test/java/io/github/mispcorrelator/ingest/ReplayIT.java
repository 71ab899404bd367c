package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.support.FakeAnalysisd;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.TestDatabase;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code replay}: a retro-hunt over archived alerts, stored as retro-hunt hits, idempotent, optionally sent. */
class ReplayIT {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int replay(Map<String, String> env, String... args) {
        Map<String, String> all = new HashMap<>(TestDatabase.env());
        all.put("CORRELATOR_DRL_WATCH", "false");
        all.putAll(env);
        int status = new ReplayCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false).run(List.of(args), CorrelatorConfig.load(null, all));
        if (status != 0) {
            System.err.println("replay " + List.of(args) + " exited " + status + ": " + err.toString(StandardCharsets.UTF_8));
        }
        return status;
    }

    static long rows(String sql) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String sample(String name, String id) throws Exception {
        return Files.readString(Path.of("config/samples", name)).strip()
                .replaceFirst("\"id\":\"[0-9]+\\.[0-9]+\"", "\"id\":\"" + id + "\"");
    }

    @Test
    void aGzippedArchiveIsReHuntedOnceWithASummary() throws Exception {
        Path archive = Fixtures.workDir("replay").resolve("ossec-alerts-13.json.gz");
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(archive))) {
            gz.write((sample("sysmon-eid1-eicar.json", "7000.1") + "\n{not json\n" + sample("sysmon-eid3-c2.json", "7000.2") + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        }

        assertThat(replay(Map.of(), archive.toString())).isZero();

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("alerts read      2").contains("bad lines        1").contains("hits             4")
                .contains("sha256         2").contains("md5            1").contains("ip             1").contains("done: 2 alerts");
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("ossec-alerts-13.json.gz:2");
        assertThat(rows("SELECT count(*) FROM hits WHERE alert_id IN ('7000.1','7000.2') AND origin = 'retro-hunt'")).isEqualTo(4);

        out.reset();
        assertThat(replay(Map.of(), archive.toString())).isZero();
        assertThat(rows("SELECT count(*) FROM hits WHERE alert_id IN ('7000.1','7000.2')")).isEqualTo(4);
    }

    @Test
    void withSendTheEventsGoToAnalysisd() throws Exception {
        Path work = Fixtures.workDir("replay-send");
        Path archive = work.resolve("alerts.json");
        Files.writeString(archive, sample("sysmon-eid22-c2.json", "7100.1") + "\n");
        try (FakeAnalysisd analysisd = new FakeAnalysisd(work.resolve("queue/sockets/queue"))) {
            assertThat(replay(Map.of(), "--send", "--socket", analysisd.path().toString(), archive.toString())).isZero();
            assertThat(analysisd.await(2, 10_000)).hasSize(2).allSatisfy(m -> assertThat(m).startsWith("1:[003] (WS-FIN-0042) "));
        }
    }

    @Test
    void badUsageAndUnreadableFiles() {
        assertThat(replay(Map.of())).isEqualTo(2);
        assertThat(replay(Map.of(), "/nonexistent/alerts.json")).isEqualTo(1);
        assertThat(replay(Map.of(), "--concurrency", "0", "x")).isEqualTo(2);
    }

    @Test
    void theReferenceCorpusReplaysWithItsThreeBrokenLinesReported() throws Exception {
        Path corpus = Fixtures.sharedData("wazuh/corpus/hidc2025-alerts.json");
        assertThat(replay(Map.of(), corpus.toString())).isZero();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("bad lines        3").contains("failed alerts    0");
        assertThat(text).containsPattern("alerts read +11[0-9]{2}");
    }
}
