package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AttributeMatcherTest {
    private static final String SHA = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";

    private static MispAttribute attr(String type, String value) {
        return new MispAttribute("1", type + value, "1", "e", "i", type, "c", value, true, 2, List.of(), 0, "t");
    }

    private static Indicator ind(IndicatorType t, String v) {
        return new Indicator(t, v, "f", "r");
    }

    @Test
    void compositeValuesMatchOnlyThroughTheHalfOfTheRightType() {
        assertThat(AttributeMatcher.keys(attr("ip-dst|port", "81.2.69.142|443"))).containsExactly("ip:81.2.69.142");
        assertThat(AttributeMatcher.keys(attr("domain|ip", "Evil.Example.NET|175.16.199.5")))
                .containsExactly("domain:evil.example.net", "ip:175.16.199.5");
        assertThat(AttributeMatcher.keys(attr("filename|sha256", "a.exe|" + SHA.toUpperCase())))
                .containsExactly("sha256:" + SHA);
        assertThat(AttributeMatcher.keys(attr("malware-sample", "x.zip|44d88612fea8a8f36de82e1278abb02f")))
                .containsExactly("md5:44d88612fea8a8f36de82e1278abb02f");
        assertThat(AttributeMatcher.keys(attr("ip-dst", "81.2.69.0/24"))).isEmpty();
    }

    @Test
    void aFileNameOrPortThatEqualsTheValueIsNoMatch() {
        // a file literally named like a domain, and a "port" half that equals an indicator: neither is a hit
        Indicator domain = ind(IndicatorType.DOMAIN, "evil.example.net");
        Map<Indicator, List<MispAttribute>> m = AttributeMatcher.match(List.of(domain, ind(IndicatorType.IP, "81.2.69.142")),
                List.of(attr("filename|sha256", "evil.example.net|" + SHA), attr("hostname|port", "81.2.69.142|80")));
        assertThat(m).isEmpty();
    }

    @Test
    void everyMatchingAttributeIsKeptNotJustTheFirst() throws Exception {
        var root = Json.MAPPER.readTree(Fixtures.bytes("misp/restsearch-context.json"));
        List<MispAttribute> attributes = MispJson.restSearchAttributes(root, "test");
        Indicator sha = ind(IndicatorType.SHA256, SHA);
        Indicator ip = ind(IndicatorType.IP, "81.2.69.142");
        Indicator domain = ind(IndicatorType.DOMAIN, "update.evil-example.net");
        Indicator ip2 = ind(IndicatorType.IP, "175.16.199.5");
        Indicator unasked = ind(IndicatorType.IP, "175.16.199.77");

        Map<Indicator, List<MispAttribute>> m = AttributeMatcher.match(List.of(sha, ip, domain, ip2), attributes);

        assertThat(m.get(sha)).extracting(MispAttribute::uuid)
                .containsExactly("a1000000-0000-4000-8000-000000000001", "a1000000-0000-4000-8000-000000000002");
        assertThat(m.get(ip)).extracting(MispAttribute::type).containsExactly("ip-dst|port");
        assertThat(m.get(domain)).extracting(MispAttribute::type).containsExactly("domain|ip");
        assertThat(m.get(ip2)).extracting(MispAttribute::type).containsExactly("domain|ip");
        assertThat(m).doesNotContainKey(unasked);
    }
}
