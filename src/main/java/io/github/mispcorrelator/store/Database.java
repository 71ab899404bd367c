package io.github.mispcorrelator.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.mispcorrelator.config.CorrelatorConfig;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The hits database: a connection pool on the configured PostgreSQL, or on an embedded one when {@code DB_URL} is
 * unset, with the schema migrated by Flyway before anything else touches it.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    /** How long an alert waits for a connection before the API answers 503; short, the caller retries. */
    static final long CONNECTION_TIMEOUT_MS = 3_000;

    private final HikariDataSource pool;
    private final EmbeddedPostgresServer embedded;

    private Database(HikariDataSource pool, EmbeddedPostgresServer embedded) {
        this.pool = pool;
        this.embedded = embedded;
    }

    /**
     * Connects (starting the embedded server if need be) and migrates the schema.
     *
     * @throws IllegalStateException with one actionable message when the database cannot be reached or migrated
     */
    public static Database open(CorrelatorConfig config) {
        EmbeddedPostgresServer embedded = null;
        String url = config.get(CorrelatorConfig.DB_URL);
        String user = config.get(CorrelatorConfig.DB_USER);
        String password = config.get(CorrelatorConfig.DB_PASSWORD);
        if (url == null) {
            embedded = EmbeddedPostgresServer.start(config.get(CorrelatorConfig.DATA_DIR).resolve("postgres"));
            url = embedded.jdbcUrl();
            user = embedded.user();
            password = null;
        }
        try {
            HikariDataSource pool = pool(url, user, password, config.get(CorrelatorConfig.DB_POOL_SIZE));
            migrate(pool);
            return new Database(pool, embedded);
        } catch (RuntimeException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
    }

    static HikariDataSource pool(String url, String user, String password, int size) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("hits");
        hc.setJdbcUrl(url);
        hc.setUsername(user);
        hc.setPassword(password);
        hc.setMaximumPoolSize(size);
        // a fixed-size pool: the JDBC worker pool has as many threads, so no worker waits for a connection
        hc.setMinimumIdle(size);
        hc.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        hc.setValidationTimeout(2_000);
        // start even when the database is down for a moment at boot? No: a wrong URL must stop start-up, clearly.
        hc.setInitializationFailTimeout(CONNECTION_TIMEOUT_MS);
        hc.addDataSourceProperty("ApplicationName", "misp-correlator");
        hc.addDataSourceProperty("reWriteBatchedInserts", "true");
        try {
            return new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot connect to PostgreSQL at " + url + " as " + user
                    + " (CORRELATOR_DB_URL / CORRELATOR_DB_USER / CORRELATOR_DB_PASSWORD): " + rootMessage(e), e);
        }
    }

    static void migrate(DataSource ds) {
        try {
            var result = Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
            LOG.info("Hits schema at version {} ({} migration(s) applied)", result.targetSchemaVersion,
                    result.migrationsExecuted);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot migrate the hits schema: " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    public DataSource dataSource() {
        return pool;
    }

    public int poolSize() {
        return pool.getMaximumPoolSize();
    }

    /** Whether a connection can be had right now (for start-up checks; the API uses {@link HitStore#ping}). */
    public boolean reachable() {
        try (Connection c = pool.getConnection()) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pool.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
