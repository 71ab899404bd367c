package io.github.mispcorrelator.audit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.mispcorrelator.support.TestDatabase;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationVersion;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A database of its own in the tests' PostgreSQL server, for tests that need a schema at a given version or a table
 * nobody else truncates. Dropped on close.
 */
final class ScratchDatabase implements AutoCloseable {
    private final String name;
    private final String url;
    private final Map<String, String> env;
    private final HikariDataSource owner;

    private ScratchDatabase(String name, String url, Map<String, String> env, HikariDataSource owner) {
        this.name = name;
        this.url = url;
        this.env = env;
        this.owner = owner;
    }

    static ScratchDatabase create(String prefix) {
        String name = prefix + "_" + Long.toString(System.nanoTime(), 36);
        execute("CREATE DATABASE " + name);
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        String base = env.get("CORRELATOR_DB_URL");
        String url = base.substring(0, base.lastIndexOf('/') + 1) + name;
        env.put("CORRELATOR_DB_URL", url);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername(env.get("CORRELATOR_DB_USER"));
        hc.setPassword(env.get("CORRELATOR_DB_PASSWORD"));
        hc.setMaximumPoolSize(3);
        return new ScratchDatabase(name, url, env, new HikariDataSource(hc));
    }

    private static void execute(String sql) {
        try (Connection c = TestDatabase.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Migrates as the owner, up to {@code target} ("latest" for all). */
    ScratchDatabase migrate(String target) {
        Flyway.configure().dataSource(owner).locations("classpath:db/migration")
                .target(MigrationVersion.fromVersion(target)).load().migrate();
        return this;
    }

    /** {@code CORRELATOR_DB_*} for a service on this database. */
    Map<String, String> env() {
        return Map.copyOf(env);
    }

    String url() {
        return url;
    }

    /** Connections as the owner (the database superuser of the tests). */
    HikariDataSource owner() {
        return owner;
    }

    void sql(String... statements) {
        try (Connection c = owner.getConnection(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    List<List<Object>> rows(String sql) {
        try (Connection c = owner.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<List<Object>> out = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getObject(i));
                }
                out.add(row);
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    Object value(String sql) {
        return rows(sql).get(0).get(0);
    }

    @Override
    public void close() {
        owner.close();
        execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
}
