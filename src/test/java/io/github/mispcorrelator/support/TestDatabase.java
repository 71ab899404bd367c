package io.github.mispcorrelator.support;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.mispcorrelator.store.EmbeddedPostgresServer;
import org.flywaydb.core.Flyway;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL for integration tests, one per test JVM: a Testcontainers container where a Docker engine is
 * reachable, the embedded server otherwise (as on the project's build machines). Migrated with the project's own
 * Flyway scripts.
 */
public final class TestDatabase {
    private static HikariDataSource dataSource;
    private static String url;
    private static String user;
    private static String password;

    private TestDatabase() {
    }

    public static synchronized HikariDataSource dataSource() {
        if (dataSource == null) {
            if (dockerAvailable()) {
                PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
                container.start();
                url = container.getJdbcUrl();
                user = container.getUsername();
                password = container.getPassword();
            } else {
                EmbeddedPostgresServer server = EmbeddedPostgresServer.start(Fixtures.workDir("test-db"));
                Runtime.getRuntime().addShutdownHook(new Thread(server::close));
                url = server.jdbcUrl();
                user = server.user();
                password = null;
            }
            HikariConfig hc = new HikariConfig();
            hc.setJdbcUrl(url);
            hc.setUsername(user);
            hc.setPassword(password);
            hc.setMaximumPoolSize(4);
            dataSource = new HikariDataSource(hc);
            Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
        }
        return dataSource;
    }

    /** {@code CORRELATOR_DB_*} settings that point a service at this database. */
    public static java.util.Map<String, String> env() {
        dataSource();
        java.util.Map<String, String> env = new java.util.HashMap<>();
        env.put("CORRELATOR_DB_URL", url);
        env.put("CORRELATOR_DB_USER", user);
        if (password != null) {
            env.put("CORRELATOR_DB_PASSWORD", password);
        }
        return env;
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    public static void truncateHits() {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE hits, alerts");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
