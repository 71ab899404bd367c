package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.AttributeFilter;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
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

/** The mirror's pull bodies against MISP's API description, its string sharing, and its two-part index. */
class MispMirrorTest {

    static MispAttribute attribute(String uuid, String value, String eventInfo) {
        return new MispAttribute("1", uuid, "7", new String("e7"), new String(eventInfo), new String("ip-dst"),
                new String("Network activity"), value, true, 2, List.of(new String("tlp:green")), 1_700_000_000L,
                new String("https://misp.example.org"));
    }

    static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "f", "r");
    }

    @Test
    void pullBodiesMatchMispsOwnOpenApiSpec() throws Exception {
        Path spec = Fixtures.sharedData("misp/openapi.yaml");
        JsonNode schemas = new ObjectMapper(new YAMLFactory()).readTree(spec.toFile()).path("components").path("schemas");
        JsonNode props = schemas.path("AttributeRestSearchFilter").path("properties");
        Set<String> mispTypes = new HashSet<>();
        schemas.path("AttributeType").path("enum").forEach(t -> mispTypes.add(t.asText()));

        JsonObject base = MirrorSync.pullBody(new MispSettings("http://m", "k", true, Duration.ofSeconds(1), true, true,
                true, AttributeFilter.NONE)).put("page", 1).put("limit", 5000);
        JsonObject incremental = MirrorSync.incrementalBody(new MispSettings("http://m", "k", true, Duration.ofSeconds(1),
                true, true, true, AttributeFilter.NONE)).put("page", 1).put("limit", 5000);
        List<JsonObject> bodies = List.of(base,
                incremental.copy().put("timestamp", "1756800000"),
                incremental.copy().put("event_timestamp", "1756800000"),
                incremental.copy().put("publish_timestamp", "1756800000"),
                base.copy().put("uuid", new JsonArray().add("5f1c2a3e-0000-4000-8000-000000000001")));
        for (JsonObject body : bodies) {
            for (String key : body.fieldNames()) {
                if (Set.of("includeAllTags", "order").contains(key)) {
                    // missing from the spec's attribute filter, read by MispAttribute::restSearch
                    // (app/Model/MispAttribute.php:3227, 3273-3281)
                    continue;
                }
                assertThat(props.has(key)).as("restSearch has no parameter '%s'", key).isTrue();
                String declared = typeOf(props.get(key), schemas);
                Object v = body.getValue(key);
                if (v instanceof JsonArray list && Set.of("type", "uuid").contains(key)) {
                    // a known error of the spec: these take lists too
                    assertThat(list).allSatisfy(e -> assertThat(e).isInstanceOf(String.class));
                    continue;
                }
                if (v instanceof JsonArray list && key.equals("deleted")) {
                    // [0, 1]: both (Event.php:2819-2836 set_filter_deleted over AppModel.php:3596-3630)
                    assertThat(list.getList()).containsExactly(0, 1);
                    continue;
                }
                switch (declared) {
                    case "boolean" -> assertThat(v).as(key).isInstanceOf(Boolean.class);
                    case "integer" -> assertThat(v).as(key).isInstanceOf(Integer.class);
                    case "string" -> assertThat(v).as(key).isInstanceOf(String.class);
                    default -> { }
                }
            }
            assertThat(body.containsKey("value")).isFalse();
        }
        assertThat(base.getJsonArray("type").getList()).allSatisfy(t -> assertThat(mispTypes).contains((String) t));
        assertThat(base.getBoolean("to_ids")).isTrue();
        assertThat(base.getBoolean("published")).isTrue();
        assertThat(base.getBoolean("enforceWarninglist")).isTrue();
        assertThat(base.getString("order")).isEqualTo("Attribute.id ASC");
        assertThat(base.getBoolean("includeAllTags")).isTrue();
        // incremental passes see rows that stopped qualifying, to evict them
        assertThat(incremental.containsKey("to_ids")).isFalse();
        assertThat(incremental.containsKey("published")).isFalse();
        assertThat(incremental.getBoolean("enforceWarninglist")).isTrue();
    }

    private static String typeOf(JsonNode node, JsonNode schemas) {
        JsonNode n = node;
        for (int i = 0; i < 5 && n.has("$ref"); i++) {
            String ref = n.get("$ref").asText();
            n = schemas.path(ref.substring(ref.lastIndexOf('/') + 1));
        }
        return n.has("type") ? n.get("type").asText() : "any";
    }

    @Test
    void pullBodiesAskForWhatTheSettingsSay() {
        JsonObject all = MirrorSync.pullBody(new MispSettings("http://m", null, true, Duration.ofSeconds(1), false, false));
        assertThat(all.containsKey("to_ids")).isFalse();
        assertThat(all.containsKey("published")).isFalse();
        assertThat(all.containsKey("enforceWarninglist")).isFalse();
        assertThat(all.getBoolean("includeContext")).isTrue();
        assertThat(all.getBoolean("includeEventTags")).isTrue();
        for (IndicatorType t : IndicatorType.values()) {
            assertThat(all.getJsonArray("type").getList()).containsAll(t.mispTypes());
        }
    }

    @Test
    void attributesOfOneEventShareTheirStrings() {
        Map<Object, Object> pool = new HashMap<>();
        MispAttribute a = MirrorIndex.compact(attribute("u1", "81.2.69.1", "event info"), pool);
        MispAttribute b = MirrorIndex.compact(attribute("u2", "81.2.69.2", "event info"), pool);
        assertThat(b.eventInfo()).isSameAs(a.eventInfo());
        assertThat(b.eventUuid()).isSameAs(a.eventUuid());
        assertThat(b.type()).isSameAs(a.type());
        assertThat(b.tags()).isSameAs(a.tags());
        assertThat(b.instance()).isSameAs(a.instance());
        assertThat(b).isEqualTo(attribute("u2", "81.2.69.2", "event info"));
        assertThat(MirrorIndex.compact(b, pool)).as("already shared: the same object").isSameAs(b);
    }

    /** The uuids a view gives each indicator as candidates, to be read and checked. */
    static Map<Indicator, Set<String>> candidates(MirrorIndex.View view, Indicator... indicators) {
        return view.candidates(List.of(indicators));
    }

    @Test
    void changesIndexedApartReplaceTheirOldVersions() {
        MirrorIndex index = new MirrorIndex("m", () -> { });
        index.put(List.of(attribute("u1", "81.2.69.1", "i"), attribute("u2", "81.2.69.2", "i")));
        index.publish(index.next(true), "misp");
        index.put(List.of(attribute("u1", "81.2.69.9", "i"), attribute("u3", "81.2.69.2", "i")));
        MirrorIndex.View view = index.next(false);
        assertThat(view.delta()).isNotNull();
        assertThat(view.attributes()).isEqualTo(3);

        Map<Indicator, Set<String>> found = candidates(view, ip("81.2.69.1"), ip("81.2.69.2"), ip("81.2.69.9"));
        assertThat(found).doesNotContainKey(ip("81.2.69.1"));
        assertThat(found.get(ip("81.2.69.2"))).containsExactly("u2", "u3");
        assertThat(found.get(ip("81.2.69.9"))).containsExactly("u1");
    }

    @Test
    void smallChangesAreIndexedApartButAReloadRebuildsTheBase() {
        MirrorIndex index = new MirrorIndex("m", () -> { });
        index.put(List.of(attribute("u1", "81.2.69.1", "i"), attribute("u2", "81.2.69.2", "i")));
        index.publish(index.next(false), "postgresql");
        assertThat(index.loaded()).isTrue();
        assertThat(index.next(false)).as("nothing new to show").isNull();

        index.put(List.of(attribute("u3", "81.2.69.3", "i")));
        index.remove(List.of("u1"));
        MirrorIndex.View delta = index.next(false);
        assertThat(delta.delta()).as("two changes: indexed apart").isNotNull();
        index.publish(delta, "postgresql");
        assertThat(candidates(delta, ip("81.2.69.1"))).isEmpty();
        assertThat(candidates(delta, ip("81.2.69.3"))).containsEntry(ip("81.2.69.3"), Set.of("u3"));

        // a follower's reload replaces everything: the old base must not show through a delta
        index.replace(List.of(attribute("u9", "81.2.69.9", "i")));
        MirrorIndex.View rebuilt = index.next(false);
        assertThat(rebuilt.delta()).isNull();
        assertThat(rebuilt.attributes()).isEqualTo(1);
        assertThat(candidates(rebuilt, ip("81.2.69.2"))).isEmpty();
        assertThat(candidates(rebuilt, ip("81.2.69.9"))).containsEntry(ip("81.2.69.9"), Set.of("u9"));
        assertThat(candidates(delta, ip("81.2.69.3"))).as("the view published before reads its own arrays still")
                .containsEntry(ip("81.2.69.3"), Set.of("u3"));
    }
}
