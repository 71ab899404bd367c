package io.github.mispcorrelator.misp;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential back-off: {@code first}, twice that, four times … up to {@code longest}, optionally with ±50 % jitter
 * (so that instances retrying the same MISP do not all come back at the same moment). One formula for the lookup
 * layer's retries ({@link LookupService}), the circuit breaker's probes ({@link CircuitBreaker}) and the mirror's page
 * retries. A wait MISP asked for ({@code Retry-After}, {@link MispException#retryAfter()}) wins over the formula.
 */
public record Backoff(Duration first, Duration longest, boolean jitter) {

    /** Retries of a lookup: 100 ms, 200 ms … with jitter (an alert's deadline bounds them long before the cap). */
    public static final Backoff LOOKUP = new Backoff(Duration.ofMillis(100), Duration.ofMillis(100L << 10), true);
    /** Retries of a mirror page: 1 s, 2 s … 64 s with jitter; a page is worth waiting for. */
    public static final Backoff PAGE = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(64), true);

    public Backoff {
        if (first.isNegative() || first.isZero() || longest.compareTo(first) < 0) {
            throw new IllegalArgumentException("back-off from " + first + " up to " + longest);
        }
    }

    /** The wait before retry number {@code attempt + 1} (attempt 0 is the first retry), in milliseconds, at least 1. */
    public long delayMs(int attempt) {
        long base = first.toMillis();
        long cap = longest.toMillis();
        for (int i = 0; i < attempt && base < cap; i++) {
            base <<= 1;
        }
        base = Math.min(base, cap);
        long delay = jitter ? base / 2 + ThreadLocalRandom.current().nextLong(base + 1) : base;
        return Math.max(1, delay);
    }

    /** As {@link #delayMs(int)}, unless MISP said how long to wait ({@code retryAfter}, not null). */
    public long delayMs(int attempt, Duration retryAfter) {
        return retryAfter != null ? Math.max(1, retryAfter.toMillis()) : delayMs(attempt);
    }

    /** As {@link #delayMs(int, Duration)}, with what MISP asked for cut to {@code atMost}. */
    public long delayMs(int attempt, Duration retryAfter, Duration atMost) {
        if (retryAfter != null) {
            return Math.max(1, Math.min(retryAfter.toMillis(), atMost.toMillis()));
        }
        return delayMs(attempt);
    }
}
