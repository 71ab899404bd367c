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
}
