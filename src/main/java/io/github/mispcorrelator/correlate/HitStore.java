package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.vertx.core.Future;

import java.util.List;

/** Where hits are kept for auditors (a port of the pipeline, implemented by {@code store.PostgresHitStore}). Implementations never block the caller's thread. */
public interface HitStore {

    /**
     * Saves all hits of one alert in one transaction (which may hold other alerts' hits too: group commit); the future
     * completes once it has committed. Hits already stored for this alert are skipped, so a retried alert adds
     * nothing. Fails with {@code store.StoreUnavailableException} when the database cannot be reached.
     *
     * @return the hits that were new (not stored before): only those are reported onward (re-checks, sightings)
     */
    Future<List<Hit>> save(Alert alert, List<Hit> hits, String rulesetVersion, Origin origin);

    /** Whether the database answers now. */
    Future<Boolean> ping();
}
