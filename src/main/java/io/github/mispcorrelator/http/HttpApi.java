package io.github.mispcorrelator.http;

import io.github.mispcorrelator.Correlator;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.audit.HitsApi;
import io.github.mispcorrelator.ingest.BatchIngest;
import io.github.mispcorrelator.metrics.Metrics;
import io.github.mispcorrelator.rules.RuleExecutionException;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleManager;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.ruletest.RuleTestCase;
import io.github.mispcorrelator.store.HitStore;
import io.github.mispcorrelator.store.StoreUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The HTTP API: alerts in ({@code /v1/alerts}, {@code /v1/alerts/batch}), rules ({@code /v1/rules…}) and health.
 * Every answer, errors included, is JSON.
 */
public final class HttpApi extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

    private final String host;
    private final int port;
    private final long bodyLimit;
    private final long batchBodyLimit;
    private final Correlator correlator;
    private final RuleManager rules;
    private final HitStore store;
    private AccessControl access;
    private PemKeyCertOptions tls;
    private HitsApi hitsApi;
    private io.github.mispcorrelator.audit.ObservationsApi observationsApi;
    private HttpServer server;
    private Metrics metrics;
    private java.util.function.Supplier<JsonObject> mispStatus;
    private io.github.mispcorrelator.coverage.RecentAlerts recentAlerts;

    public HttpApi(String host, int port, long bodyLimit, long batchBodyLimit, Correlator correlator, RuleManager rules,
                   HitStore store) {
        this.host = host;
        this.port = port;
        this.bodyLimit = bodyLimit;
        this.batchBodyLimit = batchBodyLimit;
        this.correlator = correlator;
        this.rules = rules;
        this.store = store;
    }

    /** The blind-spot report over the recent live alerts, computed on a worker with the rules in force. */
    private void coverage(RoutingContext ctx) {
        io.github.mispcorrelator.coverage.RecentAlerts recent = recentAlerts;
        if (recent == null || recent.capacity() == 0) {
            Responses.error(ctx, 404, "the blind-spot report is off (COVERAGE_RECENT_ALERTS=0)");
            return;
        }
        io.github.mispcorrelator.rules.RuleSet ruleSet;
        do {
            ruleSet = rules.get();
        } while (!ruleSet.acquire());
        io.github.mispcorrelator.rules.RuleSet leased = ruleSet;
        vertx.executeBlocking(() -> recent.report(leased).toJson()
                        .put("recent_alerts_kept", recent.capacity())
                        .put("ruleset", leased.version()), false)
                .onComplete(ar -> leased.release())
                .onSuccess(json -> Responses.json(ctx, 200, json))
                .onFailure(ctx::fail);
    }

    /**
     * Tokens and roles in front of every route, and HTTPS when {@code tls} is given; call before deploying.
     *
     * @param tls the PEM key and certificate, or null for plain HTTP
     */
    public HttpApi secured(AccessControl access, PemKeyCertOptions tls) {
        this.access = access;
        this.tls = tls;
        return this;
    }

    /** Prometheus text at {@code GET /metrics}; call before deploying. */
    public HttpApi withMetrics(Metrics metrics) {
        this.metrics = metrics;
        return this;
    }

    /** {@code GET /v1/misp/status}: how lookups are answered, the local mirror's state and progress; call before deploying. */
    public HttpApi withMispStatus(java.util.function.Supplier<JsonObject> mispStatus) {
        this.mispStatus = mispStatus;
        return this;
    }

    private java.util.function.Supplier<Future<JsonObject>> clusterStatus;

    /** {@code GET /v1/cluster}: the instances sharing the database and what each holds; call before deploying. */
    public HttpApi withCluster(java.util.function.Supplier<Future<JsonObject>> clusterStatus) {
        this.clusterStatus = clusterStatus;
        return this;
    }

    /** Mounts {@code GET /v1/observations} (the observation index). */
    public HttpApi withObservations(io.github.mispcorrelator.audit.ObservationsApi observationsApi) {
        this.observationsApi = observationsApi;
        return this;
    }

    /** The auditors' endpoints ({@code /v1/hits…}) and page ({@code /ui/}); call before deploying. */
    /** {@code GET /v1/coverage}: the blind-spot report over the alerts {@code recent} holds. */
    public HttpApi withCoverage(io.github.mispcorrelator.coverage.RecentAlerts recent) {
        this.recentAlerts = recent;
        return this;
    }

    public HttpApi withHits(HitsApi hitsApi) {
        this.hitsApi = hitsApi;
        return this;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        if (access != null) {
            // first: nothing, not even a body, is read for a caller without the role
            router.route().handler(access);
        }
        // its own route: Vert.x Web wants body handlers first on a route
        router.post().pathRegex("/v1/(alerts(/batch)?|rules/test)").handler(HttpApi::jsonBody);
        router.post("/v1/alerts")
                .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
                .handler(this::alert);
        BatchIngest batch = new BatchIngest(correlator);
        router.post("/v1/alerts/batch")
                .handler(BodyHandler.create(false).setBodyLimit(batchBodyLimit))
                .handler(ctx -> batch.process(ctx.body().buffer() == null ? io.vertx.core.buffer.Buffer.buffer() : ctx.body().buffer())
                        .onSuccess(result -> {
                            int status = (Integer) result.remove("status");
                            if (status == 503) {
                                ctx.response().putHeader("Retry-After", "5");
                            }
                            Responses.json(ctx, status, result);
                        })
                        .onFailure(ctx::fail));
        router.get("/v1/rules").handler(ctx -> Responses.json(ctx, 200, rules.status()));
        router.get("/v1/coverage").handler(this::coverage);
        router.post("/v1/rules/reload").handler(ctx -> rules.reload("api").onSuccess(outcome ->
                Responses.json(ctx, outcome.outcome().equals("rejected") ? 422 : 200, outcome.toJson())).onFailure(ctx::fail));
        router.post("/v1/rules/test")
                .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
                .handler(this::testRules);
        if (observationsApi != null) {
            observationsApi.mount(router);
        }
        if (hitsApi != null) {
            hitsApi.mount(router);
        }
        if (metrics != null) {
            router.get("/metrics").handler(ctx -> ctx.response()
                    .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(metrics.scrape()));
        }
        if (mispStatus != null) {
            router.get("/v1/misp/status").handler(ctx -> Responses.json(ctx, 200, mispStatus.get()));
        }
        if (clusterStatus != null) {
            router.get("/v1/cluster").handler(ctx -> clusterStatus.get()
                    .onSuccess(status -> Responses.json(ctx, 200, status))
                    .onFailure(e -> {
                        // the instances are known only to the database: without it, nothing to say
                        ctx.response().putHeader("Retry-After", "5");
                        Responses.error(ctx, 503, "PostgreSQL unavailable: " + e.getMessage());
                    }));
        }
        router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(this::ready);
        router.route().failureHandler(Responses::failure);
        router.errorHandler(404, ctx -> Responses.error(ctx, 404, "no such endpoint: " + ctx.request().method()
                + " " + ctx.request().path()));
        router.errorHandler(405, ctx -> Responses.error(ctx, 405, "method " + ctx.request().method()
                + " not allowed on " + ctx.request().path()));
        // shippers may gzip their batches (Content-Encoding: gzip)
        HttpServerOptions options = new HttpServerOptions().setCompressionSupported(true).setDecompressionSupported(true);
        if (tls != null) {
            options.setSsl(true).setKeyCertOptions(tls);
        }
        return vertx.createHttpServer(options)
                .requestHandler(router)
                .listen(port, host)
                .onSuccess(s -> {
                    server = s;
                    LOG.info("HTTP API listening on {}://{}:{}{}", tls != null ? "https" : "http", host, s.actualPort(),
                            access != null && access.enabled() ? "" : " (no API tokens: open to this host only)");
                });
    }

    /** How long a stop waits for requests in flight (systemd's TimeoutStopSec=90s leaves room for it). */
    public static final long SHUTDOWN_GRACE_SECONDS = 20;

    /**
     * On stop (SIGTERM: Vert.x undeploys this verticle), no new connection is accepted and the requests in flight
     * finish — an alert being looked up is answered and its hits stored — for up to {@link #SHUTDOWN_GRACE_SECONDS}.
     */
    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * These endpoints read JSON whatever the Content-Type says: {@code curl --data-binary} sends
     * {@code application/x-www-form-urlencoded}, which would make the body handler decode an alert as a web form
     * (and fail on its first '%').
     */
    private static void jsonBody(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/")) {
            ctx.request().headers().set("Content-Type", "application/json");
        }
        ctx.next();
    }

    /** The port actually bound (differs from the configured one when that was 0). */
    public int actualPort() {
        return server.actualPort();
    }

    private void alert(RoutingContext ctx) {
        Alert alert;
        try {
            alert = AlertParser.parse(ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes());
        } catch (InvalidAlertException e) {
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        correlator.process(alert)
                .onSuccess(c -> Responses.json(ctx, 200, c.toJson()))
                .onFailure(e -> {
                    if (e instanceof StoreUnavailableException) {
                        LOG.atWarn().addKeyValue("alert_id", alert.getId()).log("Alert {} not stored, answered 503: {}", alert.getId(), e.getMessage());
                        ctx.response().putHeader("Retry-After", "5");
                        Responses.error(ctx, 503, "hit store unavailable; nothing was stored, send the alert again");
                    } else if (e instanceof RuleExecutionException) {
                        LOG.atError().addKeyValue("alert_id", alert.getId()).log("Alert {}: {}", alert.getId(), e.getMessage());
                        Responses.error(ctx, 500, e.getMessage());
                    } else {
                        LOG.atError().addKeyValue("alert_id", alert.getId()).setCause(e).log("Alert {} failed", alert.getId());
                        Responses.error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
                    }
                });
    }

    /** Rules and lookup on one alert, nothing stored and nothing sent: for detection engineers. */
    private void testRules(RoutingContext ctx) {
        RuleTestCase testCase;
        try {
            testCase = RuleTestCase.fromRequest(ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes());
        } catch (InvalidAlertException e) {
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        MispSource source = testCase.misp().isPresent() ? testCase.misp().get() : correlator.misp();
        correlator.dryRun(testCase.alert(), source)
                .onSuccess(c -> Responses.json(ctx, 200, c.toTestJson()))
                .onFailure(e -> Responses.error(ctx, e instanceof RuleExecutionException ? 422 : 500, e.getMessage()));
    }

    private void ready(RoutingContext ctx) {
        RuleSet ruleSet = rules.get();
        store.ping().otherwise(false).onComplete(ar -> {
            boolean storeUp = ar.result();
            boolean up = ruleSet != null && storeUp && correlator.misp().ready();
            Responses.json(ctx, up ? 200 : 503, new JsonObject()
                    .put("status", up ? "UP" : "DOWN")
                    .put("rules", ruleSet == null ? null : ruleSet.version())
                    .put("store", storeUp ? "UP" : "DOWN")
                    .put("misp", correlator.misp().name()));
        });
    }
}
