package io.github.mispcorrelator.lookback;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.mirror.MispMirror;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.correlate.HitStore;
import io.github.mispcorrelator.store.ObservationIndex;
import io.github.mispcorrelator.store.ObservationStore;
import io.github.mispcorrelator.wazuh.AnalysisdSocket;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The look-back, wired from the configuration ({@code LOOKBACK_*}): the observation index the pipeline feeds, and
 * the trigger for each MISP mode — after each pull of a local mirror ({@code MISP_MIRROR}), a poll of each live MISP
 * every {@code LOOKBACK_INTERVAL} otherwise, and once when a feed directory is loaded.
 */
public final class LookBackService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LookBackService.class);

    private final Vertx vertx;
    private final CorrelatorConfig config;
    private final ObservationIndex index;
    private final LookBack lookBack;
    private final MispSource misp;
    private final List<MispSettings> instances;
    private final List<MispMirror> mirrors;
    private final AnalysisdSocket socket;
    private final WorkerExecutor maintenance;
    private final List<MispChangesPoller> pollers = new ArrayList<>();
    private final List<MispClient> clients = new ArrayList<>();

    private LookBackService(Vertx vertx, CorrelatorConfig config, ObservationIndex index, LookBack lookBack,
                            MispSource misp, List<MispSettings> instances, List<MispMirror> mirrors,
                            AnalysisdSocket socket, WorkerExecutor maintenance) {
        this.vertx = vertx;
        this.config = config;
        this.index = index;
        this.lookBack = lookBack;
        this.misp = misp;
        this.instances = instances;
        this.mirrors = mirrors;
        this.socket = socket;
        this.maintenance = maintenance;
    }

    /**
     * Creates the index (its partitions first, blocking: call at start-up) and hooks the look-back to the mirrors;
     * null when {@code LOOKBACK_ENABLED} is off. {@link #start} starts the other triggers once the service runs.
     *
     * @param instances the configured MISP instances, in the order of {@code mirrors} when there are mirrors
     */
    public static LookBackService create(Vertx vertx, CorrelatorConfig config, DataSource dataSource, WorkerExecutor jdbc,
                                         Supplier<RuleSet> rules, HitStore hits, MispSource misp,
                                         List<MispSettings> instances, List<MispMirror> mirrors,
                                         io.micrometer.core.instrument.MeterRegistry registry) {
        if (!config.get(CorrelatorConfig.LOOKBACK_ENABLED)) {
            return null;
        }
        WorkerExecutor maintenance = vertx.createSharedWorkerExecutor("observations-maintenance", 1, 10, TimeUnit.MINUTES);
        ObservationIndex index = new ObservationIndex(vertx, new ObservationStore(dataSource, jdbc),
                config.get(CorrelatorConfig.LOOKBACK_DAYS), config.get(CorrelatorConfig.LOOKBACK_FLUSH_INTERVAL),
                config.get(CorrelatorConfig.LOOKBACK_BUFFER_MAX), maintenance);
        AnalysisdSocket socket = null;
        try {
            index.maintainNow();
            Path socketPath = config.get(CorrelatorConfig.ANALYSISD_SOCKET);
            socket = socketPath == null ? null : AnalysisdSocket.open(socketPath);
        } catch (RuntimeException e) {
            index.close();
            maintenance.close();
            throw new IllegalStateException("cannot prepare the observation index (CORRELATOR_LOOKBACK_ENABLED=false "
                    + "turns it off): " + e.getMessage(), e);
        }
        LookBack lookBack = new LookBack(vertx, index, rules, hits, socket);
        meters(registry, index, lookBack);
        for (int i = 0; i < mirrors.size(); i++) {
            MispSettings settings = i < instances.size() ? instances.get(i) : MispSettings.from(config);
            mirrors.get(i).onAttributesChanged(lookBack.listener(settings.filter()));
        }
        return new LookBackService(vertx, config, index, lookBack, misp, instances, mirrors, socket, maintenance);
    }

    private static void meters(io.micrometer.core.instrument.MeterRegistry registry, ObservationIndex index, LookBack lookBack) {
        io.micrometer.core.instrument.FunctionCounter.builder("observation_index_aggregates", index, ObservationIndex::written)
                .tag("outcome", "written").description("Per value, agent and day aggregates of the observation index")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("observation_index_aggregates", index, ObservationIndex::dropped)
                .tag("outcome", "dropped_buffer_full").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("observation_index_aggregates", index, ObservationIndex::lost)
                .tag("outcome", "lost_write_failed").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("lookback_hits", lookBack, LookBack::found)
                .description("Hits found by the look-back (values seen before MISP knew them)").register(registry);
    }

    /** Starts the triggers that are not mirror pulls: the polls of live MISP instances, or the feed's one look-back. */
    public void start() {
        if (misp instanceof FeedSource feed) {
            lookBack.run(feed.attributes(), MispSettings.from(config).filter());
            return;
        }
        if (!mirrors.isEmpty()) {
            return;
        }
        for (MispSettings settings : instances) {
            MispClient client = new MispClient(vertx, settings);
            clients.add(client);
            MispChangesPoller poller = new MispChangesPoller(vertx, client, settings, index.store(), lookBack,
                    config.get(CorrelatorConfig.LOOKBACK_INTERVAL), config.get(CorrelatorConfig.MISP_MIRROR_PAGE),
                    config.get(CorrelatorConfig.MISP_MIRROR_TIMEOUT));
            pollers.add(poller);
            // the first poll sets the cursor: from then on, every change is looked back at
            poller.poll();
        }
    }

    public ObservationIndex index() {
        return index;
    }

    public LookBack lookBack() {
        return lookBack;
    }

    /** Polls every live MISP now (tests; an operator's "look back now"). */
    public Future<Void> pollNow() {
        List<Future<Void>> all = new ArrayList<>();
        pollers.forEach(p -> all.add(p.poll()));
        return Future.all(all).compose(v -> lookBack.idle()).mapEmpty();
    }

    /** Stops the triggers and writes what the buffer holds (a few seconds at most). */
    @Override
    public void close() {
        pollers.forEach(MispChangesPoller::close);
        index.close();
        try {
            index.flushAll().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Observation index: the last aggregates were not written at shutdown: {}", e.getMessage());
        }
        clients.forEach(MispClient::close);
        lookBack.close();
        maintenance.close();
        if (socket != null) {
            socket.close();
        }
    }
}
