package io.github.mispcorrelator.misp;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one back-off formula: doubling to a cap, ±50 % jitter when asked, MISP's own wait winning. */
class BackoffTest {

    @Test
    void doublesUpToTheLongestWithoutJitter() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), false);
        assertThat(b.delayMs(0)).isEqualTo(1_000);
        assertThat(b.delayMs(1)).isEqualTo(2_000);
        assertThat(b.delayMs(4)).isEqualTo(16_000);
        assertThat(b.delayMs(5)).isEqualTo(30_000);
        assertThat(b.delayMs(1_000)).as("no overflow").isEqualTo(30_000);
    }

    @Test
    void jitterStaysWithinHalfAndOneAndAHalfOfTheBase() {
        for (int attempt = 0; attempt < 12; attempt++) {
            long base = Math.min(100L << attempt, 100L << 10);
            for (int i = 0; i < 200; i++) {
                assertThat(Backoff.LOOKUP.delayMs(attempt)).isBetween(base / 2, base / 2 + base);
            }
        }
        for (int i = 0; i < 200; i++) {
            assertThat(Backoff.PAGE.delayMs(20)).isBetween(32_000L, 96_000L);
        }
    }

    @Test
    void whatMispAskedForWinsCutToTheLongestWaitGiven() {
        assertThat(Backoff.LOOKUP.delayMs(3, Duration.ofSeconds(7))).isEqualTo(7_000);
        assertThat(Backoff.PAGE.delayMs(0, Duration.ofMinutes(10), Duration.ofMinutes(5))).isEqualTo(300_000);
        assertThat(Backoff.PAGE.delayMs(0, Duration.ZERO, Duration.ofMinutes(5))).isEqualTo(1);
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), true))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
