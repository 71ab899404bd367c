package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispAttribute;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
        Map<String, MispAttribute> held = new HashMap<>();
        held.put("b", block);
        FeedSource index = MirrorIndex.index("mirror", held);
        MirrorIndex.View view = new MirrorIndex.View(index, null, Set.of(), 1);

        assertThat(view.matches(List.of(ip("91.92.240.200")))).containsKey(ip("91.92.240.200"));
        assertThat(view.matches(List.of(ip("91.92.241.1")))).isEmpty();
    }
}
