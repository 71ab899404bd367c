package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.LookupResult;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.misp.ParentDomains;
import io.github.mispcorrelator.misp.RestSearchRequest;
import io.vertx.core.Future;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One alert through the whole flow: extract indicators (DRL), look them up (MISP or feed), score the hits (DRL),
 * store them. The returned future completes only once the hits are committed; the events for Wazuh are built from
 * the {@link Correlation} by whoever delivers them ({@link EventSink}). Everything it needs from rules, store and
 * re-check queue it reaches through the ports of this package ({@link Rules}, {@link HitStore},
 * {@link UncheckedAlerts}, {@link Observations}), so those packages depend on this one and not the reverse.
 */
public final class Correlator {
    private final Supplier<? extends Rules> rules;
    private final MispSource misp;
    private final HitStore store;

    private final UncheckedAlerts recheck;
    private volatile Consumer<List<Hit>> onStored = hits -> { };
    private volatile Observations observations;

    /** Records every extracted indicator (hit or not, allow-listed ones excepted) in the observation index. */
    public Correlator observing(Observations index) {
        this.observations = index;
        return this;
    }

    private volatile boolean parentDomains;
    private volatile Consumer<Alert> recent;

    /** Hands each live alert to {@code recent}, for the blind-spot report ({@code GET /v1/coverage}). */
    public Correlator keepRecent(Consumer<Alert> recent) {
        this.recent = recent;
        return this;
    }

    /** {@code MISP_MATCH_PARENT_DOMAINS}: a domain indicator also matches attributes of its parent domains. */
    public Correlator matchParentDomains(boolean enabled) {
        this.parentDomains = enabled;
        return this;
    }

    /** Called with the hits of each alert once they are committed (e.g. to report sightings); must not block. */
    public Correlator onHitsStored(Consumer<List<Hit>> listener) {
        this.onStored = listener;
        return this;
    }

    public Correlator(Supplier<? extends Rules> rules, MispSource misp, HitStore store) {
        this(rules, misp, store, null);
    }

    /** @param recheck where alerts with unchecked values wait for MISP to answer again, or null */
    public Correlator(Supplier<? extends Rules> rules, MispSource misp, HitStore store, UncheckedAlerts recheck) {
        this.rules = rules;
        this.misp = misp;
        this.store = store;
        this.recheck = recheck;
    }

    /** The whole flow for a live alert; completes once the alert's hits are committed. */
    public Future<Correlation> process(Alert alert) {
        return process(alert, Origin.LIVE);
    }

    /** The whole flow; {@link Origin#RETRO_HUNT} marks hits found re-checking archived alerts. */
    public Future<Correlation> process(Alert alert, Origin origin) {
        Consumer<Alert> keep = recent;
        if (keep != null && origin == Origin.LIVE) {
            keep.accept(alert);
        }
        return evaluate(alert, misp, origin, true, false);
    }

    /**
     * The whole flow again for an alert whose values MISP could not check: its observations are recorded already, and
     * its events are those of the hits new now (the first pass's went to Wazuh with that answer).
     */
    public Future<Correlation> recheck(Alert alert) {
        return evaluate(alert, misp, Origin.LIVE, false, true);
    }

    /**
     * Rules and lookup only: what the alert would give, with nothing stored and nothing sent (rule testing).
     *
     * @param source where to look indicators up: the configured MISP, or a test case's own attributes
     */
    public Future<Correlation> dryRun(Alert alert, MispSource source) {
        return evaluate(alert, source, null, false, false);
    }

    /**
     * @param origin  where the hits are stored as coming from; {@code null} stores nothing
     * @param observe whether the alert's indicators go to the observation index
     * @param newOnly whether the events are only those of the hits the store found new (a re-check)
     */
    private Future<Correlation> evaluate(Alert alert, MispSource source, Origin origin, boolean observe,
                                         boolean newOnly) {
        // one rule set for the whole alert, even if a reload swaps it meanwhile; the lease keeps it alive
        Rules ruleSet;
        do {
            ruleSet = rules.get();
        } while (!ruleSet.acquire());
        Rules leased = ruleSet;
        Future<Correlation> running;
        try {
            running = run(alert, leased, source, origin, observe, newOnly);
        } catch (RuntimeException | StackOverflowError e) {
            // a rule or a lookup that throws synchronously must still give the lease back and fail this alert only
            leased.release();
            return Future.failedFuture(e instanceof StackOverflowError
                    ? new RuleFailure("a rule overflowed the stack on this alert")
                    : e);
        }
        return running.onComplete(ar -> leased.release())
                .recover(e -> e instanceof RuleFailure
                        // a rule's bug on this alert fails this alert only, and says so to the SOC: not a 5xx
                        ? Future.succeededFuture(ruleFailed(alert, leased.version(), e.getMessage()))
                        : Future.failedFuture(e));
    }

    /** The answer for an alert a rule failed on: nothing found, nothing stored, one error event naming the rule. */
    private static Correlation ruleFailed(Alert alert, String version, String message) {
        return new Correlation(alert, List.of(), Set.of(), Set.of(), List.of(), Map.of(), message, version, List.of(),
                false);
    }

    private Future<Correlation> run(Alert alert, Rules ruleSet, MispSource source, Origin origin, boolean observe,
                                    boolean newOnly) {
        Rules.Extracted extracted;
        try {
            extracted = ruleSet.extract(alert);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        List<Indicator> indicators = extracted.indicators();
        if (observe && origin != null) {
            observe(alert, ruleSet, indicators);
        }
        Future<LookupResult> lookup = parentDomains
                ? ParentDomains.lookup(source, indicators) : source.lookup(indicators);
        return lookup.compose(result -> {
            List<Hit> hits = hits(alert, result);
            Set<String> scoring;
            try {
                scoring = ruleSet.score(hits);
            } catch (RuntimeException e) {
                return Future.failedFuture(e);
            }
            String version = ruleSet.version();
            Correlation c = new Correlation(alert, indicators, extracted.firedRules(), scoring, hits, result.errors(),
                    null, version, List.of(), newOnly);
            if (origin == null) {
                return Future.succeededFuture(c);
            }
            Future<List<Hit>> saved = store.save(alert, hits, version, origin)
                    .onSuccess(fresh -> {
                        if (!fresh.isEmpty()) {
                            onStored.accept(fresh);
                        }
                    });
            if (recheck != null && result.errors().values().stream()
                    .anyMatch(e -> !e.contains(RestSearchRequest.UNCHECKED_PREFIX))) {
                // the hits MISP did answer are stored; the rest waits for MISP to come back
                String reason = result.errors().values().iterator().next();
                saved = saved.compose(fresh -> recheck.add(alert, reason).map(fresh));
            }
            return saved.map(c::withNewHits);
        });
    }

    private void observe(Alert alert, Rules ruleSet, List<Indicator> indicators) {
        Observations index = observations;
        if (index == null || indicators.isEmpty()) {
            return;
        }
        // allow-listed values are known-good: never kept (non-global addresses never became indicators)
        List<Indicator> kept = new ArrayList<>(indicators.size());
        for (Indicator i : indicators) {
            if (!ruleSet.allowListed(i)) {
                kept.add(i);
            }
        }
        index.record(alert, kept);
    }

    /** One hit per matching attribute of each indicator. */
    public static List<Hit> hits(Alert alert, LookupResult result) {
        List<Hit> hits = new ArrayList<>();
        Instant now = Instant.now();
        for (Map.Entry<Indicator, List<MispAttribute>> e : result.matches().entrySet()) {
            Instant at = result.answeredAt().getOrDefault(e.getKey(), now);
            for (MispAttribute a : e.getValue()) {
                hits.add(new Hit(alert, e.getKey(), a).lookedUpAt(at));
            }
        }
        return hits;
    }

    public MispSource misp() {
        return misp;
    }
}
