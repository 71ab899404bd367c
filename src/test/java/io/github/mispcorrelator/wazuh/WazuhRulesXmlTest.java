package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.support.Fixtures;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped Wazuh rules read only fields the service really emits, with ids in the custom range. */
class WazuhRulesXmlTest {
    private static final Pattern FIELD_REF = Pattern.compile("\\$\\(([^)]+)\\)");

    static List<Path> ruleFiles() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("rules"))) {
            return s.filter(p -> p.toString().endsWith(".xml")).sorted().toList();
        }
    }

    /** Wazuh rule files have several top-level elements; wrap them to parse as XML. */
    static Document parse(Path file) throws Exception {
        String wrapped = "<root>" + Files.readString(file) + "</root>";
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(wrapped.getBytes(StandardCharsets.UTF_8)));
    }

    static Set<String> emittedFields() {
        Alert alert = Fixtures.alert("sysmon-eid3-ipv4.json");
        Indicator ip = new Indicator(IndicatorType.IP, "81.2.69.142", "data.win.eventdata.destinationIp", "r");
        Hit hit = new Hit(alert, ip, new MispAttribute("7", "au", "25", "eu", "info", "ip-dst", "Network activity",
                "81.2.69.142", true, 2, List.of("tlp:green"), 0, "m"));
        Set<String> fields = new HashSet<>();
        flatten("", WazuhEvents.hit(alert, hit, "v"), fields);
        flatten("", WazuhEvents.error(alert, ip, "e", "v"), fields);
        return fields;
    }

    private static void flatten(String prefix, JsonObject o, Set<String> out) {
        for (Map.Entry<String, Object> e : o) {
            String key = prefix + e.getKey();
            out.add(key);
            if (e.getValue() instanceof JsonObject child) {
                flatten(key + ".", child, out);
            }
        }
    }

    @Test
    void rulesAreWellFormedWithUniqueIdsInTheCustomRange() throws Exception {
        Set<Integer> ids = new HashSet<>();
        for (Path f : ruleFiles()) {
            NodeList rules = parse(f).getElementsByTagName("rule");
            assertThat(rules.getLength()).as(f.toString()).isPositive();
            for (int i = 0; i < rules.getLength(); i++) {
                int id = Integer.parseInt(((Element) rules.item(i)).getAttribute("id"));
                assertThat(id).isBetween(100000, 120000);
                assertThat(ids.add(id)).as("duplicate rule id " + id).isTrue();
                int level = Integer.parseInt(((Element) rules.item(i)).getAttribute("level"));
                assertThat(level).isBetween(0, 16);
            }
        }
        assertThat(ids).contains(100620, 100621, 100622);
    }

    @Test
    void everyFieldARuleReadsIsOneTheServiceEmits() throws Exception {
        Set<String> emitted = emittedFields();
        for (Path f : ruleFiles()) {
            Document doc = parse(f);
            NodeList fields = doc.getElementsByTagName("field");
            for (int i = 0; i < fields.getLength(); i++) {
                assertThat(emitted).as(f + " <field>").contains(((Element) fields.item(i)).getAttribute("name"));
            }
            Matcher m = FIELD_REF.matcher(Files.readString(f));
            while (m.find()) {
                assertThat(emitted).as(f + " $(...)").contains(m.group(1));
            }
        }
    }

    @Test
    void ifSidReferencesExist() throws Exception {
        Set<String> ids = new HashSet<>();
        Set<String> parents = new HashSet<>();
        for (Path f : ruleFiles()) {
            Document doc = parse(f);
            NodeList rules = doc.getElementsByTagName("rule");
            for (int i = 0; i < rules.getLength(); i++) {
                ids.add(((Element) rules.item(i)).getAttribute("id"));
            }
            NodeList ifs = doc.getElementsByTagName("if_sid");
            for (int i = 0; i < ifs.getLength(); i++) {
                parents.add(ifs.item(i).getTextContent().strip());
            }
        }
        assertThat(ids).containsAll(parents);
    }

    @Test
    void theBaseRuleTakesOnlyJsonEventsOfExactlyTheMispIntegration() throws Exception {
        // as Wazuh's own VirusTotal base rule 87100 (ruleset/rules/0490-virustotal_rules.xml): decoded_as json,
        // and a field match (a regex) anchored so that e.g. "misp-legacy" or "not-misp" does not match
        NodeList rules = parse(Path.of("rules/misp_correlator_rules.xml")).getElementsByTagName("rule");
        Element base = null;
        for (int i = 0; i < rules.getLength(); i++) {
            if (((Element) rules.item(i)).getAttribute("id").equals("100620")) {
                base = (Element) rules.item(i);
            }
        }
        assertThat(base).isNotNull();
        assertThat(base.getElementsByTagName("decoded_as").item(0).getTextContent()).isEqualTo("json");
        Element field = (Element) base.getElementsByTagName("field").item(0);
        assertThat(field.getAttribute("name")).isEqualTo("integration");
        assertThat(field.getTextContent()).isEqualTo("^misp$");
    }
}
