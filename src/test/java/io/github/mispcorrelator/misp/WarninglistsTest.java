package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Warning lists matched as MISP matches them (app/Model/Warninglist.php:635-729). */
class WarninglistsTest {
    static MispAttribute attr(String type, String value) {
        return new MispAttribute("1", "u", "1", "e", "i", type, "Network activity", value, true, 2, List.of(), 0, "m");
    }

    static Warninglists one(String type, Set<String> types, String... entries) {
        return Warninglists.of(List.of(new Warninglists.WarningList("l", type, types, List.of(entries))));
    }

    @Test
    void stringIsExactSubstringContains() {
        Warninglists s = one("string", Set.of("sha256"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(s.listed(attr("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))).isTrue();
        assertThat(s.listed(attr("md5", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")))
                .as("not a type of the list").isFalse();
        assertThat(s.listed(attr("filename|sha256", "empty.txt|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")))
                .as("not a type of the list either").isFalse();
        Warninglists all = one("substring", Set.of("ALL"), "googleusercontent");
        assertThat(all.listed(attr("url", "https://lh3.googleusercontent.com/x"))).isTrue();
        assertThat(all.listed(attr("domain", "example.com"))).isFalse();
    }

    @Test
    void hostnameMatchesTheHostAndItsParents() {
        Warninglists h = one("hostname", Set.of("domain", "hostname", "url", "domain|ip"), ".Example.COM.");
        assertThat(h.listed(attr("domain", "example.com"))).isTrue();
        assertThat(h.listed(attr("hostname", "a.b.example.com."))).isTrue();
        assertThat(h.listed(attr("url", "https://www.example.com/path?q=1"))).isTrue();
        assertThat(h.listed(attr("url", "www.example.com/path"))).isTrue();
        assertThat(h.listed(attr("domain", "notexample.com"))).isFalse();
        assertThat(h.listed(attr("domain|ip", "example.com|81.2.69.142"))).as("either half of a composite").isTrue();
    }

    @Test
    void cidrMatchesAddressesAndNarrowerRanges() {
        Warninglists c = one("cidr", Set.of("ip-dst", "ip-src", "ip-dst|port"), "8.8.8.0/24", "2001:4860::/32", "9.9.9.9");
        assertThat(c.listed(attr("ip-dst", "8.8.8.8"))).isTrue();
        assertThat(c.listed(attr("ip-dst", "8.8.9.8"))).isFalse();
        assertThat(c.listed(attr("ip-src", "2001:4860:4860::8888"))).isTrue();
        assertThat(c.listed(attr("ip-src", "9.9.9.9"))).isTrue();
        assertThat(c.listed(attr("ip-dst|port", "8.8.8.8|53"))).isTrue();
        assertThat(c.listed(attr("ip-dst", "8.8.8.0/25"))).as("inside").isTrue();
        assertThat(c.listed(attr("ip-dst", "8.8.0.0/16"))).as("wider than the entry").isFalse();
        assertThat(c.listed(attr("ip-dst", "not-an-ip"))).isFalse();
    }

    @Test
    void regexTakesPcreDelimitersAndFlags() {
        Warninglists r = one("regex", Set.of("url"), "/^https?:\\/\\/[a-z]+\\.example\\.org\\//i");
        assertThat(r.listed(attr("url", "HTTP://CDN.example.org/x"))).isTrue();
        assertThat(r.listed(attr("url", "http://cdn.example.net/x"))).isFalse();
    }

    @Test
    void aCopyOfMispWarninglistsIsReadAndAFeedLeavesItsValuesOut(@TempDir Path dir) throws Exception {
        Path list = dir.resolve("lists/public-dns-v4/list.json");
        Files.createDirectories(list.getParent());
        Files.writeString(list, "{\"name\": \"List of known IPv4 public DNS resolvers\", \"type\": \"cidr\","
                + " \"list\": [\"8.8.8.8/32\"], \"matching_attributes\": [\"ip-dst\", \"ip-src\"], \"category\": \"false-positive\"}");
        Warninglists lists = Warninglists.load(dir);
        assertThat(lists.size()).isEqualTo(1);

        Path feed = dir.resolve("feed");
        Files.createDirectories(feed);
        Files.writeString(feed.resolve("manifest.json"), "{\"ev\": {}}");
        Files.writeString(feed.resolve("ev.json"), "{\"Event\": {\"id\": \"1\", \"uuid\": \"ev\", \"info\": \"i\", \"threat_level_id\": \"2\","
                + " \"Attribute\": [{\"uuid\": \"a1\", \"type\": \"ip-dst\", \"category\": \"Network activity\", \"value\": \"8.8.8.8\","
                + " \"to_ids\": true}, {\"uuid\": \"a2\", \"type\": \"ip-dst\", \"category\": \"Network activity\","
                + " \"value\": \"81.2.69.142\", \"to_ids\": true}]}}");
        MispSettings enforce = new MispSettings(null, null, true, Duration.ofSeconds(1), true, true, true, AttributeFilter.NONE);
        FeedSource withLists = FeedSource.load(feed, enforce, lists);
        Indicator dns = new Indicator(IndicatorType.IP, "8.8.8.8", "f", "r");
        Indicator c2 = new Indicator(IndicatorType.IP, "81.2.69.142", "f", "r");
        assertThat(withLists.lookup(List.of(dns, c2)).result().matches()).containsOnlyKeys(c2);
        MispSettings lax = new MispSettings(null, null, true, Duration.ofSeconds(1), true, true, false, AttributeFilter.NONE);
        assertThat(FeedSource.load(feed, lax, lists).lookup(List.of(dns, c2)).result().matches()).containsOnlyKeys(dns, c2);
    }
}
