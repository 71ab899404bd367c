package io.github.mispcorrelator;

import io.github.mispcorrelator.config.ApiTokens;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.correlate.EventSink;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.HitStore;
import io.github.mispcorrelator.config.Version;

import io.github.mispcorrelator.audit.Audit;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.coverage.RecentAlerts;
import io.github.mispcorrelator.http.AccessControl;
import io.github.mispcorrelator.http.Admission;
import io.github.mispcorrelator.http.HttpApi;
import io.github.mispcorrelator.http.HttpLimits;
import io.github.mispcorrelator.http.Warnings;
import io.github.mispcorrelator.ingest.KafkaIngest;
import io.github.mispcorrelator.lookback.LookBackService;
import io.github.mispcorrelator.misp.Warninglists;
import io.github.mispcorrelator.store.Cluster;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.mirror.MispMirror;
import io.github.mispcorrelator.store.MirrorStore;
import io.github.mispcorrelator.misp.MispInstances;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleManager;
import io.github.mispcorrelator.store.Database;
import io.github.mispcorrelator.store.PostgresHitStore;
import io.github.mispcorrelator.ingest.AlertsTail;
import io.github.mispcorrelator.ingest.Rechecker;
import io.github.mispcorrelator.metrics.Metrics;
import io.github.mispcorrelator.misp.LookupService;
import io.github.mispcorrelator.misp.LookupSettings;
import io.github.mispcorrelator.misp.MultiMispSource;
import io.github.mispcorrelator.misp.SightingReporter;
import io.github.mispcorrelator.store.RecheckQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import io.github.mispcorrelator.store.TailOffsets;
import io.github.mispcorrelator.wazuh.AnalysisdSocket;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.net.PemKeyCertOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Wires the service from its configuration: database, rules, MISP source, HTTP API. Start-up work that blocks
 * (migrations, DRL compilation) happens here, before any event loop serves a request.
 */
public final class CorrelatorService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CorrelatorService.class);

    private final Vertx vertx;
    private final Database database;
    private final WorkerExecutor jdbc;
    private final MispSource misp;
    private final RuleManager rules;
    private final HttpApi api;
    private AlertsTail tail;
    private Rechecker rechecker;
    private Metrics metrics;
    private SightingReporter sightings;
    private AnalysisdSocket analysisd;
    private Audit audit;
    private Cluster cluster;
    private KafkaIngest kafka;
    private LookBackService lookBack;
    private List<HttpApi> apis = List.of();
    private HttpLimits limits;
    private Duration shutdownTimeout = Duration.ofSeconds(20);

    private CorrelatorService(Vertx vertx, Database database, WorkerExecutor jdbc, MispSource misp,
                              RuleManager rules, HttpApi api) {
        this.vertx = vertx;
        this.database = database;
        this.jdbc = jdbc;
        this.misp = misp;
        this.rules = rules;
        this.api = api;
    }

    /**
     * @throws io.github.mispcorrelator.rules.RuleCompilationException when the DRL does not compile
     * @throws IllegalStateException                                  when the database or the HTTP port cannot be had
     * @throws IllegalArgumentException                               when the MISP feed cannot be read
     */
    public static CorrelatorService start(CorrelatorConfig config) {
        return start(config, new VertxOptions());
    }

    /** @param vertxOptions e.g. a short {@code maxEventLoopExecuteTime} in tests, so a blocked event loop shows */
    public static CorrelatorService start(CorrelatorConfig config, VertxOptions vertxOptions) {
        LOG.info("Starting misp-correlator {} with {}", Version.CORRELATOR, config.describe());
        Vertx vertx = Vertx.vertx(vertxOptions);
        RuleManager rules;
        Database database;
        try {
            rules = new RuleManager(config.get(CorrelatorConfig.DRL_DIR), vertx);
            database = Database.open(config);
        } catch (RuntimeException e) {
            vertx.close();
            throw e;
        }
        try {
            WorkerExecutor jdbc = vertx.createSharedWorkerExecutor("jdbc", database.poolSize());
            HitStore store = new PostgresHitStore(database.dataSource(), jdbc);
            Metrics metrics = new Metrics();
            AtomicReference<Rechecker> rechecker = new AtomicReference<>();
            List<MispMirror> mirrors = new ArrayList<>();
            MispSource misp = mispSource(vertx, config, metrics, new MirrorStore(database.dataSource(), jdbc, database::dedicatedConnection), mirrors, () -> {
                Rechecker r = rechecker.get();
                if (r != null) {
                    r.trigger();
                }
            });
            // several instances on one database (README, Wazuh cluster): heartbeat, singletons, claimed re-checks
            Cluster cluster = new Cluster(vertx,
                    database.dataSource(), jdbc, config.instanceId(), config.get(CorrelatorConfig.CLUSTER_HEARTBEAT),
                    config.get(CorrelatorConfig.CLUSTER_LEASE_TTL));
            // the mirror's follow mode: the holder of mirror:<MISP> pulls it into the shared tables, every instance
            // follows them (README, "Wazuh cluster")
            for (MispMirror mirror : mirrors) {
                var pulls = cluster.singleton("mirror:" + mirror.name()).onAcquired(mirror::pullsTakenOver);
                mirror.pullOnlyWhile(pulls::held);
            }
            if (!mirrors.isEmpty()) {
                cluster.reportHolding("mirror", () -> {
                    Map<String, String> roles = new LinkedHashMap<>();
                    mirrors.forEach(m -> roles.put(m.name(), m.role()));
                    return roles;
                });
            }
            RecheckQueue recheckQueue = new RecheckQueue(database.dataSource(), jdbc, config.get(CorrelatorConfig.MISP_RECHECK_MAX),
                    cluster.instance(), config.get(CorrelatorConfig.CLUSTER_LEASE_TTL).multipliedBy(4));
            Correlator correlator = new Correlator(rules, misp, store, recheckQueue)
                    .matchParentDomains(config.get(CorrelatorConfig.MISP_MATCH_PARENT_DOMAINS));
            RecentAlerts recentAlerts =
                    new RecentAlerts(config.get(CorrelatorConfig.COVERAGE_RECENT_ALERTS));
            correlator.keepRecent(recentAlerts::add);
            SightingReporter sightings = sightings(vertx, config, metrics);
            if (sightings != null) {
                correlator.onHitsStored(hits -> sightings.report(hits.get(0).getAlert(),
                        hits.stream().map(Hit::attribute).toList()));
            }
            // the observation index and the look-back: see README, Look-back
            var lookBack = LookBackService.create(vertx, config, database.dataSource(),
                    jdbc, rules, store, misp, MispInstances.from(config), mirrors, metrics.registry());
            if (lookBack != null) {
                correlator.observing(lookBack.index());
            }
            // partitions and retention, and the hits API: see README, Auditing
            Audit audit = Audit.start(vertx, database.dataSource(), database.poolSize(),
                    config.get(CorrelatorConfig.RETENTION_DAYS), cluster.singleton("retention"));
            try {
                cluster.start().await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("First cluster heartbeat failed; singletons wait for the next: {}", e.getMessage());
            }
            PemKeyCertOptions tls = tls(config);
            Warnings warnings = new Warnings(metrics.registry(), Duration.ofMinutes(1));
            AccessControl access = accessControl(config).withWarnings(warnings);
            HttpLimits limits = new HttpLimits(config.get(CorrelatorConfig.HTTP_IDLE_TIMEOUT),
                    config.get(CorrelatorConfig.HTTP_HEADER_TIMEOUT), config.get(CorrelatorConfig.HTTP_BODY_TIMEOUT),
                    config.get(CorrelatorConfig.HTTP_MAX_CONNECTIONS), config.get(CorrelatorConfig.HTTP_BATCH_MAX_LINES),
                    new Admission(config.get(CorrelatorConfig.HTTP_MAX_IN_FLIGHT), config.get(CorrelatorConfig.HTTP_MAX_BATCHES))
                            .register(metrics.registry()), warnings);
            // one verticle per event loop: a request's whole path (parse, rules, events) runs on its event loop
            Supplier<HttpApi> newApi = () -> new HttpApi(config.get(CorrelatorConfig.HTTP_HOST),
                    config.get(CorrelatorConfig.HTTP_PORT),
                    config.get(CorrelatorConfig.HTTP_BODY_LIMIT), config.get(CorrelatorConfig.HTTP_BATCH_BODY_LIMIT),
                    correlator, rules, store)
                    .secured(access, tls)
                    .withLimits(limits)
                    .withHits(audit.hitsApi())
                    .withObservations(audit.observationsApi(database.dataSource(), config.get(CorrelatorConfig.LOOKBACK_DAYS)))
                    .withMetrics(metrics)
                    .withMispStatus(() -> MispSource.report(misp))
                    .withCluster(cluster::status)
                    .withCoverage(recentAlerts);
            HttpApi api = newApi.get();
            int instances = httpInstances(config);
            List<HttpApi> apis = new CopyOnWriteArrayList<>(List.of(api));
            try {
                vertx.deployVerticle(api).await(60, TimeUnit.SECONDS);
                if (instances > 1) {
                    vertx.deployVerticle(() -> {
                        HttpApi more = newApi.get();
                        apis.add(more);
                        return more;
                    }, new DeploymentOptions().setInstances(instances - 1))
                            .await(60, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot listen on " + config.get(CorrelatorConfig.HTTP_HOST) + ":"
                        + config.get(CorrelatorConfig.HTTP_PORT) + " (CORRELATOR_HTTP_HOST / CORRELATOR_HTTP_PORT"
                        + (tls != null ? "; or CORRELATOR_HTTP_TLS_CERT_FILE / CORRELATOR_HTTP_TLS_KEY_FILE" : "")
                        + "): " + e.getMessage(), e);
            }
            if (config.get(CorrelatorConfig.DRL_WATCH)) {
                rules.watch(config.get(CorrelatorConfig.DRL_RELOAD_DEBOUNCE));
            }
            mirrors.forEach(MispMirror::start);
            CorrelatorService service = new CorrelatorService(vertx, database, jdbc, misp, rules, api);
            service.audit = audit;
            service.lookBack = lookBack;
            if (lookBack != null) {
                lookBack.start();
            }
            service.apis = apis;
            service.limits = limits;
            service.shutdownTimeout = config.get(CorrelatorConfig.SHUTDOWN_TIMEOUT);
            service.metrics = metrics;
            service.sightings = sightings;
            service.cluster = cluster;
            try {
                service.startTail(config, correlator);
                service.startKafka(config, correlator);
                service.rechecker = new Rechecker(vertx, recheckQueue, correlator, misp,
                        service.analysisd == null ? EventSink.NONE : service.analysisd,
                        config.get(CorrelatorConfig.MISP_RECHECK_INTERVAL));
                rechecker.set(service.rechecker);
            } catch (RuntimeException e) {
                service.close();
                throw e;
            }
            return service;
        } catch (RuntimeException e) {
            rules.close();
            vertx.close();
            database.close();
            throw e;
        }
    }

    /** API tokens by role, from {@code INGEST_TOKEN}, {@code READ_TOKEN}, {@code ADMIN_TOKEN}. */
    private static AccessControl accessControl(CorrelatorConfig config) {
        Map<AccessControl.Role, List<ApiTokens.Digest>> tokens = new EnumMap<>(AccessControl.Role.class);
        config.find(CorrelatorConfig.INGEST_TOKEN).ifPresent(t -> tokens.put(AccessControl.Role.INGEST, t));
        config.find(CorrelatorConfig.READ_TOKEN).ifPresent(t -> tokens.put(AccessControl.Role.READ, t));
        config.find(CorrelatorConfig.ADMIN_TOKEN).ifPresent(t -> tokens.put(AccessControl.Role.ADMIN, t));
        return AccessControl.of(tokens);
    }

    /** HTTPS from PEM files, when both are configured. */
    private static PemKeyCertOptions tls(CorrelatorConfig config) {
        Path cert = config.get(CorrelatorConfig.HTTP_TLS_CERT_FILE);
        Path key = config.get(CorrelatorConfig.HTTP_TLS_KEY_FILE);
        return cert == null || key == null ? null
                : new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString());
    }

    /**
     * Where indicators are looked up: each configured MISP behind the lookup layer (cache, batching, breaker) or,
     * with {@code MISP_MIRROR}, its local mirror (added to {@code mirrors}, started by the caller); several asked
     * together, or the feed directory when no MISP is configured.
     */
    static MispSource mispSource(Vertx vertx, CorrelatorConfig config, Metrics metrics, MirrorStore mirrorStore,
                                 List<MispMirror> mirrors, Runnable onRecovery) {
        List<MispSettings> instances = MispInstances.from(config);
        if (instances.isEmpty()) {
            return FeedSource.load(config.get(CorrelatorConfig.FEED_DIR), MispSettings.from(config),
                    config.find(CorrelatorConfig.FEED_WARNINGLISTS).map(Warninglists::load)
                            .orElse(Warninglists.NONE));
        }
        LookupSettings lookup = LookupSettings.from(config);
        List<MispSource> sources = new ArrayList<>();
        for (MispSettings settings : instances) {
            MispClient client = new MispClient(vertx, settings);
            LookupService live = new LookupService(vertx, client, settings, lookup, metrics.registry(), onRecovery);
            if (config.get(CorrelatorConfig.MISP_MIRROR)) {
                // MISP_MIRROR: answered from the local mirror once it is loaded, by live MISP until then
                MispMirror mirror = new MispMirror(vertx, client, settings, MispMirror.Settings.from(config), mirrorStore,
                        live, metrics.registry(), onRecovery);
                mirrors.add(mirror);
                sources.add(mirror);
            } else {
                sources.add(live);
            }
        }
        return sources.size() == 1 ? sources.get(0) : new MultiMispSource(sources);
    }

    /**
     * How many HTTP verticles share the port: {@code HTTP_INSTANCES}, 0 meaning one per core. With a random port (0,
     * tests) there is one: several would each get a port of their own.
     */
    static int httpInstances(CorrelatorConfig config) {
        if (config.get(CorrelatorConfig.HTTP_PORT) == 0) {
            return 1;
        }
        int n = config.get(CorrelatorConfig.HTTP_INSTANCES);
        return n > 0 ? n : Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Sightings to each configured MISP, when {@code MISP_SIGHTINGS} is on. */
    static SightingReporter sightings(Vertx vertx, CorrelatorConfig config, Metrics metrics) {
        List<MispSettings> configured = MispInstances.from(config);
        if (!config.get(CorrelatorConfig.MISP_SIGHTINGS) || configured.isEmpty()) {
            return null;
        }
        Map<String, MispSettings> instances = new HashMap<>();
        // MispClient names its instance by URL: the attribute's instance finds its MISP again
        configured.forEach(m -> instances.put(m.name(), m));
        return new SightingReporter(vertx, instances, config.get(CorrelatorConfig.MISP_SIGHTINGS_SOURCE),
                config.get(CorrelatorConfig.MISP_SIGHTINGS_INTERVAL), metrics.registry());
    }

    /** Tail ingest, when {@code TAIL_FILE} is set: follow alerts.json and send events to analysisd. */
    private void startTail(CorrelatorConfig config, Correlator correlator) {
        Path file = config.get(CorrelatorConfig.TAIL_FILE);
        if (file == null) {
            return;
        }
        Path socketPath = config.get(CorrelatorConfig.ANALYSISD_SOCKET);
        analysisd = socketPath == null ? null : AnalysisdSocket.open(socketPath);
        tail = new AlertsTail(vertx, file, correlator, new TailOffsets(database.dataSource(), jdbc, cluster.instance()),
                analysisd == null ? EventSink.NONE : analysisd,
                config.get(CorrelatorConfig.TAIL_START).equals("beginning") ? AlertsTail.StartAt.BEGINNING : AlertsTail.StartAt.END,
                config.get(CorrelatorConfig.TAIL_POLL));
        try {
            tail.start().await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start following " + file + " (CORRELATOR_TAIL_FILE): " + e.getMessage(), e);
        }
    }

    /** Kafka ingest, when {@code KAFKA_BOOTSTRAP} is set: a member of the consumer group {@code KAFKA_GROUP}. */
    private void startKafka(CorrelatorConfig config, Correlator correlator) {
        if (config.get(CorrelatorConfig.KAFKA_BOOTSTRAP) == null) {
            return;
        }
        kafka = new KafkaIngest(vertx, correlator,
                KafkaIngest.Settings.from(config)).start();
        cluster.reportHolding("kafka_partitions", kafka::partitions);
    }

    /** Kafka ingest, when it runs. */
    public Optional<KafkaIngest> kafka() {
        return Optional.ofNullable(kafka);
    }

    public Cluster cluster() {
        return cluster;
    }

    /** The tailer, when one runs. */
    public Optional<AlertsTail> tail() {
        return Optional.ofNullable(tail);
    }

    public int httpPort() {
        return api.actualPort();
    }

    public RuleSet rules() {
        return rules.get();
    }

    public RuleManager ruleManager() {
        return rules;
    }

    public Database database() {
        return database;
    }

    public Vertx vertx() {
        return vertx;
    }

    /** The look-back, unless {@code LOOKBACK_ENABLED} is off. */
    public Optional<LookBackService> lookBack() {
        return Optional.ofNullable(lookBack);
    }

    /**
     * Stops gracefully (SIGTERM): new requests are turned away (503, and the listeners close), the alerts in flight
     * finish and are answered — at most {@code SHUTDOWN_TIMEOUT} — then everything stops. Bounded throughout, so the
     * process exits within the unit's stop timeout.
     */
    @Override
    public void close() {
        if (limits != null) {
            long t0 = System.nanoTime();
            limits.admission().close();
            if (tail != null) {
                // no more lines are read; the chunk in flight finishes below
                tail.close();
            }
            // the listeners stop taking connections; their shutdown would also wait for idle keep-alive
            // connections, so it is not awaited: the admitted work is, below, and Vert.x closes the rest
            apis.forEach(a -> a.shutdown(shutdownTimeout));
            long left = Math.max(0, shutdownTimeout.toMillis() - (System.nanoTime() - t0) / 1_000_000);
            if (!limits.admission().awaitIdle(left)) {
                LOG.warn("Stopping with {} requests still in flight after {} ms (CORRELATOR_SHUTDOWN_TIMEOUT)",
                        limits.admission().inFlight(), shutdownTimeout.toMillis());
            } else {
                LOG.info("Requests in flight drained in {} ms; stopping", (System.nanoTime() - t0) / 1_000_000);
            }
        }
        if (kafka != null) {
            // then Kafka (the HTTP API drained above): what is in flight finishes and is committed while the store is still there
            kafka.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (sightings != null) {
            // sends what was collected before Vert.x stops
            sightings.close();
        }
        if (rechecker != null) {
            rechecker.close();
        }
        if (lookBack != null) {
            // writes the last aggregates before the pool closes
            lookBack.close();
        }
        if (audit != null) {
            audit.close();
        }
        if (tail != null) {
            tail.close();
        }
        if (analysisd != null) {
            analysisd.close();
        }
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Vert.x did not stop cleanly: {}", e.getMessage());
        }
        misp.close();
        jdbc.close();
        database.close();
        rules.close();
    }
}
