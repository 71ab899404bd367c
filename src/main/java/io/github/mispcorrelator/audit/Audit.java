package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.store.Cluster;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import javax.sql.DataSource;
import java.time.Duration;

/**
 * The auditors' side of the service, wired once: the hits API and page, and the retention that keeps the monthly
 * partitions. Its queries get their own workers, half the connection pool at most, so that ingest always has the rest.
 */
public final class Audit implements AutoCloseable {
    static final Duration MAINTENANCE_EVERY = Duration.ofHours(1);

    private final Vertx vertx;
    private final WorkerExecutor executor;
    private final HitsApi hitsApi;
    private final long timer;

    private Audit(Vertx vertx, WorkerExecutor executor, HitsApi hitsApi, long timer) {
        this.vertx = vertx;
        this.executor = executor;
        this.hitsApi = hitsApi;
        this.timer = timer;
    }

    /** Starts the partition maintenance (a first pass right away, then hourly); the API is mounted by the caller. */
    public static Audit start(Vertx vertx, DataSource dataSource, int poolSize, int retentionDays) {
        return start(vertx, dataSource, poolSize, retentionDays, null);
    }

    /** @param singleton with several instances on one database, only its holder runs the maintenance; null: always */
    public static Audit start(Vertx vertx, DataSource dataSource, int poolSize, int retentionDays,
                              Cluster.Singleton singleton) {
        WorkerExecutor executor = vertx.createSharedWorkerExecutor("audit-jdbc", Math.max(1, poolSize / 2));
        Retention retention = new Retention(dataSource, retentionDays);
        long timer = retention.schedule(vertx, executor, MAINTENANCE_EVERY,
                singleton == null ? () -> true : singleton::held);
        if (singleton != null) {
            // an instance taking retention over runs a pass at once rather than up to an hour later
            singleton.onAcquired(() -> retention.runLogged(executor));
        }
        return new Audit(vertx, executor, new HitsApi(dataSource, executor), timer);
    }

    public HitsApi hitsApi() {
        return hitsApi;
    }

    /** {@code GET /v1/observations}, on the same workers as the hits API. */
    public ObservationsApi observationsApi(DataSource dataSource, int lookbackDays) {
        return new ObservationsApi(dataSource, executor, lookbackDays);
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        executor.close();
    }
}
