package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.support.Fixtures;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every restSearch body the client can build, checked against MISP's own API description: MISP's OpenAPI spec where
 * present (../shared/data), the project's summary of it otherwise. Known errors of the spec are allowed for:
 * {@code value} and {@code type} take lists, and {@code value} the {@code {"OR": [...]}} form
 * (app/Model/AppModel.php:3596-3630); {@code includeAllTags} and {@code order}, missing from the spec's attribute
 * filter, are read by MispAttribute::restSearch (app/Model/MispAttribute.php:3227, 3273-3281).
 */
class RestSearchContractTest {
    static final Set<String> LIST_ALLOWED = Set.of("value", "type");
    static final Map<String, String> SPEC_OMITS = Map.of("includeAllTags", "boolean", "order", "string");

    /** The fullest body: one indicator of every type, every filter on. */
    static JsonObject fullestBody() {
        List<Indicator> all = java.util.Arrays.stream(IndicatorType.values())
                .map(t -> new Indicator(t, "v-" + t.id(), "f", "r")).toList();
        return RestSearchRequest.body(all, new MispSettings("http://m", "k", true, Duration.ofSeconds(1), true, true, true,
                new AttributeFilter(Set.of("tlp:green"), Set.of("tlp:red"), Duration.ofDays(30), Map.of())));
    }

    static void check(JsonObject body, Map<String, String> types, Set<String> mispTypes) {
        for (String key : body.fieldNames()) {
            assertThat(types).as("restSearch has no parameter '%s'", key).containsKey(key);
            Object v = body.getValue(key);
            String declared = types.get(key);
            if (v instanceof JsonObject or && key.equals("value")) {
                assertThat(or.fieldNames()).as(key).containsExactly("OR");
                assertThat(or.getJsonArray("OR")).as(key).allSatisfy(e -> assertThat(e).isInstanceOf(String.class));
                continue;
            }
            if (v instanceof JsonArray list && LIST_ALLOWED.contains(key)) {
                assertThat(list).as(key).allSatisfy(e -> assertThat(e).isInstanceOf(String.class));
                continue;
            }
            switch (declared) {
                case "boolean" -> assertThat(v).as(key).isInstanceOf(Boolean.class);
                case "integer" -> assertThat(v).as(key).isInstanceOf(Integer.class);
                case "array" -> assertThat(v).as(key).isInstanceOf(JsonArray.class);
                case "string" -> assertThat(v).as(key).isInstanceOf(String.class);
                default -> { }
            }
        }
        assertThat(body.getJsonArray("type").getList()).as("MISP attribute types").allSatisfy(t -> assertThat(mispTypes).contains((String) t));
    }

    @Test
    void bodiesMatchTheProjectsSummaryOfTheSpec() throws Exception {
        JsonNode schema = Json.MAPPER.readTree(Fixtures.bytes("misp/restsearch-filter-schema.json"));
        Map<String, String> types = new HashMap<>();
        schema.get("properties").fields().forEachRemaining(e -> types.put(e.getKey(), e.getValue().asText()));
        Set<String> mispTypes = new HashSet<>();
        schema.get("attribute_types").forEach(t -> mispTypes.add(t.asText()));
        check(fullestBody(), types, mispTypes);
    }

    @Test
    void bodiesMatchMispsOwnOpenApiSpec() throws Exception {
        Path spec = Fixtures.sharedData("misp/openapi.yaml");
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(spec.toFile());
        JsonNode schemas = root.path("components").path("schemas");
        JsonNode props = schemas.path("AttributeRestSearchFilter").path("properties");
        Map<String, String> types = new HashMap<>();
        props.fields().forEachRemaining(e -> types.put(e.getKey(), typeOf(e.getValue(), schemas)));
        SPEC_OMITS.forEach(types::putIfAbsent);
        Set<String> mispTypes = new HashSet<>();
        schemas.path("AttributeType").path("enum").forEach(t -> mispTypes.add(t.asText()));
        assertThat(types).containsKeys("value", "type", "to_ids", "published", "includeContext", "includeEventTags", "tags");
        assertThat(mispTypes).contains("ip-dst|port", "filename|sha256");
        check(fullestBody(), types, mispTypes);
    }

    private static String typeOf(JsonNode node, JsonNode schemas) {
        JsonNode n = node;
        for (int i = 0; i < 5 && n.has("$ref"); i++) {
            String ref = n.get("$ref").asText();
            n = schemas.path(ref.substring(ref.lastIndexOf('/') + 1));
        }
        if (n.has("type")) {
            return n.get("type").asText();
        }
        return n.has("oneOf") || n.has("anyOf") ? "any" : "any";
    }
}
