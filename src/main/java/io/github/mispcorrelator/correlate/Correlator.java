package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.LookupResult;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.store.HitStore;
import io.github.mispcorrelator.store.Origin;
import io.github.mispcorrelator.store.RecheckQueue;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One alert through the whole flow: extract indicators (DRL), look them up (MISP or feed), score the hits (DRL),
 * store them, and build the events for Wazuh. The returned future completes only once the hits are committed.
 */
public final class Correlator {
    private final Supplier<RuleSet> rules;
    private final MispSource misp;
    private final HitStore store;

    private final RecheckQueue recheck;
    private volatile java.util.function.Consumer<List<Hit>> onStored = hits -> { };
    private volatile io.github.mispcorrelator.store.ObservationIndex observations;

    /** Records every extracted indicator (hit or not, allow-listed ones excepted) in the observation index. */
    public Correlator observing(io.github.mispcorrelator.store.ObservationIndex index) {
        this.observations = index;
        return this;
    }

    private volatile boolean parentDomains;
    private volatile io.github.mispcorrelator.coverage.RecentAlerts recent;

    /** Keeps each live alert in {@code recent}, for the blind-spot report ({@code GET /v1/coverage}). */
    public Correlator keepRecent(io.github.mispcorrelator.coverage.RecentAlerts recent) {
        this.recent = recent;
        return this;
    }

    /** {@code MISP_MATCH_PARENT_DOMAINS}: a domain indicator also matches attributes of its parent domains. */
    public Correlator matchParentDomains(boolean enabled) {
        this.parentDomains = enabled;
        return this;
    }

    /** Called with the hits of each alert once they are committed (e.g. to report sightings); must not block. */
    public Correlator onHitsStored(java.util.function.Consumer<List<Hit>> listener) {
        this.onStored = listener;
        return this;
    }

    public Correlator(Supplier<RuleSet> rules, MispSource misp, HitStore store) {
        this(rules, misp, store, null);
    }

    /** @param recheck where alerts with unchecked values wait for MISP to answer again, or null */
    public Correlator(Supplier<RuleSet> rules, MispSource misp, HitStore store, RecheckQueue recheck) {
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
        io.github.mispcorrelator.coverage.RecentAlerts keep = recent;
        if (keep != null && origin == Origin.LIVE) {
            keep.add(alert);
        }
        return evaluate(alert, misp, origin, true);
    }

    /** The whole flow again for an alert whose values MISP could not check: its observations are recorded already. */
    public Future<Correlation> recheck(Alert alert) {
        return evaluate(alert, misp, Origin.LIVE, false);
    }

    /**
     * Rules and lookup only: what the alert would give, with nothing stored and nothing sent (rule testing).
     *
     * @param source where to look indicators up: the configured MISP, or a test case's own attributes
     */
    public Future<Correlation> dryRun(Alert alert, MispSource source) {
        return evaluate(alert, source, null, false);
    }

    /**
     * @param origin  where the hits are stored as coming from; {@code null} stores nothing
     * @param observe whether the alert's indicators go to the observation index
     */
    private Future<Correlation> evaluate(Alert alert, MispSource source, Origin origin, boolean observe) {
        // one rule set for the whole alert, even if a reload swaps it meanwhile; the lease keeps it alive
        RuleSet ruleSet;
        do {
            ruleSet = rules.get();
        } while (!ruleSet.acquire());
        RuleSet leased = ruleSet;
        Future<Correlation> running;
        try {
            running = run(alert, leased, source, origin, observe);
        } catch (RuntimeException | StackOverflowError e) {
            // a rule or a lookup that throws synchronously must still give the lease back and fail this alert only
            leased.release();
            return Future.failedFuture(e instanceof StackOverflowError
                    ? new io.github.mispcorrelator.rules.RuleExecutionException("a rule overflowed the stack on this alert")
                    : e);
        }
        return running.onComplete(ar -> leased.release())
                .recover(e -> e instanceof io.github.mispcorrelator.rules.RuleExecutionException
                        // a rule's bug on this alert fails this alert only, and says so to the SOC: not a 5xx
                        ? Future.succeededFuture(ruleFailed(alert, leased.version(), e.getMessage()))
                        : Future.failedFuture(e));
    }

    /** The answer for an alert a rule failed on: nothing found, nothing stored, one error event naming the rule. */
    private static Correlation ruleFailed(Alert alert, String version, String message) {
        return new Correlation(alert, List.of(), Set.of(), Set.of(), List.of(), Map.of(),
                List.of(WazuhEvents.ruleError(alert, message, version)), version, List.of());
    }

    private Future<Correlation> run(Alert alert, RuleSet ruleSet, MispSource source, Origin origin, boolean observe) {
        RuleSet.ExtractionResult extracted;
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
                ? io.github.mispcorrelator.misp.ParentDomains.lookup(source, indicators) : source.lookup(indicators);
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
                    events(alert, hits, result, version), version, List.of());
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
                    .anyMatch(e -> !e.contains(io.github.mispcorrelator.misp.RestSearchRequest.UNCHECKED_PREFIX))) {
                // the hits MISP did answer are stored; the rest waits for MISP to come back
                String reason = result.errors().values().iterator().next();
                saved = saved.compose(fresh -> recheck.add(alert, reason).map(fresh));
            }
            return saved.map(c::withNewHits);
        });
    }

    private void observe(Alert alert, RuleSet ruleSet, List<Indicator> indicators) {
        io.github.mispcorrelator.store.ObservationIndex index = observations;
        if (index == null || indicators.isEmpty()) {
            return;
        }
        // allow-listed values are known-good: never kept (non-global addresses never became indicators)
        var lists = ruleSet.allowLists();
        List<Indicator> kept = new ArrayList<>(indicators.size());
        for (Indicator i : indicators) {
            if (!lists.containsAny(i)) {
                kept.add(i);
            }
        }
        index.record(alert, kept);
    }

    /** One hit per matching attribute of each indicator. */
    public static List<Hit> hits(Alert alert, LookupResult result) {
        List<Hit> hits = new ArrayList<>();
        java.time.Instant now = java.time.Instant.now();
        for (Map.Entry<Indicator, List<MispAttribute>> e : result.matches().entrySet()) {
            java.time.Instant at = result.answeredAt().getOrDefault(e.getKey(), now);
            for (MispAttribute a : e.getValue()) {
                hits.add(new Hit(alert, e.getKey(), a).lookedUpAt(at));
            }
        }
        return hits;
    }

    private static List<JsonObject> events(Alert alert, List<Hit> hits, LookupResult result, String version) {
        List<JsonObject> events = new ArrayList<>();
        hits.stream().filter(h -> !h.isSuppressed()).forEach(h -> events.add(WazuhEvents.hit(alert, h, version)));
        result.errors().forEach((indicator, error) -> events.add(WazuhEvents.error(alert, indicator, error, version)));
        return events;
    }

    public MispSource misp() {
        return misp;
    }
}
