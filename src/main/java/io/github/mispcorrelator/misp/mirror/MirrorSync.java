package io.github.mispcorrelator.misp.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.AttributeListener;
import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.Backoff;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.MispException;
import io.github.mispcorrelator.misp.MispJson;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.RestSearchRequest;
import io.github.mispcorrelator.misp.Warninglists;
import io.micrometer.core.instrument.Counter;
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
import java.util.function.BooleanSupplier;

/**
 * The mirror's pulls from MISP into the shared tables and the index:
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
 * Each page is stored (a numbered change the other instances follow, {@link MirrorRepository}) and then taken into
 * the index. With {@code enforceWarninglist}, MISP's enabled warning lists are read with every pull (the index; a
 * list's entries only when it is new or its version or entry count changed): a list enabled or extended in MISP moves
 * no attribute timestamp, so the pulls alone would keep serving what it now covers until the next rebuild. An
 * instance that does not pull reads them on the same interval ({@link #pullWarninglists}).
 * <p>
 * One pull at a time; its steps run one after the other (on the mirror's worker for the CPU work), never alongside
 * a catch-up of {@link MirrorFollower}.
 */
final class MirrorSync {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorSync.class);
    /** Incremental pulls start this much before the cursor: MISP stamps an attribute before its commit is visible. */
    static final long CURSOR_OVERLAP_SECONDS = 60;
    /** Events published up to this much before our last pull started are asked again: MISP's clock may lag ours. */
    static final long PUBLISH_OVERLAP_SECONDS = 600;

    /** The mirror's one worker thread: parsing pages, comparing, building the index — never on an event loop. */
    static final class Worker {
        private final WorkerExecutor executor;

        Worker(WorkerExecutor executor) {
            this.executor = executor;
        }

        <T> Future<T> run(Callable<T> work) {
            return executor.executeBlocking(work, true);
        }
    }

    /** A pull under way, for {@code /v1/misp/status}. */
    static final class Progress {
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

    /** What one page brought, before it is applied. */
    private record Page(int returned, Integer resultCount, Map<String, MispAttribute> attributes,
                        List<MispAttribute> changed, List<String> evicted, long maxTimestamp) {
    }

    private final Vertx vertx;
    private final MispClient client;
    private final MispSettings misp;
    private final MispMirror.Settings settings;
    private final MirrorRepository store;
    private final MirrorIndex index;
    private final MirrorFollower follower;
    private final Worker worker;
    private final MeterRegistry registry;
    private final Counter pagesPulled;
    private final JsonObject pullBody;
    private final JsonObject incrementalBody;
    private final String filters;

    /** Told of each page's new or changed attributes once stored (the look-back). */
    private volatile AttributeListener onChanged = AttributeListener.NONE;
    private volatile MirrorRepository.State state;
    private volatile Progress progress;
    /** The stored copy could not be read: the next pull starts from nothing. */
    private volatile boolean clearFirst;
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile long lastDurationMs = -1;
    private volatile boolean closed;
    /** Whether this instance still pulls (holds the singleton): a pull stops at the next page once it does not. */
    private volatile BooleanSupplier mayPull = () -> true;
    private volatile Warninglists warninglists = Warninglists.NONE;
    private volatile Instant warninglistsPulledAt;
    /** The warning lists read so far, by MISP id with the version and entry count they were read at (pull steps only). */
    private final Map<String, Map.Entry<String, Warninglists.WarningList>> listsById = new HashMap<>();

    MirrorSync(Vertx vertx, MispClient client, MispSettings misp, MispMirror.Settings settings, MirrorRepository store,
               MirrorIndex index, Worker worker, MeterRegistry registry) {
        this.vertx = vertx;
        this.client = client;
        this.misp = misp;
        this.settings = settings;
        this.store = store;
        this.index = index;
        this.worker = worker;
        this.registry = registry;
        this.pullBody = pullBody(misp);
        this.incrementalBody = incrementalBody(misp);
        this.filters = pullBody.encode();
        this.follower = new MirrorFollower(client.name(), store, index, worker, filters, s -> state = s);
        this.pagesPulled = Counter.builder("misp_mirror_pages").tag("instance", name())
                .description("restSearch pages pulled by the local mirror").register(registry);
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

    String name() {
        return client.name();
    }

    MirrorFollower follower() {
        return follower;
    }

    MirrorRepository.State state() {
        return state;
    }

    Warninglists warninglists() {
        return warninglists;
    }

    void onAttributesChanged(AttributeListener listener) {
        this.onChanged = listener;
    }

    void close() {
        closed = true;
    }

    void pullOnlyWhile(BooleanSupplier holder) {
        this.mayPull = holder;
    }

    /** The stored copy could not be read at start-up: pull everything, starting from an empty copy. */
    void startOver(Throwable e) {
        failed(e);
        clearFirst = true;
        state = null;
    }

    boolean fullDue() {
        MirrorRepository.State s = state;
        return s == null || s.lastFullSync() == null || !s.filters().equals(filters)
                || !Instant.now().isBefore(s.lastFullSync().plus(settings.rebuild()));
    }

    /**
     * One pull (a step of the mirror): first what others stored since our last step (so that a take-over resumes
     * from the stored state), then everything when {@code full} or no complete copy is stored, what changed since
     * the last pull otherwise.
     */
    Future<Void> pull(boolean full) {
        boolean neverRead = follower.applied() < 0;
        return follower.catchUp()
                .map(changed -> {
                    if (neverRead) {
                        // the stored copy, unreadable at start-up, has now been read whole: no need to drop it
                        clearFirst = false;
                    }
                    return changed;
                })
                .recover(e -> {
                    // the pull goes on: it compares with what is held, and what it stores is numbered anyway
                    LOG.warn("MISP mirror {}: cannot read the stored changes ({}); pulling", name(), e.getMessage());
                    return Future.succeededFuture(true);
                })
                .compose(followed -> {
                    MirrorRepository.State s = state;
                    boolean otherFilters = s != null && !s.filters().equals(filters);
                    if (otherFilters) {
                        LOG.info("MISP mirror {}: the pull filters changed; the stored copy is dropped and pulled again", name());
                        clearFirst = true;
                    }
                    boolean asFull = full || otherFilters || clearFirst || s == null || s.lastFullSync() == null;
                    return sync(asFull, followed);
                });
    }

    private Future<Void> sync(boolean full, boolean followed) {
        boolean initial = index.view() == null;
        Progress p = new Progress(initial ? "initial" : full ? "full" : "incremental");
        progress = p;
        MirrorRepository.State before = clearFirst ? null : state;
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
            // the stored copy could not be read, or was pulled with other filters: start again from nothing rather
            // than keep rows never compared
            chain = store.clear(name()).compose(seq -> worker.run(() -> {
                index.clear();
                follower.cleared(seq);
                clearFirst = false;
                state = null;
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
                    return worker.run(() -> index.next(full));
                })
                .compose(built -> {
                    Instant now = Instant.now();
                    long previous = before == null ? 0 : before.cursor();
                    long cursor = Math.max(previous, Math.min(maxTimestamp[0], started.getEpochSecond()));
                    int count = built != null ? built.attributes() : index.attributeCount();
                    MirrorRepository.State next = new MirrorRepository.State(filters, cursor, started, now,
                            full ? now : before.lastFullSync(), count);
                    p.step = "saving";
                    return store.saveState(name(), next).map(v -> {
                        state = next;
                        if (built != null) {
                            index.publish(built, "misp");
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
     * logged and the lists held so far are kept — the pull itself does not fail. Instances that do not pull read
     * them too (two GETs, no restSearch): the lists are not kept in the shared tables.
     */
    Future<Void> pullWarninglists(Progress p) {
        if (p != null) {
            p.step = "warning lists";
        }
        return client.getJson("/warninglists/index/enabled:1", settings.pageTimeout())
                .compose(listing -> {
                    Map<String, String> versions = Warninglists.versionsFromMispIndex(listing);
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
                        return worker.run(() -> Warninglists.of(lists));
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

    void failed(Throwable e) {
        lastError = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        lastErrorAt = Instant.now();
    }

    /** One page, stored, then applied; then the next, until MISP returns a short page. */
    private Future<Void> pull(JsonObject pass, int pageNo, Progress p, Set<String> seen, long[] maxTimestamp) {
        if (closed) {
            return Future.failedFuture("the MISP mirror is closed");
        }
        if (!mayPull.getAsBoolean()) {
            // the lease lapsed (another instance may pull now): what was stored stays, numbered; it goes on from there
            return Future.failedFuture("this instance no longer holds the mirror's lease; another one pulls");
        }
        JsonObject body = pass.copy().put("page", pageNo).put("limit", settings.pageSize());
        return fetch(body, 0)
                .compose(answer -> worker.run(() -> page(answer)))
                .compose(page -> store.upsert(name(), page.changed()).map(seq -> {
                    follower.wrote(seq);
                    return page;
                }))
                .compose(page -> page.evicted().isEmpty() ? Future.succeededFuture(page)
                        : store.delete(name(), page.evicted()).map(seq -> {
                            follower.wrote(seq);
                            return page;
                        }))
                .compose(page -> worker.run(() -> {
                    apply(page.changed());
                    index.remove(page.evicted());
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
            long delayMs = Backoff.PAGE.delayMs(attempt, m.retryAfter(), settings.interval());
            LOG.info("MISP mirror {}: page {} failed ({}); again in {} ms", name(), body.getInteger("page"), e.getMessage(), delayMs);
            Promise<MispClient.SearchPage> again = Promise.promise();
            vertx.setTimer(delayMs, id -> fetch(body, attempt + 1).onComplete(again));
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
                if (index.holds(raw.uuid())) {
                    evicted.add(raw.uuid());
                }
                continue;
            }
            evicted.remove(raw.uuid());
            MispAttribute a = MirrorIndex.compact(raw, pool);
            byKey.put(a.uuid(), a);
        }
        for (MispAttribute a : byKey.values()) {
            if (!index.unchanged(a)) {
                changed.add(a);
            }
        }
        return new Page(attributes.size(), answer.resultCount(), byKey, changed, List.copyOf(evicted), max);
    }

    /**
     * After a full pull: what MISP did not return is asked for once more by uuid (offset paging skips rows when
     * MISP deletes some during the pull), and what is still missing is dropped.
     */
    private Future<Void> removeUnseen(Set<String> seen, Progress p) {
        p.step = "removing";
        return worker.run(() -> {
            List<String> missing = new ArrayList<>();
            for (String uuid : index.uuids()) {
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
                    return store.delete(name(), gone).compose(seq -> worker.run(() -> {
                        follower.wrote(seq);
                        index.remove(gone);
                        p.removed += gone.size();
                        return (Void) null;
                    }));
                });
    }

    /** Asks MISP for the missing uuids, a page at a time; answers those it still does not return. */
    private Future<List<String>> confirm(List<String> missing, int from, Set<String> seen) {
        if (from >= missing.size()) {
            return worker.run(() -> missing.stream().filter(u -> !seen.contains(u)).toList());
        }
        List<String> chunk = missing.subList(from, Math.min(missing.size(), from + settings.pageSize()));
        JsonObject body = pullBody.copy().put("uuid", new JsonArray(new ArrayList<>(chunk)))
                .put("page", 1).put("limit", settings.pageSize());
        return fetch(body, 0)
                .compose(answer -> worker.run(() -> page(answer)))
                .compose(page -> store.upsert(name(), page.changed()).map(seq -> {
                    follower.wrote(seq);
                    return page;
                }))
                .compose(page -> worker.run(() -> {
                    apply(page.changed());
                    seen.addAll(page.attributes().keySet());
                    return null;
                }))
                .compose(v -> confirm(missing, from + chunk.size(), seen));
    }

    /** Takes in attributes that are now stored (worker thread), and tells the look-back. */
    private void apply(List<MispAttribute> changed) {
        onChanged.attributesChanged(changed);
        index.put(changed);
    }

    /** The pull part of the mirror's status. */
    JsonObject status(JsonObject into) {
        MirrorRepository.State s = state;
        Progress p = progress;
        JsonObject sync = new JsonObject().put("in_progress", p != null);
        if (p != null) {
            sync.put("kind", p.kind).put("step", p.step).put("started", p.started.toString()).put("pages_done", p.pages)
                    .put("attributes_pulled", p.pulled).put("new_or_changed", p.changed).put("removed", p.removed);
        }
        Instant nextFull = s == null || s.lastFullSync() == null ? null : s.lastFullSync().plus(settings.rebuild());
        return into
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

    /** Seconds since the last successful pull ended (by whichever instance pulled), or null when none has. */
    Long lagSeconds() {
        MirrorRepository.State s = state;
        return s == null || s.lastSync() == null ? null : Duration.between(s.lastSync(), Instant.now()).toSeconds();
    }

    boolean inProgress() {
        return progress != null;
    }
}
