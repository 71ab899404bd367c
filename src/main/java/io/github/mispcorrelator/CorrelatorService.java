package io.github.mispcorrelator;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.http.HttpApi;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleManager;
import io.github.mispcorrelator.store.Database;
import io.github.mispcorrelator.store.HitStore;
import io.github.mispcorrelator.store.PostgresHitStore;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

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
        LOG.info("Starting misp-correlator {} with {}", Version.CORRELATOR, config.describe());
        Vertx vertx = Vertx.vertx();
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
            MispSettings settings = MispSettings.from(config);
            MispSource misp = settings.url() != null
                    ? new MispClient(vertx, settings)
                    : FeedSource.load(config.get(CorrelatorConfig.FEED_DIR), settings);
            Correlator correlator = new Correlator(rules, misp, store);
            HttpApi api = new HttpApi(config.get(CorrelatorConfig.HTTP_HOST), config.get(CorrelatorConfig.HTTP_PORT),
                    config.get(CorrelatorConfig.HTTP_BODY_LIMIT), config.get(CorrelatorConfig.HTTP_BATCH_BODY_LIMIT),
                    correlator, rules, store);
            try {
                vertx.deployVerticle(api).await(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("cannot listen on " + config.get(CorrelatorConfig.HTTP_HOST) + ":"
                        + config.get(CorrelatorConfig.HTTP_PORT) + " (CORRELATOR_HTTP_HOST / CORRELATOR_HTTP_PORT): "
                        + e.getMessage(), e);
            }
            if (config.get(CorrelatorConfig.DRL_WATCH)) {
                rules.watch(config.get(CorrelatorConfig.DRL_RELOAD_DEBOUNCE));
            }
            return new CorrelatorService(vertx, database, jdbc, misp, rules, api);
        } catch (RuntimeException e) {
            rules.close();
            vertx.close();
            database.close();
            throw e;
        }
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

    @Override
    public void close() {
        try {
            vertx.close().await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Vert.x did not stop cleanly: {}", e.getMessage());
        }
        misp.close();
        jdbc.close();
        database.close();
        rules.close();
    }
}
