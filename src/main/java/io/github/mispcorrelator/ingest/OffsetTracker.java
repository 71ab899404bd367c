package io.github.mispcorrelator.ingest;

import java.util.TreeSet;

/**
 * Which offset of one partition may be committed: records complete in any order (alerts are correlated in parallel),
 * but an offset is committed only when every record before it is done, so a crash re-reads from the first record
 * not done — nothing lost, and the hits of what is read again are already stored (no duplicate). Used by the poll
 * thread only.
 */
final class OffsetTracker {
    private final TreeSet<Long> pending = new TreeSet<>();
    private long next = -1;
    private long committed = -1;

    /** A record handed out for correlation. */
    void started(long offset) {
        pending.add(offset);
        next = Math.max(next, offset + 1);
    }

    /** A record whose hits are committed (and events produced): it no longer holds the partition back. */
    void done(long offset) {
        pending.remove(offset);
    }

    boolean isPending(long offset) {
        return pending.contains(offset);
    }

    int inFlight() {
        return pending.size();
    }

    /** The offset to commit (Kafka's convention: the next record to read), or -1 when nothing was seen. */
    long committable() {
        return pending.isEmpty() ? next : pending.first();
    }

    /** The committable offset if it moved since the last {@link #committed(long)}, else -1. */
    long toCommit() {
        long c = committable();
        return c > committed ? c : -1;
    }

    void committed(long offset) {
        committed = Math.max(committed, offset);
    }
}
