package io.github.mispcorrelator.misp;

/**
 * How many requests one MISP is sent at once, below a fixed ceiling ({@code MISP_MAX_CONCURRENT}), following its
 * latency in the manner of TCP Vegas: a round trip near the fastest seen means MISP has room, one past twice it means
 * requests queue inside MISP. From one request in flight, additive increase while full batches wait for a slot, one step down when the latency
 * doubles, halved on a timeout, 5xx or 429; at most one change per round trip. Only batches at least half full are
 * compared, so a small batch's quicker answer does not make every full one look slow. Not thread-safe:
 * {@link LookupService} holds its lock around every call but {@link #limit()}.
 */
final class ConcurrencyLimit {
    private final int ceiling;
    private volatile int limit;
    private long smoothedRtt;
    private boolean measured;
    private long fastestRtt;
    private long lastChange;

    /** @param initialRttNanos the round trip assumed until MISP has answered once (the batch linger) */
    ConcurrencyLimit(int ceiling, long initialRttNanos) {
        this.ceiling = ceiling;
        // slow start: from one request, so the first round trips show MISP's latency before it is queued into
        this.limit = 1;
        this.smoothedRtt = Math.max(1, initialRttNanos);
        this.lastChange = System.nanoTime();
    }

    int limit() {
        return limit;
    }

    /** The round trip, smoothed (1/8 of each new one): how long a batch that is not full may wait to fill. */
    long smoothedRttNanos() {
        return smoothedRtt;
    }

    /**
     * @param rttNanos   the answered request's round trip
     * @param fullish    whether its batch was at least half full
     * @param backlogged whether a full batch is waiting for a slot
     */
    void answered(long rttNanos, boolean fullish, boolean backlogged) {
        if (!measured) {
            measured = true;
            smoothedRtt = rttNanos;
        } else {
            smoothedRtt += (rttNanos - smoothedRtt) / 8;
        }
        if (!fullish) {
            return;
        }
        // the fastest drifts up slowly (doubling over some 700 full batches): MISP's data grows, and a fast answer of
        // an hour ago must not rule forever
        fastestRtt = fastestRtt == 0 ? rttNanos : Math.min(rttNanos, fastestRtt + fastestRtt / 1024);
        long now = System.nanoTime();
        if (now - lastChange < smoothedRtt) {
            return;
        }
        if (rttNanos > 2 * fastestRtt && limit > 1) {
            limit--;
            lastChange = now;
        } else if (backlogged && rttNanos <= fastestRtt + fastestRtt / 2 && limit < ceiling) {
            limit++;
            lastChange = now;
        }
    }

    /** MISP timed out or refused for load: ask it half as much at once. */
    void overloaded() {
        limit = Math.max(1, limit / 2);
        lastChange = System.nanoTime();
    }
}
