package io.github.mispcorrelator.misp.mirror;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Keeps a mirror's index current from the shared mirror tables by their change sequence
 * ({@link MirrorRepository#changes}): what the instance that pulls wrote after the number applied here is read and
 * taken in. Every instance does it — the puller too, before each pull, so that it resumes from what is stored when it
 * takes the pulls over, and after a write of its own it could not number in order. Runs as a step of the mirror (one
 * at a time with the pulls, on its worker).
 */
final class MirrorFollower {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorFollower.class);

    private final String name;
    private final MirrorRepository repository;
    private final MirrorIndex index;
    private final MirrorSync.Worker worker;
    private final Consumer<MirrorRepository.State> onState;
    private final String filters;
    private volatile boolean warnedFilters;

    /** The change sequence number the index holds everything up to; -1 before the first read. */
    private volatile long applied = -1;
    /** The newest number seen in the tables. */
    private volatile long latest = -1;
    private volatile Instant checkedAt;
    private volatile Instant appliedAt;
    /** How long after its commit the last change read was applied here (database clock to ours), or -1. */
    private volatile long lastLagMs = -1;
    private volatile long changesApplied;
    private volatile String lastReload;

    /** @param filters our pull filters: a copy pulled with others is not answered from (the puller pulls it again) */
    MirrorFollower(String name, MirrorRepository repository, MirrorIndex index, MirrorSync.Worker worker,
                   String filters, Consumer<MirrorRepository.State> onState) {
        this.name = name;
        this.filters = filters;
        this.repository = repository;
        this.index = index;
        this.worker = worker;
        this.onState = onState;
    }

    /** How long the last reload took, by part (read, held, indexed), or null. */
    String lastReload() {
        return lastReload;
    }

    long applied() {
        return applied;
    }

    /**
     * Reads what changed since {@link #applied()} and takes it in; publishes a new view when the stored copy is
     * complete ({@code lastFullSync} set). Answers whether the index changed.
     *
     */
    Future<Boolean> catchUp() {
        long t0 = System.nanoTime();
        long after = applied;
        // a reload fills a table of its own while it reads (the rows with digests, without their values)
        HeldAttributes loading = new HeldAttributes();
        return repository.changes(name, after, loading::putStored).compose(changes -> {
            checkedAt = Instant.now();
            latest = changes.seq();
            changes.state().ifPresentOrElse(onState, () -> onState.accept(null));
            boolean ours = changes.state().map(s -> s.filters().equals(filters)).orElse(false);
            if (!warnedFilters && changes.state().isPresent() && !ours) {
                warnedFilters = true;
                LOG.warn("MISP mirror {}: the stored copy was pulled with other filters than ours (MISP_TO_IDS, "
                        + "MISP_PUBLISHED, warning lists): not answered from until it is pulled again with ours", name);
            }
            // a complete copy pulled with our filters is answered from; the first one even when no row changed
            // since (the pull's last step saves the state, which numbers no change)
            boolean complete = ours && changes.state().map(s -> s.lastFullSync() != null).orElse(false);
            boolean firstView = complete && !index.loaded();
            if (changes.none() && !firstView) {
                applied = Math.max(applied, changes.seq());
                return Future.succeededFuture(false);
            }
            long read = System.nanoTime();
            return worker.run(() -> {
                int byDigests = loading.size();
                if (changes.reload()) {
                    index.replace(loading, changes.upserted());
                } else {
                    index.put(changes.upserted());
                    index.remove(changes.removed());
                }
                long held = System.nanoTime();
                MirrorIndex.View built = complete ? index.next(changes.reload()) : null;
                if (changes.reload()) {
                    long done = System.nanoTime();
                    lastReload = String.format(Locale.ROOT, "read %d ms, held %d ms, indexed %d ms",
                            (read - t0) / 1_000_000, (held - read) / 1_000_000, (done - held) / 1_000_000);
                    LOG.info("MISP mirror {}: {} attributes reloaded from PostgreSQL, {} of them by their digests ({})",
                            name, index.size(), byDigests, lastReload);
                }
                return built;
            }).map(built -> {
                applied = changes.reload() ? changes.seq() : Math.max(applied, changes.seq());
                if (!changes.none()) {
                    appliedAt = Instant.now();
                    changesApplied += changes.upserted().size() + loading.size() + changes.removed().size();
                    lastLagMs = changes.lagMs() < 0 ? -1 : changes.lagMs() + (System.nanoTime() - t0) / 1_000_000;
                }
                if (built != null) {
                    index.publish(built, "postgresql");
                }
                if (changes.reload() && !changes.upserted().isEmpty()) {
                    // rows read whole (stored before their digests were, or with others): the next restart reads less
                    repository.storeDigests(name, changes.seq(), changes.upserted()).onFailure(e ->
                            LOG.info("MISP mirror {}: cannot store the digests of {} attributes: {}", name,
                                    changes.upserted().size(), e.getMessage()));
                }
                if (after >= 0 && !changes.none()) {
                    LOG.debug("MISP mirror {}: change {} applied ({} new or changed, {} removed{})", name, applied,
                            changes.upserted().size(), changes.removed().size(), changes.reload() ? ", reload" : "");
                }
                return !changes.none();
            });
        });
    }

    /**
     * A write of our own committed as number {@code seq} (already applied to the index): the index holds it, unless
     * someone else wrote in between — then the next catch-up reads both again.
     */
    void wrote(long seq) {
        if (seq >= 0 && seq == applied + 1) {
            applied = seq;
            latest = Math.max(latest, seq);
        }
    }

    /** Only {@link MirrorSync} calls this, after a clear of its own (a clear's number needs no rows read). */
    void cleared(long seq) {
        applied = seq;
        latest = Math.max(latest, seq);
    }

    /** The {@code follow} part of the mirror's status. */
    JsonObject status() {
        return new JsonObject()
                .put("change_applied", applied < 0 ? null : applied)
                .put("change_latest", latest < 0 ? null : latest)
                .put("changes_behind", applied < 0 || latest < 0 ? null : Math.max(0, latest - applied))
                .put("checked_at", checkedAt == null ? null : checkedAt.toString())
                .put("applied_at", appliedAt == null ? null : appliedAt.toString())
                .put("last_change_lag_ms", lastLagMs < 0 ? null : lastLagMs)
                .put("attributes_changed", changesApplied);
    }
}
