package io.github.mispcorrelator.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An alert read lazily from its bytes ({@link AlertDocument}) answers every accessor exactly as the same alert built
 * from the whole Jackson tree did before issue 16, on real alerts and on the awkward corners of JSON; and text the
 * tree parser refused is refused alike, in the same words.
 */
class AlertDocumentTest {

    @Test
    void theTestAlertsReadAsTheirTrees() throws IOException {
        int alerts = 0;
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/alerts"))) {
            for (Path f : files.sorted().toList()) {
                byte[] body = Files.readAllBytes(f);
                if (Json.MAPPER.readTree(body).isObject()) {
                    assertSameAsTree(body);
                    alerts++;
                }
            }
        }
        assertThat(alerts).isGreaterThan(10);
    }

    @Test
    void theReferenceCorpusReadsAsItsTrees() throws IOException {
        Path corpus = Fixtures.sharedData("wazuh/corpus/hidc2025-alerts.json");
        List<String> lines = Files.readAllLines(corpus);
        int checked = 0;
        for (String line : lines) {
            // the corpus opens with a comment naming its source
            if (!line.isBlank() && !line.startsWith("//")) {
                // every path as spelled; other spellings on every 20th alert (the test stays under two seconds)
                assertSameAsTree(line.getBytes(StandardCharsets.UTF_8), checked++ % 20 == 0);
            }
        }
        assertThat(lines).hasSizeGreaterThan(1000);
    }

    @Test
    void awkwardValuesDecodeAsTheTreeDecodedThem() {
        String[] bodies = {
                "{\"id\":\"1\",\"data\":{\"path\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\",\"q\":\"say \\\"hi\\\"\\n\\t\\/x\","
                        + "\"u\":\"caf\\u00e9 \\ud83d\\ude00 \\u0000 end\",\"raw\":\"café ünïcödé 😀 中文\","
                        + "\"mixed\":\"a\\\\b é \\u0041\",\"empty\":\"\",\"blank\":\"  \",\"o\":{},\"a\":[],"
                        + "\"n\":[1.50,-0,0,-12,1e3,1E-2,12345678901234567890,123456789012345678,-9.0,2147483648],"
                        + "\"b\":[true,false,null],\"nested\":[[{\"DestinationIp\":\"10.0.0.1\"}]],\"skip\":{\"ip\":\"1.2.3.4\"},\"xip\":\"5.6.7.8\",\"deep\":{\"a\":{\"b\":{\"c\":{\"d\":\"e\"}}}}}}",
                "{\"id\":null,\"rule\":{\"level\":\"7\",\"groups\":\"a, b ,,c\"}}",
                "{\"id\":5,\"rule\":{\"level\":7.9,\"groups\":[\" WEF\",1,null,{},[],true,\"\\n      x\"]}}",
                "{\"id\":{},\"rule\":{\"level\":12345678901,\"groups\":{}}}",
                "{\"id\":\"  \",\"rule\":{\"level\":-3},\"data\":{\"integration\":\"misp\"}}",
                "{\"rule\":{\"level\":null},\"data\":{\"integration\":[\"misp\"]},\"timestamp\":\"2025-08-13T08:45:06.785+0000\"}",
                "{\"Data\":{\"Win\":{\"EventData\":{\"Hashes\":\"SHA256=AB\"}}},\"data\":{\"win\":{}}}",
                "  {\"k\" : \"v\" , \"d\" : { \"x\" : [ 1 , 2 ] } }  \n",
                "{}",
        };
        for (String body : bodies) {
            assertSameAsTree(body.getBytes(StandardCharsets.UTF_8));
        }
        Alert a = AlertParser.parse(bodies[0]);
        assertThat(a.field("data.path")).isEqualTo("C:\\Windows\\System32\\cmd.exe");
        assertThat(a.field("data.u")).isEqualTo("café \uD83D\uDE00 \u0000 end");
        assertThat(a.field("data.raw")).isEqualTo("café ünïcödé 😀 中文");
    }

    @Test
    void anAlertInsideABatchIsReadFromItsOwnBytes() {
        byte[] batch = "{\"id\":\"1\",\"a\":\"x\"}\n{\"id\":\"2\",\"a\":\"y\"}".getBytes(StandardCharsets.UTF_8);
        Alert second = AlertParser.parse(batch, 19, batch.length - 19);
        // the batch's buffer may be reused: the alert keeps what it read
        Arrays.fill(batch, (byte) ' ');
        assertThat(second.getId()).isEqualTo("2");
        assertThat(second.field("a")).isEqualTo("y");
        assertThat(second.json().toString()).isEqualTo("{\"id\":\"2\",\"a\":\"y\"}");
    }

    @Test
    void brokenTextIsRefusedInTheTreeParsersWords() {
        List<byte[]> bodies = new ArrayList<>();
        for (String s : List.of("{\"a\":1", "{\"a\":1}}", "{\"a\":1} {}", "{\"a\":1}x", "[1,2]", "\"text\"", "", "   ",
                "{\"a\":\"\\x\"}", "{\"a\":\"\t\"}", "{\"id\":\"1\",\"id\":\"2\"}", "{\"a\":01}", "{\"a\":tru}")) {
            bodies.add(s.getBytes(StandardCharsets.UTF_8));
        }
        // invalid UTF-8 in a value the pass skips, in a key it decodes, truncated and stray sequences
        for (int[] bad : new int[][]{{0xC3}, {0x80}, {0xFF}, {0xE2, 0x82}, {0xE2, 0x28, 0xA1}, {0xF0, 0x9F, 0x98},
                {0xF0, 0x28, 0x8C, 0xBC}, {0xC3, 0x28}, {0xFE}}) {
            bodies.add(concat("{\"id\":\"1\",\"data\":{\"x\":\"ab", bad, "cd\"}}"));
            bodies.add(concat("{\"id\":\"1\",\"data\":{\"x", bad, "\":\"cd\"}}"));
        }
        int nesting = 201;
        bodies.add(("{\"a\":" + "[".repeat(nesting) + "]".repeat(nesting) + "}").getBytes(StandardCharsets.UTF_8));
        for (byte[] body : bodies) {
            String expected = treeRefusal(body);
            String text = new String(body, StandardCharsets.ISO_8859_1);
            assertThat(expected).as(text).isNotNull();
            assertThatThrownBy(() -> AlertParser.parse(body)).as(text)
                    .isInstanceOf(InvalidAlertException.class).hasMessage(expected);
        }
    }

    /** What the whole-tree parse said about the text (its own code path, as every alert took before). */
    private static String treeRefusal(byte[] body) {
        try {
            JsonNode node = Json.MAPPER.readTree(body);
            if (node == null || node.isMissingNode()) {
                return "empty body: expected one Wazuh alert as a JSON object";
            }
            if (!node.isObject()) {
                return "expected one Wazuh alert as a JSON object, got " + (node.isArray() ? "an array" : "a string");
            }
            return null;
        } catch (JsonProcessingException e) {
            return "malformed JSON: " + Json.problem(e) + (e.getLocation() != null ? " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() : "");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] concat(String head, int[] middle, String tail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        for (int b : middle) {
            out.write(b);
        }
        out.writeBytes(tail.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** Every accessor, on every path of the alert (as spelled, in other cases, and missing), against the tree. */
    private static void assertSameAsTree(byte[] body) {
        assertSameAsTree(body, true);
    }

    private static void assertSameAsTree(byte[] body, boolean otherCases) {
        Alert lazy = AlertParser.parse(body);
        ObjectNode tree;
        try {
            tree = (ObjectNode) Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        String text = body.length > 200 ? new String(body, 0, 200, StandardCharsets.UTF_8) + "…"
                : new String(body, StandardCharsets.UTF_8);
        JsonNode treeId = tree.get("id");
        boolean hasId = treeId != null && treeId.isValueNode() && !treeId.asText().isBlank();
        Alert eager = new Alert(tree, hasId ? null : lazy.getId());
        assertThat(lazy.getId()).as(text).isEqualTo(eager.getId());
        assertThat(lazy.getGroups()).as(text).isEqualTo(eager.getGroups());
        assertThat(lazy.getRuleLevel()).as(text).isEqualTo(eager.getRuleLevel());
        assertThat(lazy.getSysmonEvent()).as(text).isEqualTo(eager.getSysmonEvent());
        assertThat(lazy.isCorrelatorEvent()).as(text).isEqualTo(eager.isCorrelatorEvent());
        assertThat(lazy.getEpochMilli()).as(text).isEqualTo(eager.getEpochMilli());
        assertThat(lazy.getDecoder()).as(text).isEqualTo(eager.getDecoder());
        assertThat(lazy.toString()).as(text).isEqualTo(eager.toString());
        for (String key : List.of("data", "rule", "agent", "id", "missing")) {
            assertThat(walked(lazy, key)).as(text + " " + key).isEqualTo(walked(eager, key));
        }
        List<String> paths = new ArrayList<>(List.of("nope", "data.nope", "rule.level.x", "id.x"));
        collect(tree, "", paths);
        for (String path : paths) {
            for (String p : otherCases ? List.of(path, path.toUpperCase(Locale.ROOT), path.toLowerCase(Locale.ROOT))
                    : List.of(path)) {
                // compared first, described only on a difference: the corpus has some 100,000 paths
                if (!lazy.get(p).equals(eager.get(p)) || lazy.has(p) != eager.has(p)
                        || !lazy.resolve(p).equals(eager.resolve(p))) {
                    String as = text + " @ " + p;
                    assertThat(lazy.get(p)).as(as).isEqualTo(eager.get(p));
                    assertThat(lazy.has(p)).as(as).isEqualTo(eager.has(p));
                    assertThat(lazy.resolve(p)).as(as).isEqualTo(eager.resolve(p));
                }
            }
        }
        // the stored document: the same tree, key order and all
        assertThat(lazy.json()).as(text).isEqualTo(tree);
        assertThat(lazy.json().toString()).as(text).isEqualTo(tree.toString());
    }

    /** What {@link Alert#walkFields} hands over: every scalar, but those under a name starting with "skip". */
    private static List<String> walked(Alert alert, String key) {
        List<String> out = new ArrayList<>();
        alert.walkFields(key, new Alert.FieldWalk() {
            @Override
            public boolean skip(StringBuilder path, int depth) {
                out.add("at " + path + " " + depth);
                return depth > 3 || path.toString().endsWith(".skip");
            }

            @Override
            public boolean wants(String name) {
                return !name.startsWith("x");
            }

            @Override
            public void scalar(String name, String text, String path) {
                out.add(name + "=" + text + " @ " + path);
            }
        });
        return out;
    }

    private static void collect(JsonNode node, String prefix, List<String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
                out.add(path);
                collect(e.getValue(), path, out);
            }
        }
    }
}
