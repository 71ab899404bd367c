package io.github.mispcorrelator.coverage;

import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.support.DefaultRules;
import io.github.mispcorrelator.support.Fixtures;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The blind-spot report: what no rule read, per family, and the command over plain and .gz files. */
class CoverageReportTest {
    /** A family the shipped rules know (FortiGate), one they do not, and one of the correlator's own events. */
    private static final List<String> ALERTS = List.of(
            "{\"rule\":{\"groups\":[\"fortigate\",\"syslog\"]},\"decoder\":{\"name\":\"fortigate-firewall-v6\"},\"data\":{\"srcip\":\"10.1.1.1\",\"dstip\":\"81.2.69.142\",\"transip\":\"175.16.199.9\"}}",
            "{\"rule\":{\"groups\":[\"fortigate\",\"syslog\"]},\"decoder\":{\"name\":\"fortigate-firewall-v6\"},\"data\":{\"srcip\":\"10.1.1.1\",\"dstip\":\"81.2.69.143\",\"transip\":\"175.16.199.9\"}}",
            "{\"rule\":{\"groups\":[\"acme\"]},\"decoder\":{\"name\":\"acme-edr\"},\"agent\":{\"ip\":\"81.2.69.1\"},\"data\":{\"peer\":\"216.160.83.7\",\"image_digest\":\"" + "ab".repeat(32) + "\",\"file\":\"svchost.exe\",\"note\":\"see https://evil.example/x\"}}",
            "{\"rule\":{\"groups\":[\"misp\",\"misp_alert\"]},\"decoder\":{\"name\":\"json\"},\"data\":{\"integration\":\"misp\",\"misp\":{\"value\":\"81.2.69.142\"}}}");

    private static JsonObject family(JsonObject report, String prefix) {
        return report.getJsonArray("families").stream().map(JsonObject.class::cast)
                .filter(f -> f.getString("family").startsWith(prefix)).findFirst().orElseThrow();
    }

    @Test
    void countsPerFamilyWhatNoRuleRead() {
        CoverageReport report = new CoverageReport();
        ALERTS.forEach(a -> report.add(AlertParser.parse(a), DefaultRules.get()));

        JsonObject json = report.toJson();
        assertThat(json.getLong("alerts")).isEqualTo(4);
        JsonObject forti = json.getJsonArray("families").getJsonObject(0);
        assertThat(forti.getString("family")).isEqualTo("fortigate-firewall-v6 · fortigate");
        assertThat(forti.getLong("alerts")).isEqualTo(2);
        assertThat(forti.getLong("with_indicators")).isEqualTo(2);
        // the NAT address is the device's own: not read, and reported as such
        assertThat(forti.getJsonArray("unextracted")).singleElement().satisfies(f -> {
            JsonObject o = (JsonObject) f;
            assertThat(o.getString("field")).isEqualTo("data.transip");
            assertThat(o.getLong("count")).isEqualTo(2);
            assertThat(o.getString("example")).isEqualTo("175.16.199.9");
        });
        JsonObject acme = family(json, "acme-edr");
        assertThat(acme.getLong("with_indicators")).isZero();
        assertThat(acme.getJsonArray("unextracted").stream()
                .map(o -> ((JsonObject) o).getString("field") + " " + ((JsonObject) o).getString("shape")))
                .as("the agent's own address, a file name and free text are not blind spots")
                .containsExactlyInAnyOrder("data.peer ip", "data.image_digest hash");
        JsonObject own = family(json, "json · misp");
        assertThat(own.getLong("own_events")).isEqualTo(1);
        assertThat(own.getJsonArray("unextracted")).isEmpty();
        assertThat(report.toText()).contains("data.transip").contains("4 alerts");
    }

    @Test
    void memoryStaysBoundedWhateverTheInput() {
        CoverageReport report = new CoverageReport();
        for (int i = 0; i < CoverageReport.MAX_FAMILIES + 50; i++) {
            report.add(AlertParser.parse("{\"rule\":{\"groups\":[\"g" + i + "\"]},\"decoder\":{\"name\":\"d\"},\"data\":{\"peer\":\"216.160.83." + (i % 200) + "\"}}"),
                    DefaultRules.get());
        }
        var families = report.toJson().getJsonArray("families");
        assertThat(families).hasSize(CoverageReport.MAX_FAMILIES + 1);
        assertThat(families.stream().map(f -> ((JsonObject) f).getString("family"))).contains(CoverageReport.OTHER);
    }

    @Test
    void theCommandReadsGzipAndSkipsBadLines() throws Exception {
        Path dir = Fixtures.workDir("coverage-command");
        Path file = dir.resolve("alerts.json.gz");
        try (var out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write((String.join("\n", ALERTS) + "\n{not json\n").getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new CoverageCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false).run(List.of("--json", file.toString()));

        assertThat(status).isZero();
        assertThat(new JsonObject(out.toString(StandardCharsets.UTF_8)).getLong("alerts")).isEqualTo(4);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains(":5").contains("1 line(s)");
        assertThat(new CoverageCommand(System.out, System.err, false).run(List.of())).isEqualTo(2);
    }

    @Test
    void recentAlertsKeepOnlyTheLastN() {
        RecentAlerts recent = new RecentAlerts(3);
        for (int i = 0; i < 5; i++) {
            recent.add(AlertParser.parse("{\"id\":\"" + i + "\",\"rule\":{\"groups\":[\"x\"]}}"));
        }
        assertThat(recent.snapshot()).extracting(a -> a.getId()).containsExactly("2", "3", "4");
        assertThat(recent.report(DefaultRules.get()).alerts()).isEqualTo(3);
    }
}
