package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RestSearchRequestTest {

    @Test
    void carriesEveryValueTheTypesThatFitAndTheDetectionFilters() {
        JsonObject body = RestSearchRequest.body(List.of(
                        new Indicator(IndicatorType.SHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "f", "r"),
                        new Indicator(IndicatorType.IP, "2a02:cf40::1", "f", "r"),
                        new Indicator(IndicatorType.DOMAIN, "c2.example.net", "f", "r")),
                new MispSettings("http://m", "k", true, Duration.ofSeconds(1), true, true));

        assertThat(body.getString("returnFormat")).isEqualTo("json");
        assertThat(body.getJsonObject("value").getJsonArray("OR").getList()).containsExactly(
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "2a02:cf40::1", "c2.example.net");
        assertThat(body.getJsonArray("type").getList()).contains("sha256", "filename|sha256", "ip-dst", "ip-src",
                "ip-dst|port", "ip-src|port", "domain|ip", "domain", "hostname");
        assertThat(body.getBoolean("to_ids")).isTrue();
        assertThat(body.getBoolean("published")).isTrue();
        assertThat(body.getBoolean("includeContext")).isTrue();
        assertThat(body.getBoolean("includeEventTags")).isTrue();
    }

    @Test
    void filtersCanBeTurnedOff() {
        JsonObject body = RestSearchRequest.body(List.of(new Indicator(IndicatorType.MD5, "44d88612fea8a8f36de82e1278abb02f", "f", "r")),
                new MispSettings("http://m", "k", true, Duration.ofSeconds(1), false, false));
        assertThat(body.containsKey("to_ids")).isFalse();
        assertThat(body.containsKey("published")).isFalse();
    }

    @Test
    void pagingFollowsMispsRowCountNotThePageLength() {
        // full page, nothing dropped: rows + 1
        assertThat(RestSearchRequest.morePages(1001, 1000, 1000, true)).isTrue();
        // full page of rows, 30 dropped by warning lists after the LIMIT: the count says 1,000
        assertThat(RestSearchRequest.morePages(1000, 970, 1000, true)).isTrue();
        // the last rows
        assertThat(RestSearchRequest.morePages(412, 400, 1000, true)).isFalse();
        assertThat(RestSearchRequest.morePages(0, 0, 1000, true)).isFalse();
        // no header: with warning lists only an empty page ends, without them a short one does
        assertThat(RestSearchRequest.morePages(null, 970, 1000, true)).isTrue();
        assertThat(RestSearchRequest.morePages(null, 0, 1000, true)).isFalse();
        assertThat(RestSearchRequest.morePages(null, 970, 1000, false)).isFalse();
        assertThat(RestSearchRequest.morePages(null, 1000, 1000, false)).isTrue();
        // a limit above MISP's memory_limit x 50: only the first chunk is counted, fewer than came back
        assertThat(RestSearchRequest.morePages(6400, 9990, 10000, true)).isTrue();
    }

    @Test
    void valuesMispWouldReadAsPatternsAreNeverSent() {
        assertThat(RestSearchRequest.reinterpreted("http://x.example/%")).startsWith(RestSearchRequest.UNCHECKED_PREFIX);
        assertThat(RestSearchRequest.reinterpreted("%.example")).isNotNull();
        assertThat(RestSearchRequest.reinterpreted("http://x.example/a%20b")).isNull();
        assertThat(RestSearchRequest.reinterpreted("!x")).as("the OR form takes ! literally").isNull();
        JsonObject body = RestSearchRequest.body(List.of(new Indicator(IndicatorType.URL, "!x", "f", "r")),
                new MispSettings("http://m", "k", true, Duration.ofSeconds(1), true, true));
        assertThat(body.getJsonObject("value").getJsonArray("OR").getList()).containsExactly("!x");
    }
}
