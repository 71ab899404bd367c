package io.github.mispcorrelator.lookback;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.misp.AttributeFilter;
import io.github.mispcorrelator.misp.AttributeListener;
import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.correlate.HitStore;
import io.github.mispcorrelator.store.ObservationIndex;
import io.github.mispcorrelator.store.ObservationStore;
import io.github.mispcorrelator.store.ObservationStore.Sighting;
import io.github.mispcorrelator.store.ObservationStore.StoredHit;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.EventSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The look-back: when MISP gains or changes attributes, their values are joined with the observation index, and every
 * agent that saw one of them within {@code LOOKBACK_DAYS} becomes a hit with origin {@code look-back}: scored by the
 * same DRL (the hit carries the age of the sighting, {@link Hit#getSightingAgeDays}), stored idempotently (the hits
 * unique key, and no hit where one is stored already for the same value, attribute and agent), and sent to Wazuh as a
 * retrospective event (Wazuh rule 100650) through the event sink (analysisd's socket) when one is configured.
 * <p>
 * One hit per attribute and agent: its alert is a summary of that agent's sightings (the first alert id, the first
 * and last seen), kept as the hit's {@code alert} column. Runs are queued and run one at a time, on a worker of
 * their own, so a large first mirror load never holds an event loop or the JDBC workers of the live pipeline.
 */
public final class LookBack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LookBack.class);
    /** The field and rule a look-back hit names: it comes from the index, not from one alert field. */
    public static final String FIELD = "observations";
    public static final String RULE = "look-back";
    /** Values per join: one statement's arrays stay small enough for one round trip. */
    static final int KEYS_PER_JOIN = 50_000;
    private static final DateTimeFormatter WAZUH_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXX");

    /** What one run found. */
    public record Result(int attributes, int sightings, int stored, int sent) {
        static final Result NOTHING = new Result(0, 0, 0, 0);
    }

    /** One synthetic alert (an agent's sightings of a value) and its hits, scored. */
    private record Found(Alert alert, List<Hit> hits, String ruleset) {
    }

    private final ObservationIndex index;
    private final Supplier<RuleSet> rules;
    private final HitStore hits;
    private final EventSink sink;
    private final WorkerExecutor worker;
    private Future<Result> last = Future.succeededFuture(Result.NOTHING);
    private long found;

    /** @param sink where retrospective events go, or null to store the hits only */
    public LookBack(Vertx vertx, ObservationIndex index, Supplier<RuleSet> rules, HitStore hits, EventSink sink) {
        this.index = index;
        this.rules = rules;
        this.hits = hits;
        this.sink = sink == null ? EventSink.NONE : sink;
        // joins and scoring of up to a whole MISP: long, CPU and I/O, one at a time
        this.worker = vertx.createSharedWorkerExecutor("look-back", 1, 30, TimeUnit.MINUTES);
    }

    /** For a MISP source: each batch of attributes it gained or changed is looked back at (queued, never blocking). */
    public AttributeListener listener(AttributeFilter filter) {
        return attributes -> {
            if (!attributes.isEmpty()) {
                run(List.copyOf(attributes), filter);
            }
        };
    }

    /** Joins these attributes with the index once the runs before it are done; completes when the events are sent. */
    public synchronized Future<Result> run(List<MispAttribute> attributes, AttributeFilter filter) {
        Future<Result> next = last.transform(ar -> runNow(attributes, filter));
        last = next;
        return next;
    }

    private Future<Result> runNow(List<MispAttribute> attributes, AttributeFilter filter) {
        long t0 = System.nanoTime();
        int[] sightings = {0};
        // everything but the inserts on the look-back's own worker: a mirror page holds thousands of attributes
        return worker.executeBlocking(() -> {
                    Instant now = Instant.now();
                    Map<String, List<MispAttribute>> byKey = keys(attributes, filter, now);
                    if (byKey.isEmpty()) {
                        return List.<Found>of();
                    }
                    List<Sighting> seen = join(byKey);
                    sightings[0] = seen.size();
                    return seen.isEmpty() ? List.<Found>of() : score(seen, byKey, now);
                }, true)
                .compose(this::storeAndSend)
                .map(stored -> {
                    Result r = new Result(attributes.size(), sightings[0], stored[0], stored[1]);
                    if (r.stored() > 0 || r.sightings() > 0) {
                        LOG.info("Look-back: {} attribute(s) joined with the observation index in {} ms: {} agent "
                                        + "sighting(s), {} new hit(s), {} event(s) sent", r.attributes(),
                                (System.nanoTime() - t0) / 1_000_000, r.sightings(), r.stored(), r.sent());
                    }
                    synchronized (this) {
                        found += r.stored();
                    }
                    return r;
                })
                .onFailure(e -> LOG.warn("Look-back of {} attribute(s) failed: {}", attributes.size(), e.getMessage()));
    }

    /** The attributes by the {@code type:value} keys they can match, as lookups match them. */
    static Map<String, List<MispAttribute>> keys(List<MispAttribute> attributes, AttributeFilter filter, Instant now) {
        Map<String, List<MispAttribute>> byKey = new HashMap<>();
        for (MispAttribute a : attributes) {
            for (String key : AttributeMatcher.keys(a)) {
                IndicatorType type = IndicatorType.of(key.substring(0, key.indexOf(':'))).orElse(null);
                // the filters a live lookup applies (tags, age) apply here too
                if (type != null && filter.accepts(type, a, now)) {
                    byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(a);
                }
            }
        }
        return byKey;
    }

    private List<Sighting> join(Map<String, List<MispAttribute>> byKey) throws SQLException {
        ObservationStore store = index.store();
        List<String> keys = new ArrayList<>(byKey.keySet());
        List<Sighting> out = new ArrayList<>();
        for (int from = 0; from < keys.size(); from += KEYS_PER_JOIN) {
            out.addAll(store.sightingsNow(keys.subList(from, Math.min(keys.size(), from + KEYS_PER_JOIN)), index.oldestDay()));
        }
        return out;
    }

    /** Builds and scores the hits of the sightings (worker thread). */
    private List<Found> score(List<Sighting> seen, Map<String, List<MispAttribute>> byKey, Instant now)
            throws SQLException {
        Set<String> values = new HashSet<>();
        seen.forEach(s -> values.add(s.value()));
        Set<StoredHit> stored = index.store().hitsOfValuesNow(values);
        // per value: on how many agents, in how many alerts (what the SOC reads first)
        Map<String, int[]> agents = new HashMap<>();
        Map<String, long[]> alerts = new HashMap<>();
        for (Sighting s : seen) {
            agents.computeIfAbsent(s.key(), k -> new int[1])[0]++;
            alerts.computeIfAbsent(s.key(), k -> new long[1])[0] += s.alerts();
        }
        RuleSet ruleSet;
        do {
            ruleSet = rules.get();
        } while (!ruleSet.acquire());
        try {
            List<Found> out = new ArrayList<>();
            for (Sighting s : seen) {
                Alert alert = alertOf(s);
                Indicator indicator = new Indicator(IndicatorType.of(s.type()).orElseThrow(), s.value(), FIELD, RULE);
                Hit.PastSighting past = new Hit.PastSighting(s.firstSeen(), s.lastSeen(), s.alerts(), s.firstAlertId(),
                        s.lastAlertId(), agents.get(s.key())[0], alerts.get(s.key())[0], now);
                List<Hit> fresh = new ArrayList<>();
                Set<String> uuids = new HashSet<>();
                for (MispAttribute a : byKey.getOrDefault(s.key(), List.of())) {
                    if (!uuids.add(a.instance() + " " + a.uuid())
                            || stored.contains(new StoredHit(s.value(), a.uuid(), a.instance(), s.manager(), s.agentId()))) {
                        continue;
                    }
                    fresh.add(new Hit(alert, indicator, a).lookedUpAt(now).pastSighting(past));
                }
                if (!fresh.isEmpty()) {
                    ruleSet.score(fresh);
                    out.add(new Found(alert, fresh, ruleSet.version()));
                }
            }
            return out;
        } finally {
            ruleSet.release();
        }
    }

    /** Stores each agent's hits (one transaction each), then sends the events of those that were new. */
    private Future<int[]> storeAndSend(List<Found> all) {
        int[] counts = {0, 0};
        Future<Void> chain = Future.succeededFuture();
        for (Found f : all) {
            chain = chain.compose(v -> hits.save(f.alert(), f.hits(), f.ruleset(), Origin.LOOK_BACK))
                    .compose(fresh -> {
                        counts[0] += fresh.size();
                        // the same sink and event shape as live alerts: a correlation whose new hits are these
                        // (WazuhEvents gives each its look-back fields from the hit's past sighting)
                        Correlation c = new Correlation(f.alert(), List.of(), Set.of(), Set.of(), fresh, Map.of(),
                                null, f.ruleset(), fresh, true);
                        int events = c.reportedHits().size();
                        if (events == 0) {
                            return Future.<Void>succeededFuture();
                        }
                        return sink.deliver(c).onSuccess(x -> counts[1] += events)
                                .onFailure(e -> LOG.warn("Look-back event not delivered: {}", e.getMessage()))
                                .otherwiseEmpty();
                    });
        }
        return chain.map(counts);
    }

    /**
     * The alert a look-back hit belongs to: the agent's sightings of the value, under the id of its first alert and
     * at its time, so that retries and re-runs collide on the hits unique key.
     */
    static Alert alertOf(Sighting s) {
        ObjectNode json = Json.MAPPER.createObjectNode();
        json.put("id", s.firstAlertId());
        json.put("timestamp", WAZUH_TIME.format(s.firstSeen().atOffset(ZoneOffset.UTC)));
        json.putObject("agent").put("id", s.agentId()).put("name", s.agentName());
        json.putObject("manager").put("name", s.manager());
        json.putObject("rule").put("description", "misp-correlator look-back: " + s.type() + " " + s.value()
                + " seen before MISP knew it");
        json.putObject("look_back")
                .put("first_seen", s.firstSeen().toString())
                .put("last_seen", s.lastSeen().toString())
                .put("alerts", s.alerts())
                .put("first_alert_id", s.firstAlertId())
                .put("last_alert_id", s.lastAlertId());
        return new Alert(json, s.firstAlertId());
    }

    /** Waits for the queued runs (tests). */
    public synchronized Future<Result> idle() {
        return last;
    }

    /** Hits found since start. */
    public synchronized long found() {
        return found;
    }

    @Override
    public void close() {
        worker.close();
    }
}
