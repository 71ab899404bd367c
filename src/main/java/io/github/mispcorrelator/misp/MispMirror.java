package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.store.MirrorStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A local mirror of one MISP instance ({@code MISP_MIRROR=true}): its detection attributes held in memory, so that a
 * lookup makes no network call, and kept in PostgreSQL, so that a restart does not pull everything again.
 * <ul>
 *   <li><b>Initial load</b>: {@code POST /attributes/restSearch} page after page ({@code page}/{@code limit}, no
 *       {@code value}; the indicator types only; {@code to_ids}, {@code published}, {@code enforceWarninglist} as
 *       configured; with event context and tags).</li>
 *   <li><b>Incremental pulls</b> every {@code MISP_MIRROR_INTERVAL}: attributes whose {@code timestamp} is at or
 *       after the cursor (the newest attribute timestamp seen, never later than our clock when the pull started,
 *       less a minute), and — when only published events count — the attributes of events published since the last
 *       pull ({@code publish_timestamp}), whose own timestamps may be older than the cursor.</li>
 *   <li><b>Full rebuild</b> every {@code MISP_MIRROR_REBUILD}: everything again; what MISP no longer returns
 *       (deleted, unpublished, no longer {@code to_ids}: none of which moves a timestamp the cursor sees) is asked
 *       for once more by uuid — offset paging skips rows when MISP deletes during the pull — and then dropped.</li>
 * </ul>
 * The index is the one {@link FeedSource} keeps for MISP feed directories, built off the event loop (on a one-thread
 * worker) and published atomically: lookups read whichever index is current and never wait for a pull. An
 * incremental pull indexes only what it changed (a small second index that wins over the big one by uuid); the big
 * one is rebuilt by full pulls, or when the changes pile up.
 * The filters of {@link MispSettings#filter()} (tags, ages) are applied to every answer, as the live lookup does.
 * Until a complete copy is held (first start), lookups go to {@code fallback}, the live lookup layer.
 */
public final class MispMirror implements MispSource {
    private static final Logger LOG = LoggerFactory.getLogger(MispMirror.class);
    /** Incremental pulls start this much before the cursor: MISP stamps an attribute before its commit is visible. */
    static final long CURSOR_OVERLAP_SECONDS = 60;
    /** Events published up to this much before our last pull started are asked again: MISP's clock may lag ours. */
    static final long PUBLISH_OVERLAP_SECONDS = 600;
    /** Changes indexed apart from the base index, at least; beyond, the base is rebuilt. */
    static final int DELTA_LIMIT = 10_000;

    /** How the mirror pulls. */
    public record Settings(Duration interval, Duration rebuild, int pageSize, Duration pageTimeout, int retries) {
        public static Settings from(CorrelatorConfig c) {
            return new Settings(c.get(CorrelatorConfig.MISP_MIRROR_INTERVAL), c.get(CorrelatorConfig.MISP_MIRROR_REBUILD),
                    c.get(CorrelatorConfig.MISP_MIRROR_PAGE), c.get(CorrelatorConfig.MISP_MIRROR_TIMEOUT),
                    c.get(CorrelatorConfig.MISP_RETRIES));
        }
    }

    /** A pull under way, for {@code /v1/misp/status}. */
    private static final class Progress {
        final String kind;
        final Instant started = Instant.now();
        volatile int pages;
        volatile long pulled;
        volatile long changed;
        volatile long removed;
        volatile String step = "pulling";

        Progress(String kind) {
            this.kind = kind;
        }
    }

    /**
     * What lookups read: the index of the last rebuild, and the attributes changed since in a small index of their
     * own, which replaces their old versions (same uuid) in {@code base}.
     */
    record View(FeedSource base, FeedSource delta, Set<String> replaced, int attributes) {
        Map<Indicator, List<MispAttribute>> matches(List<Indicator> indicators) {
            // a FeedSource answers at once, from memory
            Map<Indicator, List<MispAttribute>> found = base.lookup(indicators).result().matches();
            if (delta == null) {
                return found;
            }
            Map<Indicator, List<MispAttribute>> changed = delta.lookup(indicators).result().matches();
            Map<Indicator, List<MispAttribute>> out = new LinkedHashMap<>();
            for (Indicator i : indicators) {
                List<MispAttribute> merged = new ArrayList<>();
                for (MispAttribute a : found.getOrDefault(i, List.of())) {
                    if (!replaced.contains(a.uuid())) {
                        merged.add(a);
                    }
                }
                merged.addAll(changed.getOrDefault(i, List.of()));
                if (!merged.isEmpty()) {
                    out.put(i, merged);
                }
            }
            return out;
        }
    }

    /** What one page brought, before it is applied. */
    private record Page(int returned, Map<String, MispAttribute> attributes, List<MispAttribute> changed, long maxTimestamp) {
    }

    private final Vertx vertx;
    private final MispClient client;
    private final MispSettings misp;
    private final Settings settings;
    private final MirrorStore store;
    private final MispSource fallback;
    private final Runnable onLoaded;
    private final WorkerExecutor worker;
    private final JsonObject pullBody;
    private final String filters;

    /** What lookups read; null until a complete copy is held. */
    private final AtomicReference<View> view = new AtomicReference<>();
    /*
     * The next three are touched only by the one start-up or pull running, step after step (each step starts when
     * the previous one's future completes), never by lookups.
     */
    /** Every attribute held, by uuid. */
    private final Map<String, MispAttribute> byUuid = new HashMap<>();
    /** Attributes new or changed since the base index was built. */
    private final Map<String, MispAttribute> delta = new HashMap<>();
    /** Whether byUuid holds changes no published view shows yet (a pull that failed half-way applied some). */
    private boolean unpublished;
    private final AtomicReference<Future<Void>> running = new AtomicReference<>();

    private volatile MirrorStore.State state;
    private volatile Progress progress;
    private volatile boolean clearFirst;
    private volatile String indexFrom;
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile long lastDurationMs = -1;
    private volatile boolean closed;
    private long timer = -1;

    private final Counter localLookups;
    private final Counter fallbackLookups;
    private final Counter pagesPulled;
    private final MeterRegistry registry;

    /**
     * @param fallback answers lookups until the mirror holds a complete copy (the live lookup layer), or null to
     *                 answer them with an error meanwhile
     * @param onLoaded called when the first complete copy is in place (alerts that waited can be checked again)
     */
    public MispMirror(Vertx vertx, MispClient client, MispSettings misp, Settings settings, MirrorStore store,
                      MispSource fallback, MeterRegistry registry, Runnable onLoaded) {
        this.vertx = vertx;
        this.client = client;
        this.misp = misp;
        this.settings = settings;
        this.store = store;
        this.fallback = fallback;
        this.onLoaded = onLoaded == null ? () -> { } : onLoaded;
        this.registry = registry;
        // parsing pages, comparing and building the index: CPU work, one at a time, never on an event loop
        this.worker = vertx.createSharedWorkerExecutor("misp-mirror", 1, 30, TimeUnit.MINUTES);
        this.pullBody = pullBody(misp);
        this.filters = pullBody.encode();
        String instance = name();
        this.localLookups = Counter.builder("misp_mirror_lookups").tag("instance", instance).tag("answered_by", "mirror")
                .description("Lookups answered by the local mirror, or by live MISP while it loads").register(registry);
        this.fallbackLookups = Counter.builder("misp_mirror_lookups").tag("instance", instance).tag("answered_by", "live")
                .register(registry);
        this.pagesPulled = Counter.builder("misp_mirror_pages").tag("instance", instance)
                .description("restSearch pages pulled by the local mirror").register(registry);
        Gauge.builder("misp_mirror_attributes", this, MispMirror::attributeCount).tag("instance", instance)
                .description("Attributes the local mirror answers from").register(registry);
        Gauge.builder("misp_mirror_lag_seconds", this, m -> m.lagSeconds() == null ? Double.NaN : m.lagSeconds())
                .tag("instance", instance).description("Seconds since the local mirror's last successful pull")
                .register(registry);
    }

    /** The body every pull starts from: the indicator types, the detection filters, event context and tags. */
    static JsonObject pullBody(MispSettings settings) {
        Set<String> types = new LinkedHashSet<>();
        for (IndicatorType t : IndicatorType.values()) {
            types.addAll(t.mispTypes());
        }
        JsonObject body = new JsonObject()
                .put("returnFormat", "json")
                .put("type", new JsonArray(List.copyOf(types)))
                .put("includeContext", true)
                .put("includeEventTags", true);
        RestSearchRequest.detectionFilters(body, settings);
        return body;
    }

    // ---- lookups --------------------------------------------------------------------------------------------------

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        if (indicators.isEmpty()) {
            return Future.succeededFuture(LookupResult.empty());
        }
        View current = view.get();
        if (current == null) {
            if (fallback != null) {
                fallbackLookups.increment();
                return fallback.lookup(indicators);
            }
            return Future.succeededFuture(LookupResult.failed(indicators,
                    "the local mirror of MISP " + name() + " is still loading"));
        }
        localLookups.increment();
        Map<Indicator, List<MispAttribute>> found = current.matches(indicators);
        Instant now = Instant.now();
        MirrorStore.State s = state;
        Instant asOf = s == null || s.lastSync() == null ? now : s.lastSync();
        Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
        Map<Indicator, Instant> at = new LinkedHashMap<>();
        for (Indicator i : indicators) {
            List<MispAttribute> attributes = found.get(i);
            if (attributes != null) {
                List<MispAttribute> kept = misp.filter().apply(i.type(), attributes, now);
                if (!kept.isEmpty()) {
                    matches.put(i, kept);
                }
            }
            // the answer is MISP's as of the last pull
            at.put(i, asOf);
        }
        return Future.succeededFuture(new LookupResult(matches, Map.of(), at));
    }

    @Override
    public String name() {
        return client.name();
    }

    @Override
    public boolean ready() {
        return view.get() != null || (fallback != null && fallback.ready());
    }

    /** Whether lookups are answered from the mirror (a complete copy is held). */
    public boolean loaded() {
        return view.get() != null;
    }

    public int attributeCount() {
        View current = view.get();
        return current == null ? 0 : current.attributes();
    }

    // ---- start, pulls ---------------------------------------------------------------------------------------------

    /**
     * Loads the copy kept in PostgreSQL (answering from it at once when it is complete and was pulled with the same
     * filters), then pulls what changed since — or everything, when no complete copy exists or a rebuild is due —
     * and every {@code MISP_MIRROR_INTERVAL} after. Returns when the copy in PostgreSQL has been read.
     */
    public Future<Void> start() {
        Promise<Void> loadedFromStore = Promise.promise();
        Future<Void> startup = store.state(name())
                .compose(found -> {
                    if (found.isPresent() && !found.get().filters().equals(filters)) {
                        LOG.info("MISP mirror {}: the pull filters changed; the stored copy is dropped and pulled again", name());
                        return store.clear(name()).map((MirrorStore.State) null);
                    }
                    return Future.succeededFuture(found.orElse(null));
                })
                .compose(this::loadStored)
                .recover(e -> {
                    LOG.warn("MISP mirror {}: cannot read the stored copy ({}); pulling everything from MISP", name(), e.getMessage());
                    failed(e);
                    // what was read is dropped, and the first pull is a full one
                    clearFirst = true;
                    state = null;
                    return Future.succeededFuture();
                })
                .onComplete(loadedFromStore);
        running.set(startup);
        loadedFromStore.future().onComplete(ar -> {
            running.set(null);
            if (closed) {
                return;
            }
            timer = vertx.setPeriodic(Math.max(1, settings.interval().toMillis()), id -> syncNow(fullDue()));
            syncNow(fullDue());
        });
        return loadedFromStore.future();
    }

    private Future<Void> loadStored(MirrorStore.State stored) {
        state = stored;
        if (stored == null) {
            return Future.succeededFuture();
        }
        long t0 = System.nanoTime();
        Map<Object, Object> pool = new HashMap<>();
        return store.load(name(), a -> {
                    MispAttribute c = compact(a, pool);
                    if (!c.uuid().isEmpty()) {
                        byUuid.put(c.uuid(), c);
                    }
                })
                .compose(n -> {
                    if (stored.lastFullSync() == null) {
                        LOG.info("MISP mirror {}: {} attributes stored by an initial load that did not finish; it goes on",
                                name(), n);
                        return Future.succeededFuture();
                    }
                    return onWorker(() -> nextView(true)).map(built -> {
                        publish(built, true, "postgresql");
                        LOG.info("MISP mirror {}: {} attributes loaded from PostgreSQL in {} ms (last pull {})", name(),
                                built.attributes(), (System.nanoTime() - t0) / 1_000_000, stored.lastSync());
                        return null;
                    });
                });
    }

    private boolean fullDue() {
        MirrorStore.State s = state;
        return s == null || s.lastFullSync() == null
                || !Instant.now().isBefore(s.lastFullSync().plus(settings.rebuild()));
    }

    /**
     * Pulls now — everything when {@code full}, what changed since the last pull otherwise — unless a pull (or the
     * start-up) already runs: then its future is returned.
     */
    public Future<Void> syncNow(boolean full) {
        if (closed) {
            return Future.failedFuture("the MISP mirror is closed");
        }
        Promise<Void> p = Promise.promise();
        if (!running.compareAndSet(null, p.future())) {
            Future<Void> current = running.get();
            return current != null ? current : syncNow(full);
        }
        p.future().onComplete(ar -> running.compareAndSet(p.future(), null));
        MirrorStore.State s = state;
        // no complete copy yet: only a full pull makes one
        sync(full || s == null || s.lastFullSync() == null).onComplete(p);
        return p.future();
    }

    private Future<Void> sync(boolean full) {
        boolean initial = view.get() == null;
        Progress p = new Progress(initial ? "initial" : full ? "full" : "incremental");
        progress = p;
        MirrorStore.State before = state;
        Instant started = p.started;
        Set<String> seen = full ? new HashSet<>() : null;
        long[] maxTimestamp = {0};

        List<JsonObject> passes = new ArrayList<>();
        if (full) {
            passes.add(pullBody);
        } else {
            long cursor = Math.max(0, before.cursor() - CURSOR_OVERLAP_SECONDS);
            passes.add(pullBody.copy().put("timestamp", Long.toString(cursor)));
            if (misp.published() && before.lastSyncStarted() != null) {
                long published = Math.max(0, before.lastSyncStarted().getEpochSecond() - PUBLISH_OVERLAP_SECONDS);
                passes.add(pullBody.copy().put("publish_timestamp", Long.toString(published)));
            }
        }
        Future<Void> chain = Future.succeededFuture();
        if (clearFirst) {
            // the stored copy could not be read: start again from nothing rather than keep rows never compared
            chain = store.clear(name()).compose(v -> onWorker(() -> {
                byUuid.clear();
                delta.clear();
                unpublished = true;
                clearFirst = false;
                return (Void) null;
            }));
        }
        for (JsonObject pass : passes) {
            chain = chain.compose(v -> pull(pass, 1, p, seen, maxTimestamp));
        }
        if (full) {
            chain = chain.compose(v -> removeUnseen(seen, p));
        }
        return chain
                .compose(v -> {
                    p.step = "indexing";
                    return onWorker(() -> nextView(full));
                })
                .compose(built -> {
                    Instant now = Instant.now();
                    long previous = before == null ? 0 : before.cursor();
                    long cursor = Math.max(previous, Math.min(maxTimestamp[0], started.getEpochSecond()));
                    int count = built != null ? built.attributes() : attributeCount();
                    MirrorStore.State next = new MirrorStore.State(filters, cursor, started, now,
                            full ? now : before.lastFullSync(), count);
                    p.step = "saving";
                    return store.saveState(name(), next).map(v -> {
                        state = next;
                        if (built != null) {
                            publish(built, built.delta() == null, "misp");
                        }
                        return next;
                    });
                })
                .<Void>map(next -> {
                    lastDurationMs = Duration.between(started, Instant.now()).toMillis();
                    lastError = null;
                    Counter.builder("misp_mirror_syncs").tag("instance", name()).tag("kind", p.kind).tag("outcome", "ok")
                            .description("Pulls of the local mirror").register(registry).increment();
                    LOG.info("MISP mirror {}: {} pull done in {} ms: {} pages, {} attributes returned, {} new or changed, "
                                    + "{} removed; {} held", name(), p.kind, lastDurationMs, p.pages, p.pulled, p.changed,
                            p.removed, next.attributes());
                    return null;
                })
                .onFailure(e -> {
                    failed(e);
                    Counter.builder("misp_mirror_syncs").tag("instance", name()).tag("kind", p.kind).tag("outcome", "failed")
                            .register(registry).increment();
                    LOG.warn("MISP mirror {}: {} pull failed after {} pages: {}", name(), p.kind, p.pages, e.getMessage());
                })
                .eventually(() -> {
                    progress = null;
                    return Future.succeededFuture();
                });
    }

    private void failed(Throwable e) {
        lastError = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        lastErrorAt = Instant.now();
    }

    /** One page, stored, then applied; then the next, until MISP returns a short page. */
    private Future<Void> pull(JsonObject pass, int pageNo, Progress p, Set<String> seen, long[] maxTimestamp) {
        if (closed) {
            return Future.failedFuture("the MISP mirror is closed");
        }
        JsonObject body = pass.copy().put("page", pageNo).put("limit", settings.pageSize());
        return fetch(body, 0)
                .compose(buffer -> onWorker(() -> page(buffer)))
                .compose(page -> store.upsert(name(), page.changed()).map(page))
                .compose(page -> onWorker(() -> {
                    apply(page.changed());
                    if (seen != null) {
                        seen.addAll(page.attributes().keySet());
                    }
                    return page;
                }))
                .compose(page -> {
                    p.pages++;
                    p.pulled += page.returned();
                    p.changed += page.changed().size();
                    pagesPulled.increment();
                    maxTimestamp[0] = Math.max(maxTimestamp[0], page.maxTimestamp());
                    if (page.returned() < settings.pageSize()) {
                        return Future.succeededFuture();
                    }
                    return pull(pass, pageNo + 1, p, seen, maxTimestamp);
                });
    }

    /** A page request, retried with back-off on timeouts, 5xx and 429 (as MISP asks, at most an interval). */
    private Future<Buffer> fetch(JsonObject body, int attempt) {
        return client.searchPage(body, settings.pageTimeout()).recover(e -> {
            if (closed || !(e instanceof MispException m) || !m.retryable() || attempt >= settings.retries()) {
                return Future.failedFuture(e);
            }
            long delayMs = m.retryAfter() != null
                    ? Math.min(m.retryAfter().toMillis(), settings.interval().toMillis())
                    : (1000L << Math.min(attempt, 6)) / 2 + ThreadLocalRandom.current().nextLong(1000L << Math.min(attempt, 6));
            LOG.info("MISP mirror {}: page {} failed ({}); again in {} ms", name(), body.getInteger("page"), e.getMessage(), delayMs);
            Promise<Buffer> again = Promise.promise();
            vertx.setTimer(Math.max(1, delayMs), id -> fetch(body, attempt + 1).onComplete(again));
            return again.future();
        });
    }

    /** Parses a page and compares it with what is held (worker thread). */
    private Page page(Buffer buffer) {
        JsonNode root;
        try {
            root = AlertParser.MAPPER.readTree(buffer.getBytes());
        } catch (IOException e) {
            throw new MispException("MISP answered 200 with a body that is not JSON", true, null);
        }
        if (root == null || root.isMissingNode()) {
            throw new MispException("MISP answered 200 with an empty body", true, null);
        }
        List<MispAttribute> attributes;
        try {
            attributes = MispJson.restSearchAttributes(root, name());
        } catch (IllegalArgumentException e) {
            throw new MispException("MISP answered 200 but not with a restSearch result: " + e.getMessage(), false, null);
        }
        Map<Object, Object> pool = new HashMap<>();
        Map<String, MispAttribute> byKey = new LinkedHashMap<>();
        List<MispAttribute> changed = new ArrayList<>();
        long max = 0;
        for (MispAttribute raw : attributes) {
            max = Math.max(max, raw.timestamp());
            // attributes without a uuid cannot be followed, and those no indicator can match are of no use here
            if (raw.uuid().isEmpty() || (misp.toIds() && !raw.toIds()) || !AttributeMatcher.matchable(raw)) {
                continue;
            }
            MispAttribute a = compact(raw, pool);
            byKey.put(a.uuid(), a);
        }
        for (MispAttribute a : byKey.values()) {
            if (!a.equals(byUuid.get(a.uuid()))) {
                changed.add(a);
            }
        }
        return new Page(attributes.size(), byKey, changed, max);
    }

    /**
     * After a full pull: what MISP did not return is asked for once more by uuid (offset paging skips rows when
     * MISP deletes some during the pull), and what is still missing is dropped.
     */
    private Future<Void> removeUnseen(Set<String> seen, Progress p) {
        p.step = "removing";
        return onWorker(() -> {
            List<String> missing = new ArrayList<>();
            for (String uuid : byUuid.keySet()) {
                if (!seen.contains(uuid)) {
                    missing.add(uuid);
                }
            }
            return missing;
        }).compose(missing -> confirm(missing, 0, seen))
                .compose(gone -> {
                    if (gone.isEmpty()) {
                        return Future.succeededFuture();
                    }
                    return store.delete(name(), gone).compose(v -> onWorker(() -> {
                        gone.forEach(byUuid::remove);
                        gone.forEach(delta::remove);
                        p.removed += gone.size();
                        unpublished = true;
                        return (Void) null;
                    }));
                });
    }

    /** Asks MISP for the missing uuids, a page at a time; answers those it still does not return. */
    private Future<List<String>> confirm(List<String> missing, int from, Set<String> seen) {
        if (from >= missing.size()) {
            return onWorker(() -> missing.stream().filter(u -> !seen.contains(u)).toList());
        }
        List<String> chunk = missing.subList(from, Math.min(missing.size(), from + settings.pageSize()));
        JsonObject body = pullBody.copy().put("uuid", new JsonArray(new ArrayList<>(chunk)))
                .put("page", 1).put("limit", settings.pageSize());
        return fetch(body, 0)
                .compose(buffer -> onWorker(() -> page(buffer)))
                .compose(page -> store.upsert(name(), page.changed()).map(page))
                .compose(page -> onWorker(() -> {
                    apply(page.changed());
                    seen.addAll(page.attributes().keySet());
                    return null;
                }))
                .compose(v -> confirm(missing, from + chunk.size(), seen));
    }

    /** Takes in attributes that are now stored (worker thread). */
    private void apply(List<MispAttribute> changed) {
        for (MispAttribute a : changed) {
            byUuid.put(a.uuid(), a);
            delta.put(a.uuid(), a);
        }
        unpublished |= !changed.isEmpty();
    }

    /**
     * The view to publish after a load or pull, or null when lookups see everything held already (worker thread).
     * The base index is rebuilt on {@code rebuild} (full pulls), when there is none yet, and when the changes since
     * its build outgrow {@link #DELTA_LIMIT} or a twentieth of the attributes; otherwise only the changes are indexed.
     */
    private View nextView(boolean rebuild) {
        View current = view.get();
        if (current != null && !unpublished && (!rebuild || delta.isEmpty())) {
            return null;
        }
        if (rebuild || current == null || delta.size() > Math.max(DELTA_LIMIT, byUuid.size() / 20)) {
            return new View(index(name(), byUuid), null, Set.of(), byUuid.size());
        }
        Map<Object, Object> pool = new HashMap<>();
        List<MispAttribute> changed = new ArrayList<>(delta.size());
        delta.values().forEach(a -> changed.add(compact(a, pool)));
        return new View(current.base(), FeedSource.of(name(), changed), Set.copyOf(delta.keySet()), byUuid.size());
    }

    /** The index over {@code byUuid}, whose attributes are compacted in place first. */
    static FeedSource index(String name, Map<String, MispAttribute> byUuid) {
        Map<Object, Object> pool = new HashMap<>();
        byUuid.replaceAll((uuid, a) -> compact(a, pool));
        return FeedSource.of(name, new ArrayList<>(byUuid.values()));
    }

    /** Makes lookups read {@code built}; the last step of a load or pull, which nothing runs alongside. */
    private void publish(View built, boolean rebuilt, String from) {
        if (rebuilt) {
            // the base now holds every change
            delta.clear();
        }
        unpublished = false;
        boolean first = view.getAndSet(built) == null;
        indexFrom = from;
        if (first) {
            LOG.info("MISP mirror {}: lookups are answered locally ({} attributes)", name(), built.attributes());
            onLoaded.run();
        }
    }

    private <T> Future<T> onWorker(Callable<T> work) {
        return worker.executeBlocking(work, true);
    }

    /**
     * The same attribute with the strings its event shares with its other attributes (event uuid, info, tags…)
     * taken from {@code pool}: a million attributes hold each event's strings once. Unchanged when already shared.
     */
    static MispAttribute compact(MispAttribute a, Map<Object, Object> pool) {
        String eventId = shared(pool, a.eventId());
        String eventUuid = shared(pool, a.eventUuid());
        String eventInfo = shared(pool, a.eventInfo());
        String type = shared(pool, a.type());
        String category = shared(pool, a.category());
        String instance = shared(pool, a.instance());
        List<String> tags = a.tags().isEmpty() ? List.of() : shared(pool, a.tags());
        if (eventId == a.eventId() && eventUuid == a.eventUuid() && eventInfo == a.eventInfo() && type == a.type()
                && category == a.category() && instance == a.instance() && tags == a.tags()) {
            return a;
        }
        return new MispAttribute(a.id(), a.uuid(), eventId, eventUuid, eventInfo, type, category, a.value(), a.toIds(),
                a.threatLevel(), tags, a.timestamp(), instance);
    }

    @SuppressWarnings("unchecked")
    private static <T> T shared(Map<Object, Object> pool, T value) {
        if (value == null) {
            return null;
        }
        return (T) pool.computeIfAbsent(value, v -> v);
    }

    // ---- status ---------------------------------------------------------------------------------------------------

    /** Seconds since the last successful pull ended, or null when none has. */
    public Long lagSeconds() {
        MirrorStore.State s = state;
        return s == null || s.lastSync() == null ? null : Duration.between(s.lastSync(), Instant.now()).toSeconds();
    }

    /** This mirror's part of {@code GET /v1/misp/status}. */
    public JsonObject status() {
        MirrorStore.State s = state;
        Progress p = progress;
        JsonObject sync = new JsonObject().put("in_progress", p != null);
        if (p != null) {
            sync.put("kind", p.kind).put("step", p.step).put("started", p.started.toString()).put("pages_done", p.pages)
                    .put("attributes_pulled", p.pulled).put("new_or_changed", p.changed).put("removed", p.removed);
        }
        Instant nextFull = s == null || s.lastFullSync() == null ? null : s.lastFullSync().plus(settings.rebuild());
        return new JsonObject()
                .put("instance", name())
                .put("mode", "mirror")
                .put("loaded", loaded())
                .put("answered_by", loaded() ? "mirror" : fallback != null ? "live MISP until the mirror is loaded" : "none")
                .put("index_from", indexFrom)
                .put("attributes", attributeCount())
                .put("last_sync", s == null || s.lastSync() == null ? null : s.lastSync().toString())
                .put("last_full_sync", s == null || s.lastFullSync() == null ? null : s.lastFullSync().toString())
                .put("lag_seconds", lagSeconds())
                .put("cursor", s == null ? null : s.cursor())
                .put("next_full_sync", nextFull == null ? null : nextFull.toString())
                .put("interval_seconds", settings.interval().toSeconds())
                .put("last_sync_duration_ms", lastDurationMs < 0 ? null : lastDurationMs)
                .put("sync", sync)
                .put("last_error", lastError)
                .put("last_error_at", lastErrorAt == null ? null : lastErrorAt.toString());
    }

    /**
     * {@code GET /v1/misp/status}: with mirrors, each one's state and progress; otherwise how lookups are answered
     * (live MISP, or a feed directory and its attribute count).
     */
    public static JsonObject status(MispSource source, List<MispMirror> mirrors) {
        JsonArray instances = new JsonArray();
        String mode;
        if (!mirrors.isEmpty()) {
            mode = "mirror";
            mirrors.forEach(m -> instances.add(m.status()));
        } else if (source instanceof FeedSource feed) {
            mode = "feed";
            instances.add(new JsonObject().put("instance", feed.name()).put("mode", "feed")
                    .put("attributes", feed.attributeCount()));
        } else {
            mode = "live";
            for (String name : source.name().split(",")) {
                instances.add(new JsonObject().put("instance", name).put("mode", "live"));
            }
        }
        return new JsonObject().put("mode", mode).put("ready", source.ready()).put("instances", instances);
    }

    @Override
    public Future<Void> close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        worker.close();
        return fallback != null ? fallback.close() : client.close();
    }
}
