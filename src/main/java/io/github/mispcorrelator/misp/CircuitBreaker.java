package io.github.mispcorrelator.misp;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Fails lookups fast while MISP is down, instead of making every alert wait for a timeout. Opens after
 * {@code threshold} consecutive failed requests, or at once on a rate limit (HTTP 429). While open,
 * {@code /servers/getVersion.json} is probed: first after a second, then at doubling intervals up to
 * {@code maxProbeInterval}, so a short outage costs seconds, not a fixed interval; the first successful probe closes
 * it — but never before a rate limit's {@code X-Rate-Limit-Reset} has passed: MISP limits only restSearch
 * (app/Controller/Component/RateLimitComponent.php:6-13), so getVersion answers while searches are still refused.
 * Thread-safe; the probe itself is scheduled by the caller. Hand-written rather than vertx-circuit-breaker: that
 * library's half-open state lets a real request through, and here the probe must be the cheap version call.
 */
final class CircuitBreaker {
    enum State { CLOSED, OPEN }

    /** The first probe after the breaker opens. */
    static final Duration FIRST_PROBE = Duration.ofSeconds(1);

    private final int threshold;
    private final Duration maxProbeInterval;
    private final Backoff probeBackoff;
    private final Supplier<Instant> clock;
    private State state = State.CLOSED;
    private int consecutiveFailures;
    private int probes;
    private Instant openedAt;
    private Instant notBefore = Instant.EPOCH;
    private String lastFailure = "";

    CircuitBreaker(int threshold, Duration maxProbeInterval, Supplier<Instant> clock) {
        this.threshold = threshold;
        this.maxProbeInterval = maxProbeInterval;
        // no jitter: one probe per instance, and the tests read the exact doubling
        Duration longest = maxProbeInterval.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : maxProbeInterval;
        this.probeBackoff = new Backoff(FIRST_PROBE.compareTo(longest) < 0 ? FIRST_PROBE : longest, longest, false);
        this.clock = clock;
    }

    synchronized boolean allows() {
        return state == State.CLOSED;
    }

    synchronized void success() {
        consecutiveFailures = 0;
    }

    /** @return true when this failure opened the breaker (the caller then starts probing) */
    synchronized boolean failure(String reason) {
        lastFailure = reason;
        consecutiveFailures++;
        if (state == State.CLOSED && consecutiveFailures >= threshold) {
            open();
            return true;
        }
        return false;
    }

    /**
     * MISP refused a search for the rate limit: open until {@code reset} has passed (MISP's X-Rate-Limit-Reset;
     * when it did not say, the longest probe interval).
     *
     * @return true when this opened the breaker
     */
    synchronized boolean rateLimited(String reason, Duration reset) {
        lastFailure = reason;
        consecutiveFailures++;
        Instant until = clock.get().plus(reset != null ? reset : maxProbeInterval);
        if (until.isAfter(notBefore)) {
            notBefore = until;
        }
        if (state == State.CLOSED) {
            open();
            return true;
        }
        return false;
    }

    private void open() {
        state = State.OPEN;
        openedAt = clock.get();
        probes = 0;
    }

    /** How long to wait before the next probe: the back-off, or until the rate limit resets if that is later. */
    synchronized Duration nextProbeDelay() {
        long backoffMs = probeBackoff.delayMs(probes);
        probes++;
        long untilReset = Duration.between(clock.get(), notBefore).toMillis();
        return Duration.ofMillis(Math.max(1, Math.max(backoffMs, untilReset)));
    }

    /** @return true when this probe closed the breaker; false when it was closed, or a rate limit still holds */
    synchronized boolean probeSucceeded() {
        if (state == State.OPEN && clock.get().isBefore(notBefore)) {
            return false;
        }
        boolean wasOpen = state == State.OPEN;
        state = State.CLOSED;
        consecutiveFailures = 0;
        return wasOpen;
    }

    synchronized State state() {
        return state;
    }

    synchronized String describeOpen() {
        Instant now = clock.get();
        return "MISP unavailable: circuit open since " + openedAt + " after " + consecutiveFailures
                + " failed requests (last: " + lastFailure + ")"
                + (now.isBefore(notBefore) ? "; searches refused until the rate limit resets at " + notBefore
                : "; probing up to every " + maxProbeInterval.toSeconds() + " s");
    }
}
