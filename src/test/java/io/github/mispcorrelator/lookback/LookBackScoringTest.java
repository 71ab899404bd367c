package io.github.mispcorrelator.lookback;

import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.store.ObservationStore;
import io.github.mispcorrelator.support.DefaultRules;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped score.drl on look-back hits: the age of the sighting is a fact of the hit, so an old contact scores
 * lower than a recent one. (The golden-case format has no place for past sightings, hence a test of its own.)
 */
class LookBackScoringTest {
    static final Instant FOUND = Instant.parse("2026-03-10T12:00:00Z");

    static Hit lookBackHit(Duration sinceLastSeen) {
        Instant last = FOUND.minus(sinceLastSeen);
        ObservationStore.Sighting s = new ObservationStore.Sighting("ip", "81.2.69.77", "mgr", "001", "web-01",
                last.minus(Duration.ofDays(1)), last, 4, "1700000000.1", "1700000000.9");
        MispAttribute a = new MispAttribute("1", "u1", "7", "e7", "C2", "ip-dst", "Network activity", "81.2.69.77",
                true, 1, List.of("tlp:green"), FOUND.getEpochSecond(), "https://misp");
        Indicator i = new Indicator(IndicatorType.IP, "81.2.69.77", LookBack.FIELD, LookBack.RULE);
        return new Hit(LookBack.alertOf(s), i, a).pastSighting(new Hit.PastSighting(s.firstSeen(), s.lastSeen(),
                s.alerts(), s.firstAlertId(), s.lastAlertId(), 1, 4, FOUND));
    }

    @Test
    void aSixtyDayOldContactScoresLowerThanOneFromThisMorning() {
        Hit recent = lookBackHit(Duration.ofHours(3));
        Hit old = lookBackHit(Duration.ofDays(60));
        DefaultRules.get().score(List.of(recent));
        DefaultRules.get().score(List.of(old));
        assertThat(recent.getSightingAgeDays()).isZero();
        assertThat(old.getSightingAgeDays()).isEqualTo(60);
        assertThat(recent.getSeverity()).isEqualTo(12);
        assertThat(old.getSeverity()).isEqualTo(10);
        assertThat(recent.getLabels()).contains("look-back").doesNotContain("old-sighting");
        assertThat(old.getLabels()).contains("look-back", "old-sighting");
        assertThat(old.getDecidedBy()).contains("Adjust: old sighting found by the look-back (over 30 days)");
    }

    @Test
    void aLiveHitIsNoLookBackAndHasNoSightingAge() {
        Hit live = new Hit(lookBackHit(Duration.ZERO).getAlert(), new Indicator(IndicatorType.IP, "81.2.69.77", "f", "r"),
                lookBackHit(Duration.ZERO).attribute());
        DefaultRules.get().score(List.of(live));
        assertThat(live.isLookBack()).isFalse();
        assertThat(live.getSightingAgeDays()).isZero();
        assertThat(live.getLabels()).doesNotContain("look-back");
    }

    @Test
    void theSummaryAlertCarriesTheAgentAndTheFirstAlert() {
        Hit h = lookBackHit(Duration.ofDays(2));
        assertThat(h.getAlert().getId()).isEqualTo("1700000000.1");
        assertThat(h.getAlert().getAgentId()).isEqualTo("001");
        assertThat(h.getAlert().getManager()).isEqualTo("mgr");
        assertThat(h.getAlert().getEpochMilli().getAsLong()).isEqualTo(FOUND.minus(Duration.ofDays(3)).toEpochMilli());
    }
}
