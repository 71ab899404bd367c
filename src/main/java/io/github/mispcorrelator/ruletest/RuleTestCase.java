package io.github.mispcorrelator.ruletest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An alert to test rules on, optionally with the MISP attributes a lookup should find (so a case is self-contained
 * and needs no MISP) and the expected outcome. The file format of {@code drl/tests/*.json}:
 * <pre>
 * {"description": "...",
 *  "alert": { a Wazuh alert },
 *  "misp": [ restSearch attributes, with "Event": {"threat_level_id", "info", "uuid"} and "Tag" ],
 *  "expect": {"indicators": [{"type", "value", "field"?}], "hits": [{"value", "misp_type"?, "severity"?,
 *             "suppressed"?, "labels"?}]}}
 * </pre>
 * A request to {@code POST /v1/rules/test} may be the same object, or just the alert.
 */
public record RuleTestCase(String name, String description, Alert alert, Optional<FeedSource> misp,
                           Optional<JsonNode> expect) {

    /** The body of a rule-test request: a bare alert, or a case object with an {@code alert} member. */
    public static RuleTestCase fromRequest(byte[] body) {
        Alert parsed = AlertParser.parse(body);
        return fromNode("request", parsed.json(), parsed);
    }

    /** @throws InvalidAlertException naming the file when it is not a valid case */
    public static RuleTestCase fromFile(Path file) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidAlertException(file + ": not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidAlertException(file + ": expected a JSON object");
        }
        if (!root.path("alert").isObject()) {
            throw new InvalidAlertException(file + ": a test case needs an \"alert\" object");
        }
        return fromNode(file.getFileName().toString(), (ObjectNode) root, null);
    }

    private static RuleTestCase fromNode(String name, ObjectNode root, Alert bare) {
        JsonNode alertNode = root.path("alert");
        if (!alertNode.isObject()) {
            // not a case object: the body is the alert itself
            return new RuleTestCase(name, "", bare, Optional.empty(), Optional.empty());
        }
        Alert alert = AlertParser.parse(alertNode.toString());
        Optional<FeedSource> misp = Optional.empty();
        if (root.has("misp")) {
            JsonNode list = root.path("misp");
            if (!list.isArray()) {
                throw new InvalidAlertException(name + ": \"misp\" must be a list of MISP attributes");
            }
            ObjectNode wrapped = Json.MAPPER.createObjectNode();
            wrapped.putObject("response").set("Attribute", list);
            List<MispAttribute> attrs = MispJson.restSearchAttributes(wrapped, "test-case");
            misp = Optional.of(FeedSource.of("test-case:" + name, attrs));
        }
        Optional<JsonNode> expect = root.has("expect") ? Optional.of(root.get("expect")) : Optional.empty();
        return new RuleTestCase(name, root.path("description").asText(""), alert, misp, expect);
    }
}
