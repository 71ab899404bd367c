package io.github.mispcorrelator.http;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What bounds the HTTP API against slow or hostile clients and overload; one instance shared by every HTTP verticle
 * (the connection count and the admission control are service-wide).
 *
 * @param idleTimeout    a connection with no byte either way for this long is closed
 * @param headerTimeout  a request's headers must arrive within this time of the connection (or of the last answer)
 * @param bodyTimeout    a request's body must arrive within this time of its headers (408 otherwise)
 * @param maxConnections connections open at once; beyond, new ones are closed at once
 * @param maxBatchLines  alert lines one batch may hold (413 beyond)
 */
public record HttpLimits(Duration idleTimeout, Duration headerTimeout, Duration bodyTimeout, int maxConnections,
                         int maxBatchLines, Admission admission, Warnings warnings, AtomicInteger connections) {

    public HttpLimits(Duration idleTimeout, Duration headerTimeout, Duration bodyTimeout, int maxConnections,
                      int maxBatchLines, Admission admission, Warnings warnings) {
        this(idleTimeout, headerTimeout, bodyTimeout, maxConnections, maxBatchLines, admission, warnings,
                new AtomicInteger());
    }

    /** Generous limits for code that builds the API by hand (tests); the service builds its own from the configuration. */
    public static HttpLimits defaults() {
        return new HttpLimits(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(60), 512, 20_000,
                new Admission(128, 4), new Warnings(null, Duration.ofMinutes(1)));
    }
}
