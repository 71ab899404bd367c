package io.github.mispcorrelator.lookback;

import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.MispJson;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.RestSearchRequest;
import io.github.mispcorrelator.store.ObservationStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The look-back's trigger without a local mirror: every {@code LOOKBACK_INTERVAL}, asks one MISP for the attributes
 * changed since its last question ({@code timestamp}) and, when only published events count, those of events
 * published since ({@code publish_timestamp}: publishing an event does not move its attributes' timestamps), page
 * after page, and hands each page to the look-back. The cursor is kept in PostgreSQL ({@code lookback_cursors}), so a
 * restart asks only for what changed meanwhile; the first question ever starts from now (the index is empty before).
 * MISP's restSearch filters (app/Model/Event.php, set_filter_timestamp): {@code timestamp} is the attribute's,
 * {@code publish_timestamp} its event's, each through Attribute::setTimestampConditions, where one epoch value means
 * "at or after".
 */
public final class MispChangesPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MispChangesPoller.class);
    /** As the mirror: MISP stamps an attribute before its commit is visible, and its clock may lag ours. */
    static final long CURSOR_OVERLAP_SECONDS = 60;
    static final long PUBLISH_OVERLAP_SECONDS = 600;
    /** Pages read in one poll before stopping until the next (a MISP bulk import must not hold one poll forever). */
    static final int MAX_PAGES = 200;

    private final Vertx vertx;
    private final MispClient client;
    private final MispSettings settings;
    private final ObservationStore store;
    private final LookBack lookBack;
    private final int pageSize;
    private final Duration pageTimeout;
    private final AtomicBoolean running = new AtomicBoolean();
    private final long timer;

    public MispChangesPoller(Vertx vertx, MispClient client, MispSettings settings, ObservationStore store,
                             LookBack lookBack, Duration interval, int pageSize, Duration pageTimeout) {
        this.vertx = vertx;
        this.client = client;
        this.settings = settings;
        this.store = store;
        this.lookBack = lookBack;
        this.pageSize = pageSize;
        this.pageTimeout = pageTimeout;
        this.timer = vertx.setPeriodic(Math.max(1, interval.toMillis()), id -> poll());
    }

    /** One poll now, unless one runs; completes when its pages are looked back at and the cursor is saved. */
    public Future<Void> poll() {
        if (!running.compareAndSet(false, true)) {
            return Future.succeededFuture();
        }
        String instance = client.name();
        long started = Instant.now().getEpochSecond();
        return store.cursor(instance).compose(found -> {
                    if (found.isEmpty()) {
                        LOG.info("Look-back for MISP {}: from now on, attributes changed every poll are looked back at", instance);
                        return store.saveCursor(instance, new ObservationStore.Cursor(started, started));
                    }
                    ObservationStore.Cursor cursor = found.get();
                    long[] maxTimestamp = {cursor.attributeTimestamp()};
                    JsonObject base = body();
                    Future<Void> chain = pages(base.copy().put("timestamp",
                            Long.toString(Math.max(0, cursor.attributeTimestamp() - CURSOR_OVERLAP_SECONDS))), 1, maxTimestamp);
                    if (settings.published()) {
                        chain = chain.compose(v -> pages(base.copy().put("publish_timestamp",
                                Long.toString(Math.max(0, cursor.publishTimestamp() - PUBLISH_OVERLAP_SECONDS))), 1, maxTimestamp));
                    }
                    return chain.compose(v -> store.saveCursor(instance, new ObservationStore.Cursor(
                            Math.max(cursor.attributeTimestamp(), Math.min(maxTimestamp[0], started)), started)));
                })
                .onFailure(e -> LOG.warn("Look-back poll of MISP {} failed (again at the next interval): {}", instance,
                        e.getMessage()))
                .onComplete(ar -> running.set(false));
    }

    /** restSearch for the indicator types, with the detection filters, event context and tags, like the mirror's pulls. */
    private JsonObject body() {
        Set<String> types = new LinkedHashSet<>();
        for (IndicatorType t : IndicatorType.values()) {
            types.addAll(t.mispTypes());
        }
        JsonObject body = new JsonObject().put("returnFormat", "json").put("type", new JsonArray(List.copyOf(types)))
                .put("includeContext", true).put("includeEventTags", true)
                // all tags for our own tag filters, and a stable order for offset paging (as the mirror's pulls)
                .put("includeAllTags", true).put("order", RestSearchRequest.ORDER);
        RestSearchRequest.detectionFilters(body, settings);
        return body;
    }

    private Future<Void> pages(JsonObject pass, int page, long[] maxTimestamp) {
        if (page > MAX_PAGES) {
            LOG.warn("Look-back poll of MISP {}: more than {} pages changed; the rest at the next poll", client.name(), MAX_PAGES);
            return Future.succeededFuture();
        }
        return client.searchPage(pass.copy().put("page", page).put("limit", pageSize), pageTimeout)
                .compose(answer -> vertx.executeBlocking(() -> parse(answer), false))
                .compose(p -> {
                    maxTimestamp[0] = Math.max(maxTimestamp[0], p.maxTimestamp());
                    Future<?> joined = p.attributes().isEmpty() ? Future.succeededFuture()
                            : lookBack.run(p.attributes(), settings.filter());
                    return joined.compose(r -> p.more() ? pages(pass, page + 1, maxTimestamp) : Future.succeededFuture());
                });
    }

    /**
     * One page: the attributes to look back at, the newest timestamp among them, and whether another page may hold
     * more — a short page is no end while MISP's row count says it was full (warning lists are applied after the
     * LIMIT: {@link RestSearchRequest#morePages}).
     */
    private record Page(List<MispAttribute> attributes, long maxTimestamp, boolean more) {
    }

    private Page parse(MispClient.SearchPage answer) {
        List<MispAttribute> all = MispJson.restSearchResult(
                MispJson.restSearchTree(answer.body().getBytes()), client.name());
        long max = all.stream().mapToLong(MispAttribute::timestamp).max().orElse(0);
        return new Page(all.stream().filter(a -> !settings.toIds() || a.toIds()).toList(), max,
                RestSearchRequest.morePages(answer.resultCount(), all.size(), pageSize, settings.enforceWarninglist()));
    }


    @Override
    public void close() {
        vertx.cancelTimer(timer);
    }
}
