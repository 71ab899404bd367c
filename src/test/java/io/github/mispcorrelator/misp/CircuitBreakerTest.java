package io.github.mispcorrelator.misp;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The breaker's timing with a hand-moved clock: back-off probes, and a rate limit that holds it open. */
class CircuitBreakerTest {
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2025-09-01T00:00:00Z"));

    @Test
    void probesStartSoonAndBackOffToTheConfiguredLongestWait() {
        CircuitBreaker b = new CircuitBreaker(2, Duration.ofSeconds(30), now::get);
        assertThat(b.failure("x")).isFalse();
        assertThat(b.failure("x")).isTrue();
        assertThat(b.allows()).isFalse();
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(2));
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(4));
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(8));
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(16));
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(b.probeSucceeded()).isTrue();
        assertThat(b.allows()).isTrue();

        // opened again: the back-off starts over
        b.failure("y");
        b.failure("y");
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aRateLimitOpensAtOnceAndHoldsUntilItsReset() {
        CircuitBreaker b = new CircuitBreaker(5, Duration.ofSeconds(30), now::get);
        assertThat(b.rateLimited("429", Duration.ofSeconds(600))).isTrue();
        assertThat(b.allows()).isFalse();
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(600));
        assertThat(b.describeOpen()).contains("rate limit resets");

        now.set(now.get().plusSeconds(599));
        assertThat(b.probeSucceeded()).as("getVersion answers, searches are still refused").isFalse();
        assertThat(b.allows()).isFalse();
        assertThat(b.nextProbeDelay()).isEqualTo(Duration.ofSeconds(2));

        now.set(now.get().plusSeconds(1));
        assertThat(b.probeSucceeded()).isTrue();
        assertThat(b.allows()).isTrue();
    }

    @Test
    void aRateLimitWithoutAResetHoldsForTheLongestProbeWait() {
        CircuitBreaker b = new CircuitBreaker(5, Duration.ofSeconds(30), now::get);
        b.rateLimited("429", null);
        now.set(now.get().plusSeconds(29));
        assertThat(b.probeSucceeded()).isFalse();
        now.set(now.get().plusSeconds(1));
        assertThat(b.probeSucceeded()).isTrue();
    }
}
