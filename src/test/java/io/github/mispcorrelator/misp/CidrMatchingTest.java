package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** CIDR ip-src/ip-dst attributes match every address inside them, in the feed and in the mirror's index. */
class CidrMatchingTest {

    private static MispAttribute attr(String uuid, String type, String value) {
        return new MispAttribute("1", uuid, "1", "e", "i", type, "Network activity", value, true, 2, List.of(), 0, "t");
    }

    private static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "data.dstip", "r");
    }

    private static List<String> uuids(FeedSource source, String address) {
        Indicator i = ip(address);
        return source.lookup(List.of(i)).result().matches().getOrDefault(i, List.of()).stream().map(MispAttribute::uuid).toList();
    }

    @Test
    void blocksAreParsedWithHostBitsClearedAndIpv4MappedBlocksAsIpv4() {
        assertThat(CidrBlocks.parse("91.92.240.17/24")).hasValueSatisfying(b -> {
            assertThat(b.prefix()).isEqualTo(24);
            assertThat(b.network()).containsExactly(91, 92, (byte) 240, 0);
        });
        assertThat(CidrBlocks.parse("::ffff:91.92.240.0/120")).hasValueSatisfying(b -> {
            assertThat(b.network()).hasSize(4);
            assertThat(b.prefix()).isEqualTo(24);
        });
        assertThat(CidrBlocks.parse("2a02:cf40::/32")).hasValueSatisfying(b -> assertThat(b.network()).hasSize(16));
        assertThat(CidrBlocks.parse("91.92.240.1")).as("an address, not a block").isEmpty();
        assertThat(CidrBlocks.parse("0.0.0.0/0")).as("the whole internet is a feed error").isEmpty();
        assertThat(CidrBlocks.parse("10.0.0.0/33")).isEmpty();
        assertThat(CidrBlocks.parse("91.92.240.0/x")).isEmpty();
        assertThat(CidrBlocks.parse("evil.example/24")).isEmpty();
    }

    @Test
    void aFeedBlockMatchesEveryAddressInsideAndNoneOutside() {
        FeedSource feed = FeedSource.of("feed", List.of(
                attr("v4", "ip-dst", "91.92.240.0/24"),
                attr("v4-wide", "ip-src", "91.92.0.0/16"),
                attr("v6", "ip-dst", "2a02:cf40::/32"),
                attr("exact", "ip-dst", "91.92.240.77"),
                attr("not-ip", "domain", "91.92.240.0/24")));

        assertThat(uuids(feed, "91.92.240.77")).containsExactlyInAnyOrder("exact", "v4", "v4-wide");
        assertThat(uuids(feed, "91.92.240.1")).containsExactlyInAnyOrder("v4", "v4-wide");
        assertThat(uuids(feed, "91.92.7.1")).containsExactly("v4-wide");
        assertThat(uuids(feed, "91.93.240.1")).isEmpty();
        assertThat(uuids(feed, "2a02:cf40:100::17")).containsExactly("v6");
        assertThat(uuids(feed, "2a02:cf41::1")).isEmpty();
        // an IPv4-mapped IPv6 indicator is normalised to IPv4 before lookup; the block still holds it
        assertThat(uuids(feed, "91.92.240.5")).contains("v4");
    }
}
