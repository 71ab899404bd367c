package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.AttributeListener;
import io.github.mispcorrelator.misp.LookupResult;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.MispSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A local mirror of one MISP instance ({@code MISP_MIRROR=true}): its detection attributes held in memory, so that a
 * lookup makes no network call, and kept in PostgreSQL, shared by every correlator on the database. One instance —
 * the holder of the singleton {@code mirror:<MISP>} when several share the database, else this one — pulls MISP
 * into the tables ({@link MirrorSync}); every instance keeps its index ({@link MirrorIndex}) current from them by
 * their change sequence ({@link MirrorFollower}): woken by a notification when the puller commits, and every
 * {@code MISP_MIRROR_FOLLOW_POLL} in case one was lost. Followers answer lookups from memory exactly as the puller
 * does; when the puller dies, another takes the singleton and resumes from the stored sync state.
 * <p>
 * This class is the lookup source and the schedule: pulls every {@code MISP_MIRROR_INTERVAL} while this instance
 * pulls, catch-ups otherwise, one step at a time. The filters of {@link MispSettings#filter()} (tags, ages) and MISP's
 * warning lists are applied to every answer, as the live lookup does. Until a complete copy is held (first start),
 * lookups go to {@code fallback}, the live lookup layer.
 */
public final class MispMirror implements MispSource {
    private static final Logger LOG = LoggerFactory.getLogger(MispMirror.class);
    static final Duration DEFAULT_FOLLOW_POLL = Duration.ofSeconds(5);

    /** How the mirror pulls, and how often an instance that does not pull looks for changes without a notification. */
    public record Settings(Duration interval, Duration rebuild, int pageSize, Duration pageTimeout, int retries,
                           Duration followPoll) {
        public Settings(Duration interval, Duration rebuild, int pageSize, Duration pageTimeout, int retries) {
            this(interval, rebuild, pageSize, pageTimeout, retries, DEFAULT_FOLLOW_POLL);
        }

        public static Settings from(CorrelatorConfig c) {
            return new Settings(c.get(CorrelatorConfig.MISP_MIRROR_INTERVAL), c.get(CorrelatorConfig.MISP_MIRROR_REBUILD),
                    c.get(CorrelatorConfig.MISP_MIRROR_PAGE), c.get(CorrelatorConfig.MISP_MIRROR_TIMEOUT),
                    c.get(CorrelatorConfig.MISP_RETRIES), c.get(CorrelatorConfig.MISP_MIRROR_FOLLOW_POLL));
        }
    }

    private final Vertx vertx;
    private final MispClient client;
    private final MispSettings misp;
    private final Settings settings;
    private final MirrorRepository store;
    private final MispSource fallback;
    private final MirrorSync.Worker worker;
    private final WorkerExecutor executor;
    private final MirrorIndex index;
    private final MirrorSync sync;
    private final MirrorFollower follower;
    private final Counter localLookups;
    private final Counter fallbackLookups;

    /** Whether this instance pulls: the holder of the mirror's singleton (always, without a cluster). */
    private volatile BooleanSupplier pullGate = () -> true;
    private volatile boolean closed;
    /** Whether {@link #start()} ran: until then a take-over waits for it (its first step reads the stored copy). */
    private volatile boolean started;
    private long pullTimer = -1;
    private long followTimer = -1;
    private AutoCloseable listening;
    /** The steps (start-up, pulls, catch-ups) run one after the other: the last one queued, and those waiting. */
    private Future<Void> lastStep = Future.succeededFuture();
    private Future<Void> pulling;
    private Future<Void> following;
    private AtomicBoolean followingStarted = new AtomicBoolean(true);

    /**
     * @param fallback answers lookups until the mirror holds a complete copy (the live lookup layer), or null to
     *                 answer them with an error meanwhile
     * @param onLoaded called when the first complete copy is in place (alerts that waited can be checked again)
     */
    public MispMirror(Vertx vertx, MispClient client, MispSettings misp, Settings settings, MirrorRepository store,
                      MispSource fallback, MeterRegistry registry, Runnable onLoaded) {
        this.vertx = vertx;
        this.client = client;
        this.misp = misp;
        this.settings = settings;
        this.store = store;
        this.fallback = fallback;
        // parsing pages, comparing and building the index: CPU work, one at a time, never on an event loop
        this.executor = vertx.createSharedWorkerExecutor("misp-mirror", 1, 30, TimeUnit.MINUTES);
        this.worker = new MirrorSync.Worker(executor);
        this.index = new MirrorIndex(client.name(), onLoaded == null ? () -> { } : onLoaded);
        this.sync = new MirrorSync(vertx, client, misp, settings, store, index, worker, registry);
        this.follower = sync.follower();
        String instance = name();
        this.localLookups = Counter.builder("misp_mirror_lookups").tag("instance", instance).tag("answered_by", "mirror")
                .description("Lookups answered by the local mirror, or by live MISP while it loads").register(registry);
        this.fallbackLookups = Counter.builder("misp_mirror_lookups").tag("instance", instance).tag("answered_by", "live")
                .register(registry);
        Gauge.builder("misp_mirror_attributes", this, MispMirror::attributeCount).tag("instance", instance)
                .description("Attributes the local mirror answers from").register(registry);
        Gauge.builder("misp_mirror_lag_seconds", this, m -> m.lagSeconds() == null ? Double.NaN : m.lagSeconds())
                .tag("instance", instance).description("Seconds since the local mirror's last successful pull")
                .register(registry);
        Gauge.builder("misp_mirror_change_applied", follower, MirrorFollower::applied).tag("instance", instance)
                .description("The mirror tables' change sequence number this instance's index holds everything up to")
                .register(registry);
    }

    // ---- lookups --------------------------------------------------------------------------------------------------

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        if (indicators.isEmpty()) {
            return Future.succeededFuture(LookupResult.empty());
        }
        MirrorIndex.View current = index.view();
        if (current == null) {
            if (fallback != null) {
                fallbackLookups.increment();
                return fallback.lookup(indicators);
            }
            return Future.succeededFuture(LookupResult.failed(indicators,
                    "the local mirror of MISP " + name() + " is still loading"));
        }
        localLookups.increment();
        Map<Indicator, Set<String>> candidates = current.candidates(indicators);
        if (candidates.isEmpty()) {
            // most values are no hit: answered from memory alone
            return Future.succeededFuture(answer(indicators, Map.of()));
        }
        Set<String> uuids = new HashSet<>();
        candidates.values().forEach(uuids::addAll);
        return store.attributes(name(), uuids)
                .map(read -> answer(indicators, MirrorIndex.answer(candidates, read, misp, sync.warninglists(), Instant.now())))
                .otherwise(e -> LookupResult.failed(indicators,
                        "the local mirror of MISP " + name() + " cannot read its attributes: " + e.getMessage()));
    }

    private LookupResult answer(List<Indicator> indicators, Map<Indicator, List<MispAttribute>> matches) {
        MirrorRepository.State s = sync.state();
        Instant asOf = s == null || s.lastSync() == null ? Instant.now() : s.lastSync();
        Map<Indicator, Instant> at = new LinkedHashMap<>();
        // the answer is MISP's as of the last pull
        indicators.forEach(i -> at.put(i, asOf));
        return new LookupResult(matches, Map.of(), at);
    }

    /** Pulls from MISP only while {@code holder} says so: the instance holding this mirror's singleton. */
    public void pullOnlyWhile(BooleanSupplier holder) {
        this.pullGate = holder;
        sync.pullOnlyWhile(holder);
    }

    /** {@code puller} while this instance pulls MISP into the shared tables, {@code follower} otherwise. */
    public String role() {
        return pullGate.getAsBoolean() ? "puller" : "follower";
    }

    @Override
    public String name() {
        return client.name();
    }

    @Override
    public boolean ready() {
        return index.loaded() || (fallback != null && fallback.ready());
    }

    /** Whether lookups are answered from the mirror (a complete copy is held). */
    public boolean loaded() {
        return index.loaded();
    }

    public int attributeCount() {
        return index.attributeCount();
    }

    /** Seconds since the last successful pull ended (by whichever instance pulled), or null when none has. */
    public Long lagSeconds() {
        return sync.lagSeconds();
    }

    /** Tells {@code listener} of the attributes each pull of this instance adds or changes, once they are stored. */
    public void onAttributesChanged(AttributeListener listener) {
        sync.onAttributesChanged(listener);
    }

    // ---- start, steps ---------------------------------------------------------------------------------------------

    /**
     * Reads the copy kept in PostgreSQL (answering from it at once when it is complete and was pulled with the same
     * filters), then — while this instance pulls — pulls what changed since, or everything when no complete copy
     * exists or a rebuild is due, and every {@code MISP_MIRROR_INTERVAL} after; otherwise follows the tables. Returns
     * when the copy in PostgreSQL has been read.
     */
    public Future<Void> start() {
        started = true;
        long t0 = System.nanoTime();
        Future<Void> loaded = step(() -> follower.catchUp()
                .<Void>map(changed -> {
                    if (index.loaded()) {
                        MirrorRepository.State s = sync.state();
                        LOG.info("MISP mirror {}: {} attributes loaded from PostgreSQL in {} ms (last pull {})", name(),
                                index.attributeCount(), (System.nanoTime() - t0) / 1_000_000, s == null ? null : s.lastSync());
                    } else if (index.size() > 0) {
                        LOG.info("MISP mirror {}: {} attributes stored by an initial load that did not finish; it goes on",
                                name(), index.size());
                    }
                    return null;
                })
                .recover(e -> {
                    LOG.warn("MISP mirror {}: cannot read the stored copy ({}); pulling everything from MISP", name(), e.getMessage());
                    // what was read is dropped, and the first pull is a full one
                    sync.startOver(e);
                    return Future.succeededFuture();
                }));
        return loaded.onComplete(ar -> {
            if (closed) {
                return;
            }
            pullTimer = vertx.setPeriodic(Math.max(1, settings.interval().toMillis()), id -> tick());
            followTimer = vertx.setPeriodic(Math.max(1, settings.followPoll().toMillis()), id -> {
                if (!pullGate.getAsBoolean()) {
                    followNow();
                }
            });
            listening = store.listen(instance -> {
                if (instance == null || instance.equals(name())) {
                    vertx.runOnContext(v -> {
                        if (!closed && !pullGate.getAsBoolean()) {
                            followNow();
                        }
                    });
                }
            });
            tick();
        });
    }

    /** Every interval: pull while this instance pulls; otherwise read MISP's warning lists (lookups apply them). */
    private void tick() {
        if (closed) {
            return;
        }
        if (pullGate.getAsBoolean()) {
            syncNow(sync.fullDue());
        } else {
            followNow();
            if (misp.enforceWarninglist()) {
                step(() -> sync.pullWarninglists(null));
            }
        }
    }

    /** Called when this instance takes the pulls over (the singleton's holder now): pulls at once. */
    public void pullsTakenOver() {
        if (started && !closed) {
            syncNow(sync.fullDue());
        }
    }

    /**
     * Pulls now — everything when {@code full}, what changed since the last pull otherwise — unless a pull already
     * runs or waits: then its future is returned. Does nothing while another instance pulls.
     */
    public synchronized Future<Void> syncNow(boolean full) {
        if (closed) {
            return Future.failedFuture("the MISP mirror is closed");
        }
        if (!pullGate.getAsBoolean()) { // several instances on one database: one pulls (issue 12, store/Cluster)
            return Future.succeededFuture();
        }
        if (pulling != null) {
            return pulling;
        }
        Future<Void> f = step(() -> sync.pull(full));
        pulling = f;
        f.onComplete(ar -> {
            synchronized (this) {
                if (pulling == f) {
                    pulling = null;
                }
            }
        });
        return f;
    }

    /**
     * Takes in what the puller stored up to now: joins a catch-up that waits to start, never one already running
     * (it may have read before the caller's change was committed); one waiting at most.
     */
    public synchronized Future<Void> followNow() {
        if (closed) {
            return Future.failedFuture("the MISP mirror is closed");
        }
        if (following != null && !followingStarted.get()) {
            return following;
        }
        AtomicBoolean started = new AtomicBoolean();
        followingStarted = started;
        following = step(() -> {
            started.set(true);
            return follower.catchUp().<Void>mapEmpty().onFailure(e -> {
                sync.failed(e);
                LOG.warn("MISP mirror {}: cannot read the stored changes: {}", name(), e.getMessage());
            });
        });
        return following;
    }

    private synchronized Future<Void> step(Supplier<Future<Void>> work) {
        Future<Void> next = lastStep.transform(ar -> closed ? Future.failedFuture("the MISP mirror is closed") : work.get());
        lastStep = next;
        return next;
    }

    // ---- status ---------------------------------------------------------------------------------------------------

    /** This mirror's entry in {@code GET /v1/misp/status}. */
    @Override
    public JsonObject status() {
        boolean loaded = loaded();
        JsonObject status = new JsonObject()
                .put("instance", name())
                .put("mode", "mirror")
                .put("role", role())
                .put("loaded", loaded)
                .put("answered_by", loaded ? "mirror" : fallback != null ? "live MISP until the mirror is loaded" : "none")
                .put("index_from", index.from())
                .put("attributes", attributeCount());
        return sync.status(status).put("follow", follower.status());
    }

    @Override
    public Future<Void> close() {
        synchronized (this) {
            closed = true;
        }
        sync.close();
        if (pullTimer >= 0) {
            vertx.cancelTimer(pullTimer);
        }
        if (followTimer >= 0) {
            vertx.cancelTimer(followTimer);
        }
        if (listening != null) {
            try {
                listening.close();
            } catch (Exception e) {
                LOG.debug("MISP mirror {}: stop listening: {}", name(), e.getMessage());
            }
        }
        executor.close();
        return fallback != null ? fallback.close() : client.close();
    }
}
