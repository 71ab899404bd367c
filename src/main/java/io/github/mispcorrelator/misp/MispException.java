package io.github.mispcorrelator.misp;

import java.time.Duration;

/**
 * A MISP request that failed, worded for a SOC analyst, and whether asking again may help: timeouts, connection
 * failures, 5xx and 429 are retryable (429 and 503 may say when); a refused key or a bad request is not.
 */
public class MispException extends RuntimeException {
    private final boolean retryable;
    private final Duration retryAfter;
    private final boolean rateLimited;

    public MispException(String message, boolean retryable, Duration retryAfter) {
        this(message, retryable, retryAfter, false);
    }

    public MispException(String message, boolean retryable, Duration retryAfter, boolean rateLimited) {
        super(message, null, false, false);
        this.retryable = retryable;
        this.retryAfter = retryAfter;
        this.rateLimited = rateLimited;
    }

    /** An HTTP 429: MISP refuses every search of this key until {@link #retryAfter()} has passed. */
    public boolean rateLimited() {
        return rateLimited;
    }

    public boolean retryable() {
        return retryable;
    }

    /** MISP's own word on when to come back ({@code Retry-After}, {@code X-Rate-Limit-Reset}), or null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
