package io.github.mispcorrelator.http;

import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.coverage.RecentAlerts;
import io.github.mispcorrelator.metrics.Metrics;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleManager;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.ruletest.RuleTestCase;
import io.github.mispcorrelator.correlate.HitStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

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
    private Routes hitsApi;
    private Routes observationsApi;
    private HttpServer server;
    private Metrics metrics;
    private Supplier<JsonObject> mispStatus;
    private RecentAlerts recentAlerts;
    private HttpLimits limits = HttpLimits.defaults();
    /** Connections of this verticle waiting for a request's headers, with the timer that closes them. */
    private final Map<HttpConnection, Long> awaitingHeaders = new HashMap<>();

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
        RecentAlerts recent = recentAlerts;
        if (recent == null || recent.capacity() == 0) {
            Responses.error(ctx, 404, "the blind-spot report is off (COVERAGE_RECENT_ALERTS=0)");
            return;
        }
        RuleSet ruleSet;
        do {
            ruleSet = rules.get();
        } while (!ruleSet.acquire());
        RuleSet leased = ruleSet;
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
    public HttpApi withMispStatus(Supplier<JsonObject> mispStatus) {
        this.mispStatus = mispStatus;
        return this;
    }

    private Supplier<Future<JsonObject>> clusterStatus;

    /** {@code GET /v1/cluster}: the instances sharing the database and what each holds; call before deploying. */
    public HttpApi withCluster(Supplier<Future<JsonObject>> clusterStatus) {
        this.clusterStatus = clusterStatus;
        return this;
    }

    /** Mounts {@code GET /v1/observations} (the observation index). */
    public HttpApi withObservations(Routes observationsApi) {
        this.observationsApi = observationsApi;
        return this;
    }

    /** Timeouts, connection cap and admission control (shared by every verticle); call before deploying. */
    public HttpApi withLimits(HttpLimits limits) {
        this.limits = limits;
        return this;
    }

    /** {@code GET /v1/coverage}: the blind-spot report over the alerts {@code recent} holds. */
    public HttpApi withCoverage(RecentAlerts recent) {
        this.recentAlerts = recent;
        return this;
    }

    /** The auditors' endpoints ({@code /v1/hits…}) and page ({@code /ui/}); call before deploying. */
    public HttpApi withHits(Routes hitsApi) {
        this.hitsApi = hitsApi;
        return this;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        // first of all: the request's headers are in (its header timer stops), its body has a deadline
        router.route().handler(this::deadlines);
        if (access != null) {
            // first: nothing, not even a body, is read for a caller without the role
            router.route().handler(access);
        }
        // its own route: Vert.x Web wants body handlers first on a route
        router.post().pathRegex("/v1/(alerts(/batch)?|rules/test)").handler(HttpApi::jsonBody);
        Admission admission = limits.admission();
        // admitted before the body is read: a full service holds no more bodies
        // (routes of their own: Vert.x Web wants a body handler first on its route)
        router.post("/v1/alerts").handler(ctx -> admit(ctx, admission.tryAlert(), admission::releaseAlert,
                "HTTP_MAX_IN_FLIGHT", "HTTP_BODY_LIMIT"));
        router.post("/v1/alerts")
                .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
                .handler(this::alert);
        BatchIngest batch = new BatchIngest(correlator, limits.maxBatchLines());
        router.post("/v1/alerts/batch").handler(ctx -> admit(ctx, admission.tryBatch(), admission::releaseBatch,
                "HTTP_MAX_BATCHES", "HTTP_BATCH_BODY_LIMIT"));
        router.post("/v1/alerts/batch")
                .handler(BodyHandler.create(false).setBodyLimit(batchBodyLimit))
                .handler(ctx -> body(ctx, batchBodyLimit, "HTTP_BATCH_BODY_LIMIT", buffer -> {
                    Permit permit = ctx.get(Permit.KEY);
                    permit.working();
                    // splitting megabytes into lines is work for a worker, not the event loop
                    vertx.executeBlocking(() -> batch.split(buffer), false)
                        .transform(ar -> ar.succeeded() ? batch.process(ar.result())
                                : ar.cause() instanceof BatchIngest.Refused r ? Future.succeededFuture(BatchIngest.refusedAnswer(r))
                                : Future.<BatchIngest.Answer>failedFuture(ar.cause()))
                        .onSuccess(answer -> {
                            int status = answer.status();
                            if (status == 503) {
                                ctx.response().putHeader("Retry-After", "5");
                            }
                            if (status == 400 || status == 413) {
                                limits.warnings().warn(LOG, "bad_batch", "Batch from {} refused ({}): {}",
                                        ctx.request().remoteAddress(), status, answer.error());
                            }
                            // thousands of results encode for long: on a worker, not the event loop
                            vertx.executeBlocking(answer::encoded, false)
                                    .onSuccess(encoded -> Responses.json(ctx, status, encoded))
                                    .onFailure(ctx::fail)
                                    .onComplete(ar -> permit.done());
                        })
                        .onFailure(e -> {
                            permit.done();
                            ctx.fail(e);
                        });
                }));
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
        // shippers may gzip their batches (Content-Encoding: gzip): decoded by RequestBodies, not by the server
        HttpServerOptions options = new HttpServerOptions().setCompressionSupported(true).setDecompressionSupported(false)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, limits.idleTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                // no HTTP/2 prior-knowledge sniffing: it delays the connection handler (cap, header deadline) until the
                // client's first bytes, which a silent connection never sends
                .setHttp2ClearTextEnabled(false);
        if (tls != null) {
            options.setSsl(true).setKeyCertOptions(tls);
        }
        return vertx.createHttpServer(options)
                .connectionHandler(this::connected)
                .requestHandler(router)
                .listen(port, host)
                .onSuccess(s -> {
                    server = s;
                    LOG.info("HTTP API listening on {}://{}:{}{}", tls != null ? "https" : "http", host, s.actualPort(),
                            access != null && access.enabled() ? "" : " (no API tokens: open to this host only)");
                });
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
        body(ctx, bodyLimit, "HTTP_BODY_LIMIT", buffer -> alert(ctx, buffer));
    }

    private void alert(RoutingContext ctx, Buffer body) {
        String format = ctx.request().getParam("format");
        if (format != null && !format.equals("analysisd")) {
            Responses.error(ctx, 400, "format: expected analysisd (the events also as analysisd messages), or none");
            return;
        }
        boolean analysisdLines = format != null;
        Alert alert;
        try {
            alert = AlertParser.parse(body.getBytes());
        } catch (InvalidAlertException e) {
            limits.warnings().warn(LOG, "bad_alert", "Alert from {} refused (400): {}", ctx.request().remoteAddress(),
                    Alert.abbreviate(e.getMessage(), 200));
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        Permit permit = ctx.get(Permit.KEY);
        permit.working();
        // the slot is given back once the answer is written (a draining shutdown waits for it)
        correlator.process(alert)
                .onSuccess(c -> Responses.json(ctx, 200, AlertAnswer.encoded(c, analysisdLines)))
                .onFailure(e -> {
                    IngestFailure f = IngestFailure.of(e, false);
                    if (f.retry()) {
                        limits.warnings().warn(LOG, "store_unavailable", "Alert {} not stored, answered 503: {}",
                                alert.logId(), e.getMessage());
                        ctx.response().putHeader("Retry-After", "5");
                    } else {
                        LOG.atError().addKeyValue("alert_id", alert.logId()).setCause(e).log("Alert {} failed", alert.logId());
                    }
                    Responses.error(ctx, f.status(), f.error());
                })
                .onComplete(ar -> permit.done());
    }

    // ---- limits: admission, body decoding, deadlines, connections -------------------------------------------------

    /** An admitted ingest request's slot: given back once its work is done, or with its answer if it never started. */
    private static final class Permit {
        static final String KEY = "admission.permit";
        private final Runnable release;
        private final AtomicBoolean released = new AtomicBoolean();
        private volatile boolean working;

        Permit(Runnable release) {
            this.release = release;
        }

        /** The alerts are being processed: the slot is held until {@link #done}, even if the caller goes away. */
        void working() {
            working = true;
        }

        void answered() {
            if (!working) {
                done();
            }
        }

        void done() {
            if (released.compareAndSet(false, true)) {
                release.run();
            }
        }
    }

    /** @param limitKey the key of the route's body limit, which a 413 names */
    private void admit(RoutingContext ctx, boolean admitted, Runnable release, String key, String limitKey) {
        ctx.put(Responses.LIMIT_KEY, limitKey);
        if (!admitted) {
            limits.warnings().warn(LOG, "shed", "Service full ({} reached): {} {} answered 503", key,
                    ctx.request().method(), ctx.request().path());
            // the body is not read: the connection cannot be reused
            ctx.response().putHeader("Retry-After", "1").putHeader("Connection", "close");
            Responses.error(ctx, 503, "the service is full (CORRELATOR_" + key + "); nothing was read, send again later");
            return;
        }
        Permit permit = new Permit(release);
        ctx.put(Permit.KEY, permit);
        ctx.addEndHandler(v -> permit.answered());
        ctx.next();
    }

    /** Hands the decoded body to {@code then}, or answers why it cannot be read (400, 413, 415). */
    private void body(RoutingContext ctx, long limit, String key, Consumer<Buffer> then) {
        RequestBodies.decoded(vertx, ctx, limit, key).onComplete(ar -> {
            if (ar.succeeded()) {
                then.accept(ar.result());
            } else if (ar.cause() instanceof RequestBodies.Refused r) {
                limits.warnings().warn(LOG, "bad_body", "Request {} {} from {} refused ({}): {}", ctx.request().method(),
                        ctx.request().path(), ctx.request().remoteAddress(), r.status, r.getMessage());
                Responses.error(ctx, r.status, r.getMessage());
            } else {
                ctx.fail(ar.cause());
            }
        });
    }

    /** A new connection: counted against the cap, and given {@code HTTP_HEADER_TIMEOUT} to send its first request. */
    private void connected(HttpConnection conn) {
        int open = limits.connections().incrementAndGet();
        conn.closeHandler(v -> {
            limits.connections().decrementAndGet();
            Long timer = awaitingHeaders.remove(conn);
            if (timer != null) {
                vertx.cancelTimer(timer);
            }
        });
        if (open > limits.maxConnections()) {
            limits.warnings().warn(LOG, "connection_cap", "{} connections open, the cap set by CORRELATOR_HTTP_MAX_CONNECTIONS:"
                    + " closing new connections (this one from {})", limits.maxConnections(), conn.remoteAddress());
            hardClose(conn);
            return;
        }
        awaitHeaders(conn, false);
    }

    /**
     * Closes the socket now: {@code HttpConnection.close()} is a graceful shutdown that waits for the request being
     * received, which is what a client trickling its headers never finishes.
     */
    private static void hardClose(HttpConnection conn) {
        if (conn instanceof ConnectionBase base) {
            base.channel().close();
        } else {
            conn.close();
        }
    }

    /**
     * @param afterAnswer a keep-alive connection waiting for its next request: it may idle up to
     *                    {@code HTTP_IDLE_TIMEOUT} (shippers keep connections for reuse), and its next headers are due
     *                    by then, however they trickle in
     */
    private void awaitHeaders(HttpConnection conn, boolean afterAnswer) {
        long ms = afterAnswer ? Math.max(limits.headerTimeout().toMillis(), limits.idleTimeout().toMillis())
                : limits.headerTimeout().toMillis();
        long timer = vertx.setTimer(Math.max(1, ms), t -> {
            if (awaitingHeaders.remove(conn) != null) {
                limits.warnings().warn(LOG, "header_timeout", "No request headers from {} within {} ms"
                        + " (CORRELATOR_HTTP_HEADER_TIMEOUT): connection closed", conn.remoteAddress(),
                        ms);
                hardClose(conn);
            }
        });
        Long previous = awaitingHeaders.put(conn, timer);
        if (previous != null) {
            vertx.cancelTimer(previous);
        }
    }

    /** The headers are in; the body gets {@code HTTP_BODY_TIMEOUT}, and after the answer the next request's headers. */
    private void deadlines(RoutingContext ctx) {
        HttpConnection conn = ctx.request().connection();
        Long headerTimer = awaitingHeaders.remove(conn);
        if (headerTimer != null) {
            vertx.cancelTimer(headerTimer);
        }
        long bodyTimer = ctx.request().isEnded() ? -1 : vertx.setTimer(Math.max(1, limits.bodyTimeout().toMillis()), t -> {
            if (!ctx.request().isEnded() && !ctx.response().ended() && !ctx.response().closed()) {
                limits.warnings().warn(LOG, "body_timeout", "Body of {} {} from {} not received within {} ms"
                        + " (CORRELATOR_HTTP_BODY_TIMEOUT): answered 408", ctx.request().method(), ctx.request().path(),
                        ctx.request().remoteAddress(), limits.bodyTimeout().toMillis());
                ctx.response().putHeader("Connection", "close");
                Responses.error(ctx, 408, "request body not received within " + limits.bodyTimeout().toMillis()
                        + " ms (CORRELATOR_HTTP_BODY_TIMEOUT)");
            }
        });
        ctx.addEndHandler(v -> {
            if (bodyTimer >= 0) {
                vertx.cancelTimer(bodyTimer);
            }
            if (!ctx.response().closed()) {
                // keep-alive: the next request's headers have a deadline too
                awaitHeaders(conn, true);
            }
        });
        ctx.next();
    }

    /** Stops accepting connections and lets the requests in flight finish (at most {@code drain}). */
    public Future<Void> shutdown(Duration drain) {
        return server == null ? Future.succeededFuture()
                : server.shutdown(drain.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Rules and lookup on one alert, nothing stored and nothing sent: for detection engineers. */
    private void testRules(RoutingContext ctx) {
        body(ctx, bodyLimit, "HTTP_BODY_LIMIT", buffer -> testRules(ctx, buffer));
    }

    private void testRules(RoutingContext ctx, Buffer body) {
        RuleTestCase testCase;
        try {
            testCase = RuleTestCase.fromRequest(body.getBytes());
        } catch (InvalidAlertException e) {
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        MispSource source = testCase.misp().isPresent() ? testCase.misp().get() : correlator.misp();
        correlator.dryRun(testCase.alert(), source)
                .onSuccess(c -> Responses.json(ctx, 200, AlertAnswer.ofTest(c)))
                .onFailure(e -> {
                    IngestFailure f = IngestFailure.of(e, false);
                    Responses.error(ctx, f.status(), f.error());
                });
    }

    /**
     * With the local mirror, each MISP's role here (puller or follower), the last change applied and the lag — for
     * information: like MISP's state, the mirror's does not decide readiness.
     */
    private JsonObject mirrorReadiness(JsonObject answer) {
        if (mispStatus == null) {
            return answer;
        }
        JsonObject report = mispStatus.get();
        if (!"mirror".equals(report.getString("mode"))) {
            return answer;
        }
        JsonArray mirrors = new JsonArray();
        report.getJsonArray("instances").forEach(o -> {
            JsonObject m = (JsonObject) o;
            JsonObject follow = m.getJsonObject("follow", new JsonObject());
            mirrors.add(new JsonObject().put("instance", m.getString("instance")).put("role", m.getString("role"))
                    .put("loaded", m.getBoolean("loaded")).put("change_applied", follow.getValue("change_applied"))
                    .put("changes_behind", follow.getValue("changes_behind"))
                    .put("lag_seconds", m.getValue("lag_seconds")));
        });
        return answer.put("mirror", mirrors);
    }

    private void ready(RoutingContext ctx) {
        RuleSet ruleSet = rules.get();
        store.ping().otherwise(false).onComplete(ar -> {
            boolean storeUp = ar.result();
            // ready = alerts are accepted: MISP's state is not part of it (alerts are still taken and queued for a
            // re-check while it is down; a balancer must not drop every instance at once), see /v1/misp/status
            boolean shedding = limits.admission().shedding();
            boolean up = ruleSet != null && storeUp && !shedding;
            if (!up) {
                ctx.response().putHeader("Retry-After", "5");
            }
            JsonObject answer = new JsonObject()
                    .put("status", up ? "UP" : "DOWN")
                    .put("rules", ruleSet == null ? null : ruleSet.version())
                    .put("store", storeUp ? "UP" : "DOWN")
                    .put("admission", shedding ? "FULL" : "OPEN");
            Responses.json(ctx, up ? 200 : 503, mirrorReadiness(answer));
        });
    }
}
