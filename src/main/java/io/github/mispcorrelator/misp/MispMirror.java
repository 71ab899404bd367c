package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *   <li><b>Initial load</b>: {@code POST /attributes/restSearch} page after page ({@code page}/{@code limit} in id
 *       order, no {@code value}; the indicator types only; {@code to_ids}, {@code published},
 *       {@code enforceWarninglist} as configured; with event context and all tags). Paging goes on while MISP's
 *       {@code X-Result-Count} says the page was full: warning lists shorten pages after the SQL LIMIT.</li>
 *   <li><b>Incremental pulls</b> every {@code MISP_MIRROR_INTERVAL}, without the {@code to_ids} and
 *       {@code published} filters and with deleted rows ({@code deleted: [0,1]}), so that what stopped qualifying
 *       comes back and is evicted: soft deletion, a {@code to_ids} edit, an attribute tag and an accepted proposal
 *       move Attribute.timestamp (app/Model/MispAttribute.php:3051-3052, 2227-2253;
 *       app/Controller/AttributesController.php:917-921); event edits (event tags, threat level) move only
 *       Event.timestamp and unpublish the event (app/Model/Event.php:6028-6052,
 *       app/Controller/EventsController.php:3951); publishing moves Event.publish_timestamp (Event.php:4805-4806).
 *       Three passes: attributes whose {@code timestamp} is at or after the cursor (the newest attribute timestamp
 *       seen, never later than our clock when the pull started, less a minute), attributes of events changed
 *       ({@code event_timestamp}) and of events published ({@code publish_timestamp}) since the last pull started
 *       (less ten minutes: MISP's clock may lag ours).</li>
 *   <li><b>Full rebuild</b> every {@code MISP_MIRROR_REBUILD}: everything again; what MISP no longer returns
 *       (e.g. hard-deleted) is asked for once more by uuid — offset paging skips rows when MISP deletes during the
 *       pull — and then dropped.</li>
 * </ul>
 * The index is the one {@link FeedSource} keeps for MISP feed directories, built off the event loop (on a one-thread
 * worker) and published atomically: lookups read whichever index is current and never wait for a pull. An
 * incremental pull indexes only what it changed (a small second index that wins over the big one by uuid); the big
 * one is rebuilt by full pulls, or when the changes pile up.
 * The filters of {@link MispSettings#filter()} (tags, ages) are applied to every answer, as the live lookup does.
 * With {@code enforceWarninglist}, MISP's enabled warning lists are pulled with every pull (the index; a list's
 * entries only when it is new or its version or entry count changed) and applied to every answer
 * ({@link Warninglists}): a list enabled or extended in MISP moves no attribute timestamp, so the pulls alone would
 * keep serving what it now covers until the next rebuild.
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
    private record Page(int returned, Integer resultCount, Map<String, MispAttribute> attributes,
                        List<MispAttribute> changed, List<String> evicted, long maxTimestamp) {
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
    private final JsonObject incrementalBody;
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
    /** Attributes removed since the base index was built (the base still holds them). */
    private final Set<String> deltaRemoved = new HashSet<>();
    /** Whether byUuid holds changes no published view shows yet (a pull that failed half-way applied some). */
    private boolean unpublished;
    private final AtomicReference<Future<Void>> running = new AtomicReference<>();
    /** Told of each page's new or changed attributes once stored (the look-back). */
    private volatile AttributeListener onChanged = AttributeListener.NONE;

    private volatile MirrorStore.State state;
    private volatile Progress progress;
    private volatile boolean clearFirst;
    private volatile String indexFrom;
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile long lastDurationMs = -1;
    private volatile boolean closed;
    private long timer = -1;
    private volatile Warninglists warninglists = Warninglists.NONE;
    private volatile Instant warninglistsPulledAt;
    /** The warning lists read so far, by MISP id with the version and entry count they were read at (pull steps only). */
    private final Map<String, Map.Entry<String, Warninglists.WarningList>> listsById = new HashMap<>();

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
        this.incrementalBody = incrementalBody(misp);
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
                .put("includeEventTags", true)
                // non-exportable tags too: the tag filters are ours (MispAttribute.php:2160, 2199)
                .put("includeAllTags", true)
                .put("order", RestSearchRequest.ORDER);
        RestSearchRequest.detectionFilters(body, settings);
        return body;
    }

    /**
     * The body of incremental passes: as {@link #pullBody} but without {@code to_ids} and {@code published}, and with
     * deleted rows (an absent {@code deleted} means {@code deleted = 0}, MispAttribute.php:1933-1940; {@code [0,1]}
     * both, Event.php:2819-2836), so a row that stopped qualifying is seen and evicted rather than skipped.
     */
    static JsonObject incrementalBody(MispSettings settings) {
        JsonObject body = pullBody(settings);
        body.remove("to_ids");
        body.remove("published");
        body.put("deleted", new JsonArray().add(0).add(1));
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
                if (misp.enforceWarninglist()) {
                    kept = warninglists.drop(kept);
                }
                if (!kept.isEmpty()) {
                    matches.put(i, kept);
                }
            }
            // the answer is MISP's as of the last pull
            at.put(i, asOf);
        }
        return Future.succeededFuture(new LookupResult(matches, Map.of(), at));
    }

    private volatile java.util.function.BooleanSupplier pullGate = () -> true;

    /** Pulls from MISP only while {@code holder} says so: the instance holding this mirror's singleton. */
    public void pullOnlyWhile(java.util.function.BooleanSupplier holder) {
        this.pullGate = holder;
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
        if (!pullGate.getAsBoolean()) { // several instances on one database: one pulls (issue 12, store/Cluster)
            return Future.succeededFuture();
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
            passes.add(incrementalBody.copy().put("timestamp", Long.toString(cursor)));
            // event edits move only Event.timestamp; publishing only publish_timestamp (attributes may be older)
            long since = before.lastSyncStarted() == null ? cursor
                    : Math.max(0, before.lastSyncStarted().getEpochSecond() - PUBLISH_OVERLAP_SECONDS);
            passes.add(incrementalBody.copy().put("event_timestamp", Long.toString(since)));
            passes.add(incrementalBody.copy().put("publish_timestamp", Long.toString(since)));
        }
        Future<Void> chain = Future.succeededFuture();
        if (clearFirst) {
            // the stored copy could not be read: start again from nothing rather than keep rows never compared
            chain = store.clear(name()).compose(v -> onWorker(() -> {
                byUuid.clear();
                delta.clear();
                deltaRemoved.clear();
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
        if (misp.enforceWarninglist()) {
            chain = chain.compose(v -> pullWarninglists(p));
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

    /**
     * MISP's enabled warning lists, for the lookups to apply; a failure (e.g. a role that may not read them) is
     * logged and the lists held so far are kept — the pull itself does not fail.
     */
    private Future<Void> pullWarninglists(Progress p) {
        p.step = "warning lists";
        return client.getJson("/warninglists/index/enabled:1", settings.pageTimeout())
                .compose(index -> {
                    Map<String, String> versions = Warninglists.versionsFromMispIndex(index);
                    Future<Void> each = Future.succeededFuture();
                    for (Map.Entry<String, String> e : versions.entrySet()) {
                        var held = listsById.get(e.getKey());
                        if (held != null && held.getKey().equals(e.getValue())) {
                            continue;
                        }
                        each = each.compose(v -> client.getJson("/warninglists/view/" + e.getKey(), settings.pageTimeout())
                                .map(view -> {
                                    listsById.put(e.getKey(), Map.entry(e.getValue(), Warninglists.fromMispView(view)));
                                    return null;
                                }));
                    }
                    return each.compose(v -> {
                        listsById.keySet().retainAll(versions.keySet());
                        List<Warninglists.WarningList> lists = new ArrayList<>();
                        listsById.values().forEach(e -> lists.add(e.getValue()));
                        return onWorker(() -> Warninglists.of(lists));
                    });
                })
                .map(built -> {
                    boolean changed = built.size() != warninglists.size() || built.entries() != warninglists.entries();
                    warninglists = built;
                    warninglistsPulledAt = Instant.now();
                    if (changed) {
                        LOG.info("MISP mirror {}: {} enabled warning lists ({} entries) applied to lookups", name(),
                                built.size(), built.entries());
                    }
                    return (Void) null;
                })
                .recover(e -> {
                    LOG.warn("MISP mirror {}: cannot read MISP's warning lists ({}); {}", name(), e.getMessage(),
                            warninglists.isEmpty() ? "lookups apply none until a pull reads them"
                                    : "the " + warninglists.size() + " lists read before are kept");
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
                .compose(answer -> onWorker(() -> page(answer)))
                .compose(page -> store.upsert(name(), page.changed()).map(page))
                .compose(page -> page.evicted().isEmpty() ? Future.succeededFuture(page)
                        : store.delete(name(), page.evicted()).map(page))
                .compose(page -> onWorker(() -> {
                    apply(page.changed());
                    evict(page.evicted());
                    if (seen != null) {
                        seen.addAll(page.attributes().keySet());
                    }
                    return page;
                }))
                .compose(page -> {
                    p.pages++;
                    p.pulled += page.returned();
                    p.changed += page.changed().size();
                    p.removed += page.evicted().size();
                    pagesPulled.increment();
                    maxTimestamp[0] = Math.max(maxTimestamp[0], page.maxTimestamp());
                    if (!RestSearchRequest.morePages(page.resultCount(), page.returned(), settings.pageSize(),
                            misp.enforceWarninglist())) {
                        return Future.succeededFuture();
                    }
                    return pull(pass, pageNo + 1, p, seen, maxTimestamp);
                });
    }

    /** A page request, retried with back-off on timeouts, 5xx and 429 (as MISP asks, at most an interval). */
    private Future<MispClient.SearchPage> fetch(JsonObject body, int attempt) {
        return client.searchPage(body, settings.pageTimeout()).recover(e -> {
            if (closed || !(e instanceof MispException m) || !m.retryable() || attempt >= settings.retries()) {
                return Future.failedFuture(e);
            }
            long delayMs = m.retryAfter() != null
                    ? Math.min(m.retryAfter().toMillis(), settings.interval().toMillis())
                    : (1000L << Math.min(attempt, 6)) / 2 + ThreadLocalRandom.current().nextLong(1000L << Math.min(attempt, 6));
            LOG.info("MISP mirror {}: page {} failed ({}); again in {} ms", name(), body.getInteger("page"), e.getMessage(), delayMs);
            Promise<MispClient.SearchPage> again = Promise.promise();
            vertx.setTimer(Math.max(1, delayMs), id -> fetch(body, attempt + 1).onComplete(again));
            return again.future();
        });
    }

    /**
     * Parses a page and compares it with what is held (worker thread): what no longer qualifies (deleted, no longer
     * {@code to_ids}, event unpublished — incremental passes ask without those filters) is to be evicted.
     */
    private Page page(MispClient.SearchPage answer) {
        JsonNode root = MispJson.restSearchTree(answer.body().getBytes());
        List<MispAttribute> attributes = MispJson.restSearchResult(root, name());
        JsonNode nodes = root.path("response").isArray() ? root.path("response") : root.path("response").path("Attribute");
        Map<Object, Object> pool = new HashMap<>();
        Map<String, MispAttribute> byKey = new LinkedHashMap<>();
        List<MispAttribute> changed = new ArrayList<>();
        Set<String> evicted = new LinkedHashSet<>();
        long max = 0;
        for (int n = 0; n < attributes.size(); n++) {
            MispAttribute raw = attributes.get(n);
            JsonNode node = nodes.path(n);
            max = Math.max(max, raw.timestamp());
            if (raw.uuid().isEmpty()) {
                // cannot be followed
                continue;
            }
            boolean qualifies = !MispJson.bool(node.path("deleted")) && (!misp.toIds() || raw.toIds())
                    && (!misp.published() || !node.path("Event").has("published") || MispJson.bool(node.path("Event").path("published")));
            // those no indicator can match (no exact key, no CIDR block) are of no use here
            if (!qualifies || !AttributeMatcher.matchable(raw)) {
                byKey.remove(raw.uuid());
                if (byUuid.containsKey(raw.uuid())) {
                    evicted.add(raw.uuid());
                }
                continue;
            }
            evicted.remove(raw.uuid());
            MispAttribute a = compact(raw, pool);
            byKey.put(a.uuid(), a);
        }
        for (MispAttribute a : byKey.values()) {
            if (!a.equals(byUuid.get(a.uuid()))) {
                changed.add(a);
            }
        }
        return new Page(attributes.size(), answer.resultCount(), byKey, changed, List.copyOf(evicted), max);
    }

    /** Drops attributes that are no longer stored (worker thread). */
    private void evict(List<String> uuids) {
        for (String uuid : uuids) {
            if (byUuid.remove(uuid) != null) {
                delta.remove(uuid);
                deltaRemoved.add(uuid);
                unpublished = true;
            }
        }
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
                        evict(gone);
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
                .compose(answer -> onWorker(() -> page(answer)))
                .compose(page -> store.upsert(name(), page.changed()).map(page))
                .compose(page -> onWorker(() -> {
                    apply(page.changed());
                    seen.addAll(page.attributes().keySet());
                    return null;
                }))
                .compose(v -> confirm(missing, from + chunk.size(), seen));
    }

    /** Tells {@code listener} of the attributes each pull adds or changes, once they are stored. */
    public void onAttributesChanged(AttributeListener listener) {
        this.onChanged = listener;
    }

    /** Takes in attributes that are now stored (worker thread). */
    private void apply(List<MispAttribute> changed) {
        onChanged.attributesChanged(changed);
        for (MispAttribute a : changed) {
            byUuid.put(a.uuid(), a);
            delta.put(a.uuid(), a);
            deltaRemoved.remove(a.uuid());
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
        if (current != null && !unpublished && (!rebuild || (delta.isEmpty() && deltaRemoved.isEmpty()))) {
            return null;
        }
        if (rebuild || current == null
                || delta.size() + deltaRemoved.size() > Math.max(DELTA_LIMIT, byUuid.size() / 20)) {
            return new View(index(name(), byUuid), null, Set.of(), byUuid.size());
        }
        Map<Object, Object> pool = new HashMap<>();
        List<MispAttribute> changed = new ArrayList<>(delta.size());
        delta.values().forEach(a -> changed.add(compact(a, pool)));
        Set<String> replaced = new HashSet<>(delta.keySet());
        replaced.addAll(deltaRemoved);
        return new View(current.base(), FeedSource.of(name(), changed), Set.copyOf(replaced), byUuid.size());
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
            deltaRemoved.clear();
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
                .put("warninglists", new JsonObject().put("lists", warninglists.size()).put("entries", warninglists.entries())
                        .put("pulled_at", warninglistsPulledAt == null ? null : warninglistsPulledAt.toString()))
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
                    .put("attributes", feed.attributeCount())
                    .put("missing_events", new JsonArray(new ArrayList<>(feed.missingEvents()))));
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
