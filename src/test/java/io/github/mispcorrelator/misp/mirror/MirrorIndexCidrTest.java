package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.MispAttribute;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** CIDR ip-src/ip-dst attributes in the mirror's index match every address inside them (moved from CidrMatchingTest). */
class MirrorIndexCidrTest {

    private static MispAttribute attr(String uuid, String type, String value) {
        return new MispAttribute("1", uuid, "1", "e", "i", type, "Network activity", value, true, 2, List.of(), 0, "t");
    }

    private static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "data.dstip", "r");
    }

    @Test
    void theMirrorKeepsAndMatchesBlocks() {
        MispAttribute block = attr("b", "ip-dst", "91.92.240.0/24");
        assertThat(AttributeMatcher.matchable(block)).as("a CIDR attribute is not dropped by the mirror's pull").isTrue();
        assertThat(AttributeMatcher.matchable(attr("x", "ip-dst", "not an address"))).isFalse();
        MirrorIndex index = new MirrorIndex("mirror", () -> { });
        index.put(List.of(block, attr("u2", "ip-dst", "10.1.0.0/16")));
        MirrorIndex.View view = index.next(true);

        assertThat(view.candidates(List.of(ip("91.92.240.200")))).containsEntry(ip("91.92.240.200"), Set.of("b"));
        assertThat(view.candidates(List.of(ip("91.92.241.1")))).isEmpty();
        assertThat(MirrorIndex.matches(ip("91.92.240.200"), block)).as("checked against the stored block").isTrue();
        assertThat(MirrorIndex.matches(ip("91.92.241.1"), block)).isFalse();

        // a block changed since the base was built: the delta answers for it
        index.publish(view, "misp");
        index.put(List.of(attr("b", "ip-dst", "91.92.241.0/24")));
        MirrorIndex.View changed = index.next(false);
        assertThat(changed.candidates(List.of(ip("91.92.240.200")))).isEmpty();
        assertThat(changed.candidates(List.of(ip("91.92.241.1")))).containsEntry(ip("91.92.241.1"), Set.of("b"));
        assertThat(changed.candidates(List.of(ip("10.1.2.3")))).containsEntry(ip("10.1.2.3"), Set.of("u2"));
    }
}
