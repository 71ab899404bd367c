package io.github.mispcorrelator.misp;

import java.time.Duration;

/**
 * A MISP request that failed, worded for a SOC analyst, and whether asking again may help: timeouts, connection
 * failures, 5xx and 429 are retryable (429 and 503 may say when); a refused key or a bad request is not.
 */
public class MispException extends RuntimeException {
    private final boolean retryable;
    private final Duration retryAfter;

    public MispException(String message, boolean retryable, Duration retryAfter) {
        super(message, null, false, false);
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    public boolean retryable() {
        return retryable;
    }

    /** MISP's own word on when to come back ({@code Retry-After}, {@code X-Rate-Limit-Reset}), or null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
