package io.github.mispcorrelator.misp;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.github.mispcorrelator.indicator.Indicator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The lookup layer in front of one MISP: asks as few questions as possible, and asks them politely.
 * <ul>
 *   <li><b>Cache</b> (Caffeine): answers kept for {@code cacheTtl} when MISP knows the value, {@code negativeCacheTtl}
 *       when it does not; size-bounded; errors are never cached.</li>
 *   <li><b>Single-flight</b>: a value already being asked is not asked again; the second alert waits for the same
 *       answer.</li>
 *   <li><b>Batching</b>: values waiting at the same moment (within {@code batchLinger}) go in one restSearch, up to
 *       {@code batchSize} values; the answer is split back by value. While other requests are out, a batch that is
 *       not full waits to fill for up to one smoothed MISP round trip (its values would wait about that long for a
 *       free slot under load anyway), so a cold stream of values costs close to {@code distinct ÷ batchSize}
 *       requests; with nothing in flight it leaves after the linger, as before.</li>
 *   <li><b>Adaptive, bounded concurrency</b>: at most {@code maxConcurrent} requests in flight; more batches queue.
 *       Below that ceiling the limit follows MISP's latency (additive increase while full batches queue and round
 *       trips stay near the fastest seen, one step down when they pass twice it, halved on a timeout or 5xx), so a
 *       MISP that slows down under load is asked less at once instead of being piled on.</li>
 *   <li><b>Retries</b> with exponential back-off and jitter on timeouts, 5xx and 429 (honouring MISP's
 *       {@code Retry-After} / {@code X-Rate-Limit-Reset}), all within the lookup's deadline: an alert never waits
 *       longer than {@code MISP_TIMEOUT} for MISP, queueing included.</li>
 *   <li><b>Circuit breaker</b>: after repeated failures lookups fail at once with an error saying so, and
 *       {@code /servers/getVersion.json} is probed until MISP answers.</li>
 * </ul>
 */
public final class LookupService implements MispSource {
    private static final Logger LOG = LoggerFactory.getLogger(LookupService.class);

    /** An answer for one value: the attributes that matched (maybe none) and when MISP gave it. */
    record Answer(List<MispAttribute> attributes, Instant at) {
    }

    /** Values asked together, and the time by which the slowest-waiting one must have its answer. */
    private record Batch(List<Pending> items, long deadlineNanos) {
    }

    private record Pending(Indicator indicator, Promise<Answer> promise, long enqueuedNanos) {
    }

    private final Vertx vertx;
    private final MispClient client;
    private final MispSettings misp;
    private final LookupSettings settings;
    private final Cache<String, Answer> cache;
    private final CircuitBreaker breaker;
    private final Runnable onRecovery;

    // guarded by this
    private final Map<String, Promise<Answer>> inFlight = new HashMap<>();
    private final List<Pending> pending = new ArrayList<>();
    private int running;
    private final ConcurrencyLimit limit;
    private long lingerTimer = -1;
    private boolean probing;

    private final Counter cacheHits;
    private final Counter cacheMisses;
    private final Counter joined;
    private final Counter requests;
    private final Counter requestFailures;
    private final Counter fastFailures;
    private final DistributionSummary batchSizes;
    private final Timer requestLatency;

    /**
     * @param onRecovery called when the breaker closes again (MISP is back): re-check what failed meanwhile
     */
    public LookupService(Vertx vertx, MispClient client, MispSettings misp, LookupSettings settings,
                         MeterRegistry registry, Runnable onRecovery) {
        this.vertx = vertx;
        this.client = client;
        this.misp = misp;
        this.settings = settings;
        this.onRecovery = onRecovery;
        this.limit = new ConcurrencyLimit(settings.maxConcurrent(), settings.batchLinger().toNanos());
        this.breaker = new CircuitBreaker(settings.breakerFailures(), settings.breakerOpen(), Instant::now);
        this.cache = Caffeine.newBuilder()
                .maximumSize(settings.cacheSize())
                .expireAfter(Expiry.creating((String key, Answer a) ->
                        a.attributes().isEmpty() ? settings.negativeCacheTtl() : settings.cacheTtl()))
                .recordStats()
                .build();
        String instance = client.name();
        this.cacheHits = Counter.builder("misp_lookups").tag("instance", instance).tag("outcome", "cache_hit")
                .description("Values looked up, by how they were answered").register(registry);
        this.cacheMisses = Counter.builder("misp_lookups").tag("instance", instance).tag("outcome", "asked")
                .register(registry);
        this.joined = Counter.builder("misp_lookups").tag("instance", instance).tag("outcome", "joined_in_flight")
                .register(registry);
        this.fastFailures = Counter.builder("misp_lookups").tag("instance", instance).tag("outcome", "breaker_open")
                .register(registry);
        this.requests = Counter.builder("misp_requests").tag("instance", instance)
                .description("restSearch requests sent to MISP").register(registry);
        this.requestFailures = Counter.builder("misp_request_failures").tag("instance", instance)
                .description("restSearch requests that failed (each attempt)").register(registry);
        this.batchSizes = DistributionSummary.builder("misp_batch_size").tag("instance", instance)
                .description("Values per restSearch").publishPercentileHistogram().register(registry);
        this.requestLatency = Timer.builder("misp_request_latency").tag("instance", instance)
                .description("restSearch round trip").publishPercentileHistogram().register(registry);
        Gauge.builder("misp_cache_hit_ratio", cache, c -> c.stats().hitRate()).tag("instance", instance)
                .description("Share of lookups answered from the cache").register(registry);
        Gauge.builder("misp_concurrency_limit", limit, l -> l.limit()).tag("instance", instance)
                .description("Requests this service lets be in flight to MISP now (adapts to MISP's latency)")
                .register(registry);
        Gauge.builder("misp_cache_size", cache, Cache::estimatedSize).tag("instance", instance).register(registry);
        Gauge.builder("misp_breaker_open", breaker, b -> b.state() == CircuitBreaker.State.OPEN ? 1 : 0)
                .tag("instance", instance).description("1 while the circuit breaker fails lookups fast").register(registry);
    }

    @Override
    public String name() {
        return client.name();
    }

    @Override
    public boolean ready() {
        return breaker.allows();
    }

    /** Whether lookups are being failed fast because MISP is down. */
    public boolean breakerOpen() {
        return !breaker.allows();
    }

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        if (indicators.isEmpty()) {
            return Future.succeededFuture(LookupResult.empty());
        }
        Map<Indicator, Future<Answer>> answers = new LinkedHashMap<>();
        boolean enqueued = false;
        for (Indicator i : indicators) {
            String unaskable = RestSearchRequest.reinterpreted(i.value());
            if (unaskable != null) {
                answers.put(i, Future.failedFuture(new MispException(unaskable, false, null)));
                continue;
            }
            Answer cached = cache.getIfPresent(i.key());
            if (cached != null) {
                cacheHits.increment();
                answers.put(i, Future.succeededFuture(cached));
                continue;
            }
            if (!breaker.allows()) {
                fastFailures.increment();
                answers.put(i, Future.failedFuture(new MispException(breaker.describeOpen(), true, null)));
                continue;
            }
            synchronized (this) {
                Promise<Answer> existing = inFlight.get(i.key());
                if (existing != null) {
                    joined.increment();
                    answers.put(i, existing.future());
                    continue;
                }
                Promise<Answer> p = Promise.promise();
                inFlight.put(i.key(), p);
                pending.add(new Pending(i, p, System.nanoTime()));
                enqueued = true;
                cacheMisses.increment();
                answers.put(i, p.future());
            }
        }
        if (enqueued) {
            scheduleFlush();
        }
        return Future.join(new ArrayList<>(answers.values())).transform(ar -> {
            Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
            Map<Indicator, String> errors = new LinkedHashMap<>();
            Map<Indicator, Instant> at = new LinkedHashMap<>();
            answers.forEach((i, f) -> {
                if (f.succeeded()) {
                    if (!f.result().attributes().isEmpty()) {
                        matches.put(i, f.result().attributes());
                    }
                    at.put(i, f.result().at());
                } else {
                    errors.put(i, f.cause().getMessage());
                }
            });
            return Future.succeededFuture(new LookupResult(matches, errors, at));
        });
    }

    private synchronized void scheduleFlush() {
        if (pending.size() >= settings.batchSize()) {
            flush();
        } else if (lingerTimer < 0) {
            lingerTimer = vertx.setTimer(Math.max(1, settings.batchLinger().toMillis()), id -> {
                synchronized (this) {
                    lingerTimer = -1;
                    flush();
                }
            });
        }
    }

    /**
     * Sends batches while the concurrency limit allows. Values keep waiting in {@code pending} while every slot is
     * busy, so under load batches fill up instead of going out small; a batch that is not full also waits while other
     * requests are out, until it fills or its oldest value has waited one smoothed round trip (a timer then sends
     * it). Holds the lock.
     */
    private void flush() {
        while (running < limit.limit() && !pending.isEmpty()) {
            if (pending.size() < settings.batchSize() && running > 0) {
                long waited = System.nanoTime() - pending.get(0).enqueuedNanos();
                long hold = Math.min(limit.smoothedRttNanos(), misp.timeout().toNanos() / 4);
                if (waited < hold) {
                    holdFor(hold - waited);
                    break;
                }
            }
            int n = Math.min(settings.batchSize(), pending.size());
            List<Pending> items = new ArrayList<>(pending.subList(0, n));
            pending.subList(0, n).clear();
            long oldest = items.stream().mapToLong(Pending::enqueuedNanos).min().orElse(System.nanoTime());
            Batch b = new Batch(items, oldest + misp.timeout().toNanos());
            running++;
            vertx.runOnContext(v -> attempt(b, 0));
        }
        if (!pending.isEmpty() && running >= limit.limit()) {
            // values that cannot wait for a slot any longer fail now rather than after their deadline
            failExpired();
        }
    }

    /** Looks at {@code pending} again after {@code nanos}, unless a timer will already. Holds the lock. */
    private void holdFor(long nanos) {
        if (lingerTimer < 0) {
            lingerTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)), id -> {
                synchronized (this) {
                    lingerTimer = -1;
                    flush();
                }
            });
        }
    }

    /** Holds the lock. */
    private void failExpired() {
        long now = System.nanoTime();
        long timeout = misp.timeout().toNanos();
        List<Pending> expired = pending.stream().filter(p -> now - p.enqueuedNanos() >= timeout).toList();
        if (!expired.isEmpty()) {
            pending.removeAll(expired);
            MispException e = new MispException("MISP did not answer within " + misp.timeout().toMillis()
                    + " ms (all " + limit.limit() + " request slots busy)", true, null);
            expired.forEach(p -> vertx.runOnContext(v -> complete(p, null, e)));
        }
    }

    private void attempt(Batch batch, int attemptNo) {
        long remaining = batch.deadlineNanos() - System.nanoTime();
        if (remaining <= 0) {
            finish(batch, new MispException("MISP did not answer within " + misp.timeout().toMillis() + " ms", true, null));
            return;
        }
        List<Indicator> indicators = batch.items().stream().map(Pending::indicator).toList();
        requests.increment();
        batchSizes.record(indicators.size());
        long started = System.nanoTime();
        client.search(indicators, Duration.ofNanos(remaining)).onComplete(ar -> {
            long rtt = System.nanoTime() - started;
            requestLatency.record(rtt, TimeUnit.NANOSECONDS);
            if (ar.succeeded()) {
                synchronized (this) {
                    limit.answered(rtt, indicators.size() * 2 >= settings.batchSize(),
                            pending.size() >= settings.batchSize());
                }
                breaker.success();
                succeed(batch, indicators, ar.result());
                return;
            }
            requestFailures.increment();
            MispException e = ar.cause() instanceof MispException m ? m
                    : new MispException("MISP request failed: " + ar.cause(), true, null);
            if (e.retryable()) {
                synchronized (this) {
                    limit.overloaded();
                }
            }
            if (e.rateLimited()) {
                // every search of this key is refused until the reset (RateLimitComponent.php:47-53): wait for it
                // when the alert can, otherwise open the breaker until then — its probe (getVersion, never
                // rate-limited) must not close it earlier
                long left = (batch.deadlineNanos() - System.nanoTime()) / 1_000_000;
                if (e.retryAfter() != null && attemptNo < settings.retries() && e.retryAfter().toMillis() < left
                        && breaker.allows()) {
                    vertx.setTimer(Math.max(1, e.retryAfter().toMillis()), id -> attempt(batch, attemptNo + 1));
                    return;
                }
                if (breaker.rateLimited(e.getMessage(), e.retryAfter())) {
                    LOG.warn("MISP {} circuit opened: {}", name(), e.getMessage());
                }
                scheduleProbe();
                finish(batch, e);
                return;
            }
            if (e.retryable() && attemptNo < settings.retries() && breaker.allows()) {
                long delayMs = Backoff.LOOKUP.delayMs(attemptNo, e.retryAfter());
                long left = (batch.deadlineNanos() - System.nanoTime()) / 1_000_000;
                if (delayMs < left) {
                    vertx.setTimer(Math.max(1, delayMs), id -> attempt(batch, attemptNo + 1));
                    return;
                }
            }
            // only outages open the breaker: a refused or malformed request says nothing about MISP's health
            if (e.retryable() && breaker.failure(e.getMessage())) {
                LOG.atWarn().addKeyValue("misp_instance", name()).log("MISP {} circuit opened: {}", name(), e.getMessage());
                scheduleProbe();
            }
            finish(batch, e);
        });
    }

    private void succeed(Batch batch, List<Indicator> indicators, List<MispAttribute> attributes) {
        Map<Indicator, List<MispAttribute>> matched = AttributeMatcher.match(indicators, attributes);
        Instant now = Instant.now();
        for (Pending p : batch.items()) {
            List<MispAttribute> found = misp.filter().apply(p.indicator().type(),
                    matched.getOrDefault(p.indicator(), List.of()), now);
            Answer a = new Answer(List.copyOf(found), now);
            cache.put(p.indicator().key(), a);
            complete(p, a, null);
        }
        done();
    }

    private void finish(Batch batch, MispException error) {
        for (Pending p : batch.items()) {
            complete(p, null, error);
        }
        done();
    }

    private void complete(Pending p, Answer a, MispException error) {
        synchronized (this) {
            inFlight.remove(p.indicator().key(), p.promise());
        }
        if (error == null) {
            p.promise().tryComplete(a);
        } else {
            p.promise().tryFail(error);
        }
    }

    private void done() {
        synchronized (this) {
            running--;
            flush();
        }
    }

    private void scheduleProbe() {
        synchronized (this) {
            if (probing) {
                return;
            }
            probing = true;
        }
        vertx.setTimer(Math.max(1, breaker.nextProbeDelay().toMillis()), id -> client.probe().onComplete(ar -> {
            synchronized (this) {
                probing = false;
            }
            if (ar.succeeded() && ar.result()) {
                if (breaker.probeSucceeded()) {
                    LOG.atInfo().addKeyValue("misp_instance", name()).log("MISP {} answers again: circuit closed", name());
                    onRecovery.run();
                } else if (breaker.state() == CircuitBreaker.State.OPEN) {
                    // MISP answers, but its rate limit has not reset yet (getVersion is never rate-limited)
                    scheduleProbe();
                }
            } else {
                scheduleProbe();
            }
        }));
    }

    /** Forgets every cached answer (e.g. after MISP data was corrected). */
    public void invalidateCache() {
        cache.invalidateAll();
    }

    public long cachedAnswers() {
        return cache.estimatedSize();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }
}
