package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.MispAttribute;
import io.vertx.core.Future;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the mirror keeps its copy of each MISP instance, shared by every correlator on one database (implemented in
 * {@code store}). Every write — an upsert, a delete, a clear — bumps the instance's <b>change sequence</b> in the
 * same transaction and tags what it wrote with it, so that an instance that did not pull can follow: it asks for
 * what changed after the sequence number it has applied ({@link #changes}). Writes of one instance are serialised on
 * its sequence row, so a reader that sees number n sees every write up to n. Never blocks the caller.
 */
public interface MirrorRepository {

    /**
     * How far one instance's mirror got.
     *
     * @param filters         the pull filters the rows were pulled with
     * @param cursor          incremental pulls ask for attributes whose timestamp is at least this (epoch seconds)
     * @param lastSyncStarted when the last successful pull started, or null
     * @param lastSync        when the last successful pull (full or incremental) ended, or null
     * @param lastFullSync    when the last full pull ended, or null when none ever completed
     */
    record State(String filters, long cursor, Instant lastSyncStarted, Instant lastSync, Instant lastFullSync,
                 long attributes) {
    }

    /**
     * What changed after a sequence number, read in one snapshot.
     *
     * @param seq      the change sequence this answer brings the reader to
     * @param reload   true when {@code upserted} is the whole copy (the reader was too far behind, or the copy was
     *                 cleared since): what the reader holds is to be replaced, not updated
     * @param upserted attributes written after the reader's number (all of them on a reload)
     * @param removed  uuids deleted after the reader's number (empty on a reload)
     * @param state    the sync state in the same snapshot, if any
     * @param lagMs    how long ago (database clock) the newest change was committed, or -1 when nothing changed
     */
    record Changes(long seq, boolean reload, List<MispAttribute> upserted, List<String> removed,
                   Optional<State> state, long lagMs) {
        public boolean none() {
            return !reload && upserted.isEmpty() && removed.isEmpty();
        }
    }

    Future<Optional<State>> state(String instance);

    Future<Void> saveState(String instance, State state);

    /** Inserts or replaces attributes (their uuids distinct); answers the change sequence number of this write. */
    Future<Long> upsert(String instance, Collection<MispAttribute> attributes);

    /** Removes attributes by uuid; answers the change sequence number of this write. */
    Future<Long> delete(String instance, Collection<String> uuids);

    /** Forgets an instance's mirror (attributes and state), e.g. when the pull filters changed; followers reload. */
    Future<Long> clear(String instance);

    /**
     * Takes the rows of a reload that carry digests of the current {@link MirrorKeys#VERSION}, without their values
     * (called on the repository's thread while it reads; a reload that then fails is to be discarded).
     */
    interface DigestSink {
        void row(String uuid, long fingerprint, long key1, long key2);
    }

    /**
     * As {@link #changes(String, long)}; on a reload, the rows with current digests go to {@code digests} instead of
     * {@link Changes#upserted()} (which holds the others, whole), when {@code digests} is not null.
     */
    Future<Changes> changes(String instance, long after, DigestSink digests);

    /**
     * Stores the digests of attributes read whole (rows written before they were kept, or with another version),
     * for rows unchanged since change number {@code seq}. Numbers no change: the rows' content is the same.
     */
    Future<Void> storeDigests(String instance, long seq, Collection<MispAttribute> attributes);

    /**
     * What was written after {@code after} ({@code -1}: everything, as a reload), with the state, in one snapshot.
     * A reader further behind than the removals kept (or behind a clear) gets a reload.
     */
    default Future<Changes> changes(String instance, long after) {
        return changes(instance, after, null);
    }

    /**
     * The stored attributes with these uuids, by uuid (those not stored are left out): what a lookup that hit the
     * compact index reads to answer, and to check the hit against.
     */
    Future<Map<String, MispAttribute>> attributes(String instance, Collection<String> uuids);

    /**
     * Calls {@code wakeUp} (on some thread of the repository's) soon after a writer committed a change to the mirror of
     * a MISP instance, with that instance's name, or with null when changes may have been missed (after connecting):
     * a hint only, since notifications sent while the listener was disconnected are lost, so followers poll too.
     *
     * @return stops listening
     */
    AutoCloseable listen(Consumer<String> wakeUp);
}
