package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
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
        java.time.Instant t = java.time.Instant.parse("2026-01-01T00:00:00Z");
        Hit past = new Hit(alert, ip, hit.attribute()).pastSighting(new Hit.PastSighting(t, t, 3, "a1", "a2", 2, 5, t));
        flatten("", WazuhEvents.hit(alert, past, "v"), fields);
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

    /**
     * analysisd tries a rule's children from the highest level down (wazuh src/analysisd/rules_list.c, _OS_AddRule
     * inserts a child before the first of lower level): the look-back rule must outrank 100621/100622 to take the
     * retrospective events, and it must read the field only look-back events carry.
     */
    @Test
    void theLookBackRuleIsTriedBeforeTheLiveOnesAndReadsTheOrigin() throws Exception {
        Map<String, Element> byId = new java.util.HashMap<>();
        for (Path f : ruleFiles()) {
            NodeList rules = parse(f).getElementsByTagName("rule");
            for (int i = 0; i < rules.getLength(); i++) {
                Element e = (Element) rules.item(i);
                byId.put(e.getAttribute("id"), e);
            }
        }
        Element lookBack = byId.get("100650");
        assertThat(lookBack).isNotNull();
        assertThat(lookBack.getElementsByTagName("if_sid").item(0).getTextContent().strip()).isEqualTo("100620");
        int level = Integer.parseInt(lookBack.getAttribute("level"));
        for (String sibling : List.of("100621", "100622")) {
            assertThat(byId.get(sibling).getElementsByTagName("if_sid").item(0).getTextContent().strip()).isEqualTo("100620");
            assertThat(level).as("100650 outranks " + sibling).isGreaterThan(Integer.parseInt(byId.get(sibling).getAttribute("level")));
        }
        Element field = (Element) lookBack.getElementsByTagName("field").item(0);
        assertThat(field.getAttribute("name")).isEqualTo("correlator.origin");
        assertThat(Pattern.compile(field.getTextContent()).matcher("look-back").find()).isTrue();
        // a live event has no origin field: 100650 cannot take it
        Alert alert = Fixtures.alert("sysmon-eid3-ipv4.json");
        Indicator ip = new Indicator(IndicatorType.IP, "81.2.69.142", "f", "r");
        Hit live = new Hit(alert, ip, new MispAttribute("7", "au", "25", "eu", "info", "ip-dst", "Network activity",
                "81.2.69.142", true, 2, List.of(), 0, "m"));
        assertThat(WazuhEvents.hit(alert, live, "v").getJsonObject("correlator").containsKey("origin")).isFalse();
        assertThat(lookBack.getElementsByTagName("description").item(0).getTextContent())
                .contains("past activity", "first seen", "last seen", "agents");
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
