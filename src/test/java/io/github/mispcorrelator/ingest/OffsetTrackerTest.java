package io.github.mispcorrelator.ingest;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** An offset is committable only when every record before it is done, whatever order they finish in. */
class OffsetTrackerTest {
    @Test
    void commitsUpToTheFirstRecordNotDone() {
        OffsetTracker t = new OffsetTracker();
        assertThat(t.committable()).isEqualTo(-1);
        for (long o = 10; o < 15; o++) {
            t.started(o);
        }
        assertThat(t.committable()).isEqualTo(10);
        t.done(12);
        t.done(13);
        assertThat(t.committable()).as("10 and 11 still in flight").isEqualTo(10);
        t.done(10);
        assertThat(t.committable()).isEqualTo(11);
        t.done(11);
        assertThat(t.committable()).as("14 in flight").isEqualTo(14);
        t.done(14);
        assertThat(t.committable()).as("all done: the next record to read").isEqualTo(15);
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void toCommitOnlyWhenThePositionMoved() {
        OffsetTracker t = new OffsetTracker();
        t.started(0);
        t.started(1);
        t.done(0);
        assertThat(t.toCommit()).isEqualTo(1);
        t.committed(1);
        assertThat(t.toCommit()).isEqualTo(-1);
        t.done(1);
        assertThat(t.toCommit()).isEqualTo(2);
    }

    @Test
    void aGapFromSkippedOffsetsDoesNotHoldThePartition() {
        // compacted topics and transaction markers leave holes in the offsets: only what was handed out counts
        OffsetTracker t = new OffsetTracker();
        t.started(5);
        t.started(9);
        t.done(5);
        assertThat(t.committable()).isEqualTo(9);
        t.done(9);
        assertThat(t.committable()).isEqualTo(10);
    }
}
