package io.github.mispcorrelator.misp;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Fails lookups fast while MISP is down, instead of making every alert wait for a timeout. Opens after
 * {@code threshold} consecutive failed requests; while open, a probe of {@code /servers/getVersion.json} runs every
 * {@code openFor}; the first successful probe closes it. Thread-safe; the probe itself is scheduled by the caller.
 * Hand-written rather than vertx-circuit-breaker: that library's half-open state lets a real request through, and
 * here the probe must be the cheap version call.
 */
final class CircuitBreaker {
    enum State { CLOSED, OPEN }

    private final int threshold;
    private final Duration openFor;
    private final Supplier<Instant> clock;
    private State state = State.CLOSED;
    private int consecutiveFailures;
    private Instant openedAt;
    private String lastFailure = "";

    CircuitBreaker(int threshold, Duration openFor, Supplier<Instant> clock) {
        this.threshold = threshold;
        this.openFor = openFor;
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
            state = State.OPEN;
            openedAt = clock.get();
            return true;
        }
        return false;
    }

    /** @return true when this probe closed the breaker */
    synchronized boolean probeSucceeded() {
        boolean wasOpen = state == State.OPEN;
        state = State.CLOSED;
        consecutiveFailures = 0;
        return wasOpen;
    }

    synchronized State state() {
        return state;
    }

    Duration openFor() {
        return openFor;
    }

    synchronized String describeOpen() {
        return "MISP unavailable: circuit open since " + openedAt + " after " + consecutiveFailures
                + " failed requests (last: " + lastFailure + "); probing every " + openFor.toSeconds() + " s";
    }
}
