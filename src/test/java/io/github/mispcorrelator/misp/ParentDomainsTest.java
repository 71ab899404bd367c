package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.support.DefaultRules;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** misp.match_parent_domains: a sub-domain of a known-bad domain matches, lower and labelled. */
class ParentDomainsTest {

    private static MispAttribute attr(String type, String value) {
        return new MispAttribute("1", "u-" + value, "1", "e", "bad domains", type, "Network activity", value, true, 1,
                List.of(), 0, "feed");
    }

    @Test
    void parentsStopAtTwoLabels() {
        assertThat(ParentDomains.parents("a.b.evil.example")).containsExactly("b.evil.example", "evil.example");
        assertThat(ParentDomains.parents("evil.example")).isEmpty();
        assertThat(ParentDomains.parents("1.2.3.4.5.6.7.evil.example")).hasSize(ParentDomains.MAX_PARENTS);
    }

    @Test
    void aParentsAttributesGoToTheNameTheAlertCarried() {
        FeedSource feed = FeedSource.of("feed", List.of(attr("domain", "evil.example"), attr("hostname", "cdn.evil.example")));
        Indicator sub = new Indicator(IndicatorType.DOMAIN, "x.cdn.evil.example", "data.hostname", "r", "fw.fortigate");

        LookupResult result = ParentDomains.lookup(feed, List.of(sub)).result();

        assertThat(result.matches()).containsOnlyKeys(sub);
        assertThat(result.matches().get(sub)).extracting(MispAttribute::value)
                .containsExactlyInAnyOrder("evil.example", "cdn.evil.example");
        assertThat(FeedSource.of("feed", List.of(attr("domain", "evil.example"))).lookup(List.of(sub)).result().matches())
                .as("off: exact matching only").isEmpty();
    }

    @Test
    void aParentDomainHitIsThreeLevelsLowerAndLabelled() {
        var alert = AlertParser.parse("{\"rule\":{\"level\":3,\"groups\":[\"fortigate\"]},\"data\":{\"hostname\":\"x.evil.example\"}}");
        Indicator sub = new Indicator(IndicatorType.DOMAIN, "x.evil.example", "data.hostname", "r", "fw.fortigate");
        FeedSource feed = FeedSource.of("feed", List.of(attr("domain", "evil.example"), attr("domain", "x.evil.example")));
        List<Hit> hits = Correlator.hits(alert, ParentDomains.lookup(feed, List.of(sub)).result());

        DefaultRules.get().score(hits);

        Hit parent = hits.stream().filter(h -> h.attribute().value().equals("evil.example")).findFirst().orElseThrow();
        Hit exact = hits.stream().filter(h -> h.attribute().value().equals("x.evil.example")).findFirst().orElseThrow();
        assertThat(parent.isParentDomainMatch()).isTrue();
        assertThat(parent.getSeverity()).isEqualTo(9);
        assertThat(parent.getLabels()).contains("parent-domain");
        assertThat(parent.getDecidedByIds()).contains("score.threat.high", "score.adjust.parent-domain");
        assertThat(exact.isParentDomainMatch()).isFalse();
        assertThat(exact.getSeverity()).isEqualTo(12);
    }
}
