package io.github.mispcorrelator.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.mispcorrelator.config.CorrelatorConfig;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

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
            String appRole;
            // the schema owner migrates; the pool then acts as the application's role (migrations/V3), which may
            // insert and read hits but never update or delete them
            try (HikariDataSource owner = pool(url, user, password, 2)) { // Flyway holds two connections
                migrate(owner);
                appRole = appRole(owner);
            }
            HikariDataSource pool = pool(url, user, password, config.get(CorrelatorConfig.DB_POOL_SIZE), appRole,
                    config.instanceId());
            return new Database(pool, embedded);
        } catch (RuntimeException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
    }

    static HikariDataSource pool(String url, String user, String password, int size) {
        return pool(url, user, password, size, null);
    }

    /** @param role a role every connection switches to ({@code SET ROLE}), or null to stay {@code user} */
    static HikariDataSource pool(String url, String user, String password, int size, String role) {
        return pool(url, user, password, size, role, null);
    }

    /**
     * @param instance CORRELATOR_INSTANCE_ID, set on every connection as {@code correlator.instance}: the columns that
     *                 name the instance writing a row default to it (migrations/V9_1); a safe name, see the config
     */
    static HikariDataSource pool(String url, String user, String password, int size, String role, String instance) {
        HikariConfig hc = new HikariConfig();
        if (instance != null) {
            hc.addDataSourceProperty("options", "-c correlator.instance=" + instance);
        }
        if (role != null) {
            hc.setConnectionInitSql("SET ROLE " + role);
        }
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
        try {
            return new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot connect to PostgreSQL at " + CorrelatorConfig.redactUrl(url) + " as " + user
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

    /** The role the application's connections run as, when the migration could create it and grant it to us. */
    static final String APP_ROLE = "correlator_app";

    private static String appRole(DataSource owner) {
        try (Connection c = owner.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + APP_ROLE + "')"
                     + " AND pg_has_role(current_user, '" + APP_ROLE + "', 'MEMBER')")) {
            if (rs.next() && rs.getBoolean(1)) {
                return APP_ROLE;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot check the database roles: " + e.getMessage(), e);
        }
        LOG.warn("Role {} is missing or not granted to this database user: the service runs with the full rights of "
                + "the hits table's owner (see migrations/V3__hits_partitioned_audit_roles.sql)", APP_ROLE);
        return null;
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

    /**
     * A connection outside the pool, for one that is held for good (the mirror's {@code LISTEN}): the pool's size
     * matches the JDBC workers', so no worker waits for a connection. The caller closes it.
     */
    public Connection dedicatedConnection() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", pool.getUsername());
        if (pool.getPassword() != null) {
            props.setProperty("password", pool.getPassword());
        }
        props.setProperty("ApplicationName", "misp-correlator");
        return DriverManager.getConnection(pool.getJdbcUrl(), props);
    }

    public int poolSize() {
        return pool.getMaximumPoolSize();
    }

    /** Whether a connection can be had right now (for start-up checks; the API uses {@code HitStore#ping}). */
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
