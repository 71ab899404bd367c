package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.Warninglists;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static io.github.mispcorrelator.misp.mirror.MispMirrorTest.attribute;
import static io.github.mispcorrelator.misp.mirror.MispMirrorTest.ip;
import static org.assertj.core.api.Assertions.assertThat;

/** The compact mirror: the uuid table against a HashMap, and hits checked against the stored value. */
class CompactMirrorTest {
    private static final MispSettings LAX = new MispSettings("http://m", null, false, Duration.ofSeconds(1), false, false);

    @Test
    void theUuidTableAgreesWithAMapThroughPutsRemovalsAndReuse() {
        HeldAttributes held = new HeldAttributes();
        Map<String, MispAttribute> expected = new HashMap<>();
        Random random = new Random(7);
        List<String> uuids = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            // mostly canonical, some as MISP never writes them but a feed might
            uuids.add(i % 10 == 0 ? "odd-" + i : i % 10 == 1 ? new UUID(i, i).toString().toUpperCase() : new UUID(random.nextLong(), i).toString());
        }
        for (int round = 0; round < 40_000; round++) {
            String uuid = uuids.get(random.nextInt(uuids.size()));
            if (random.nextInt(3) == 0) {
                int slot = held.remove(uuid);
                assertThat(slot >= 0).as("removed %s", uuid).isEqualTo(expected.remove(uuid) != null);
            } else {
                MispAttribute a = attribute(uuid, "81.2." + random.nextInt(4) + "." + random.nextInt(256), "i");
                int slot = held.put(a);
                expected.put(uuid, a);
                assertThat(held.uuid(slot)).isEqualTo(uuid);
            }
        }
        assertThat(held.size()).isEqualTo(expected.size());
        assertThat(held.uuids()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        assertThat(held.highWater()).as("freed slots are used again").isLessThanOrEqualTo(uuids.size());
        for (String uuid : uuids) {
            MispAttribute a = expected.get(uuid);
            assertThat(held.holds(uuid)).isEqualTo(a != null);
            if (a != null) {
                assertThat(held.unchanged(a)).isTrue();
                assertThat(held.unchanged(attribute(uuid, a.value(), "another event info"))).isFalse();
            }
        }
        assertThat(held.holds("not held")).isFalse();
    }

    @Test
    void theFingerprintSeesEveryField() {
        MispAttribute a = attribute("u", "81.2.69.1", "i");
        MispAttribute[] others = {
                new MispAttribute("2", a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(), a.type(), a.category(), a.value(), a.toIds(), a.threatLevel(), a.tags(), a.timestamp(), a.instance()),
                new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(), a.type(), "Payload delivery", a.value(), a.toIds(), a.threatLevel(), a.tags(), a.timestamp(), a.instance()),
                new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(), a.type(), a.category(), a.value(), false, a.threatLevel(), a.tags(), a.timestamp(), a.instance()),
                new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(), a.type(), a.category(), a.value(), a.toIds(), 3, a.tags(), a.timestamp(), a.instance()),
                new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(), a.type(), a.category(), a.value(), a.toIds(), a.threatLevel(), List.of("tlp:green", "x"), a.timestamp(), a.instance()),
                new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(), a.type(), a.category(), a.value(), a.toIds(), a.threatLevel(), a.tags(), a.timestamp() + 1, a.instance()),
        };
        for (MispAttribute other : others) {
            assertThat(Digests.fingerprint(other)).as("%s", other).isNotEqualTo(Digests.fingerprint(a));
        }
        assertThat(Digests.fingerprint(attribute("u", "81.2.69.1", "i"))).isEqualTo(Digests.fingerprint(a));
    }

    @Test
    void aCandidateIsAHitOnlyWhenItsStoredValueMatches() {
        Indicator asked = ip("81.2.69.1");
        Map<Indicator, Set<String>> candidates = new LinkedHashMap<>();
        // as a digest collision (or a value changed since the view was built) gives: uuids whose value is another
        candidates.put(asked, Set.of("same", "other", "gone"));
        Map<String, MispAttribute> read = Map.of(
                "same", attribute("same", "81.2.69.1", "i"),
                "other", attribute("other", "81.2.69.77", "i"));
        Map<Indicator, List<MispAttribute>> answer = MirrorIndex.answer(candidates, read, LAX, Warninglists.NONE, Instant.now());
        assertThat(answer.get(asked)).extracting(MispAttribute::uuid).containsExactly("same");

        candidates.put(asked, Set.of("other"));
        assertThat(MirrorIndex.answer(candidates, read, LAX, Warninglists.NONE, Instant.now())).isEmpty();
        // the key's type matters too: a domain indicator with the same text is no match for an ip-dst attribute
        assertThat(MirrorIndex.matches(new Indicator(IndicatorType.DOMAIN, "81.2.69.1", "f", "r"), read.get("same"))).isFalse();
    }

    @Test
    void aCompositeAttributeIsFoundThroughEachOfItsHalves() {
        MirrorIndex index = new MirrorIndex("m", () -> { });
        MispAttribute both = new MispAttribute("1", "c", "7", "e", "i", "domain|ip", "Network activity",
                "evil.example|81.2.69.5", true, 2, List.of(), 0, "m");
        index.put(List.of(both));
        MirrorIndex.View view = index.next(true);
        Indicator domain = new Indicator(IndicatorType.DOMAIN, "evil.example", "f", "r");
        assertThat(view.candidates(List.of(domain, ip("81.2.69.5"))))
                .containsEntry(domain, Set.of("c")).containsEntry(ip("81.2.69.5"), Set.of("c"));
        assertThat(MirrorIndex.matches(domain, both)).isTrue();
        assertThat(MirrorIndex.matches(ip("81.2.69.5"), both)).isTrue();
    }
}
