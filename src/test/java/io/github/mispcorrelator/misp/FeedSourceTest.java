package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shipped demo feed, read as MISP's own feeds are. */
class FeedSourceTest {
    private static final MispSettings DEFAULTS = new MispSettings(null, null, true, Duration.ofSeconds(1), true, true);
    private static final FeedSource DEMO = FeedSource.load(Path.of("config/demo-feed"), DEFAULTS);

    private static List<MispAttribute> lookup(FeedSource feed, IndicatorType type, String value) {
        Indicator i = new Indicator(type, value, "f", "r");
        return feed.lookup(List.of(i)).result().matches().getOrDefault(i, List.of());
    }

    @Test
    void eicarHashesMatchEveryAttributeHoldingThem() {
        assertThat(lookup(DEMO, IndicatorType.SHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"))
                .extracting(MispAttribute::type).containsExactlyInAnyOrder("sha256", "filename|sha256");
        assertThat(lookup(DEMO, IndicatorType.MD5, "44d88612fea8a8f36de82e1278abb02f"))
                .allSatisfy(a -> {
                    assertThat(a.threatLevel()).isEqualTo(1);
                    assertThat(a.eventInfo()).contains("EICAR");
                    assertThat(a.tags()).contains("tlp:clear");
                });
    }

    @Test
    void compositeNetworkAttributesMatchByTheirNetworkHalf() {
        assertThat(lookup(DEMO, IndicatorType.IP, "175.16.199.20")).extracting(MispAttribute::type).containsExactly("ip-dst|port");
        assertThat(lookup(DEMO, IndicatorType.IP, "81.2.69.193")).extracting(MispAttribute::type).containsExactly("domain|ip");
        assertThat(lookup(DEMO, IndicatorType.DOMAIN, "cdn.misp-correlator-demo.net")).hasSize(1);
        assertThat(lookup(DEMO, IndicatorType.DOMAIN, "beacon.misp-correlator-demo.net")).extracting(MispAttribute::type)
                .containsExactly("hostname");
        assertThat(lookup(DEMO, IndicatorType.IP, "8443")).isEmpty();
    }

    @Test
    void attributesNotForDetectionAreLeftOutUnlessAsked() {
        assertThat(lookup(DEMO, IndicatorType.IP, "81.2.69.194")).isEmpty();
        FeedSource all = FeedSource.load(Path.of("config/demo-feed"),
                new MispSettings(null, null, true, Duration.ofSeconds(1), false, true));
        assertThat(lookup(all, IndicatorType.IP, "81.2.69.194")).hasSize(1);
    }

    @Test
    void attributesInsideObjectsAreIndexed() {
        assertThat(DEMO.attributeCount()).isGreaterThan(8);
    }

    @Test
    void aBrokenEventFileIsNamed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"abc\": {}}");
        Files.writeString(dir.resolve("abc.json"), "{\"Event\": ");
        assertThatThrownBy(() -> FeedSource.load(dir, DEFAULTS)).hasMessageContaining("abc.json");
    }

    @Test
    void anEventTheManifestListsWithoutAFileIsLeftOutAndReported(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"here\": {}, \"gone\": {}}");
        Files.writeString(dir.resolve("here.json"), "{\"Event\": {\"id\": \"1\", \"uuid\": \"here\", \"info\": \"i\","
                + " \"threat_level_id\": \"2\", \"published\": true, \"Attribute\": [{\"uuid\": \"a1\", \"type\": \"ip-dst\","
                + " \"category\": \"Network activity\", \"value\": \"81.2.69.142\", \"to_ids\": true, \"timestamp\": \"1\"}]}}");
        FeedSource feed = FeedSource.load(dir, DEFAULTS);
        assertThat(feed.missingEvents()).containsExactly("gone");
        assertThat(lookup(feed, IndicatorType.IP, "81.2.69.142")).hasSize(1);
        assertThat(MispSource.report(feed).getJsonArray("instances").getJsonObject(0)
                .getJsonArray("missing_events").getList()).containsExactly("gone");
    }
}
