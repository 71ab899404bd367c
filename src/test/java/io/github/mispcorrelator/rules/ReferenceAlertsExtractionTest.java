package io.github.mispcorrelator.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.support.DefaultRules;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped DRL on real alerts and raw Sysmon events from {@code ../shared/data} (skipped when absent). The
 * expectation is read straight from each file's own fields, independently of the extraction code.
 */
class ReferenceAlertsExtractionTest {
    private static final Pattern PAIR = Pattern.compile("(MD5|SHA1|SHA256|IMPHASH)=([0-9A-Fa-f]+)");

    private static List<String> hashesIn(String list) {
        List<String> out = new ArrayList<>();
        Matcher m = PAIR.matcher(list);
        while (m.find()) {
            if (!m.group(2).matches("0+")) {
                out.add(m.group(1).toLowerCase(Locale.ROOT) + " " + m.group(2).toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    private static List<String> extract(Alert alert) {
        return DefaultRules.get().extract(alert).indicators().stream().map(i -> i.type().id() + " " + i.value()).toList();
    }

    private static List<Path> files(String dir) throws Exception {
        try (Stream<Path> s = Files.list(Fixtures.sharedData(dir))) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void realAndConstructedSysmonAlertsYieldEveryHash() throws Exception {
        List<Path> files = new ArrayList<>(files("wazuh/alerts"));
        files.addAll(files("wazuh/alerts-constructed"));
        int checked = 0;
        for (Path f : files) {
            Alert alert = AlertParser.parse(Files.readAllBytes(f));
            JsonNode ed = alert.json().path("data").path("win").path("eventdata");
            String list = ed.path("hashes").asText(ed.path("hash").asText(""));
            if (!list.isEmpty()) {
                assertThat(extract(alert)).as(f.getFileName().toString()).containsExactlyInAnyOrderElementsOf(hashesIn(list));
                checked++;
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(5);
    }

    @Test
    void realSyscheckAlertsYieldTheirAfterHashes() throws Exception {
        int checked = 0;
        for (Path f : files("wazuh/alerts")) {
            Alert alert = AlertParser.parse(Files.readAllBytes(f));
            JsonNode sc = alert.json().path("syscheck");
            if (sc.isMissingNode()) {
                continue;
            }
            List<String> want = new ArrayList<>();
            for (String t : List.of("md5", "sha1", "sha256")) {
                if (sc.hasNonNull(t + "_after")) {
                    want.add(t + " " + sc.get(t + "_after").asText().toLowerCase(Locale.ROOT));
                }
            }
            assertThat(extract(alert)).as(f.getFileName().toString()).containsExactlyInAnyOrderElementsOf(want);
            checked++;
        }
        assertThat(checked).isEqualTo(3);
    }

    @Test
    void theOldScriptsOwnOutputIsNotReExtracted() throws Exception {
        for (Path f : files("wazuh/alerts")) {
            if (f.getFileName().toString().startsWith("misp_output")) {
                assertThat(extract(AlertParser.parse(Files.readAllBytes(f)))).as(f.getFileName().toString()).isEmpty();
            }
        }
    }

    @Test
    void rawSysmonEventsFromWazuhsRulesetTestsWithTheStockGroups() throws Exception {
        for (Path f : files("wazuh/raw-events")) {
            JsonNode data = Json.MAPPER.readTree(f.toFile());
            int eid = data.path("win").path("system").path("eventID").asInt();
            ObjectNode alert = Json.MAPPER.createObjectNode();
            alert.putObject("rule").putArray("groups").add("sysmon").add("sysmon_eid" + eid + "_detections").add("windows");
            alert.set("data", data);
            List<String> got = extract(AlertParser.parse(alert.toString()));
            JsonNode ed = data.path("win").path("eventdata");
            String name = f.getFileName().toString();
            switch (eid) {
                case 1, 6, 7, 23 -> assertThat(got).as(name).containsExactlyInAnyOrderElementsOf(hashesIn(ed.path("hashes").asText()));
                case 15 -> assertThat(got).as(name).containsExactlyInAnyOrderElementsOf(hashesIn(ed.path("hash").asText()));
                case 22 -> assertThat(got).as(name).contains("domain " + ed.path("queryName").asText().toLowerCase(Locale.ROOT));
                // the sample connects to a private address: nothing worth asking MISP
                case 3 -> assertThat(got).as(name).isEmpty();
                default -> { }
            }
        }
    }
}
