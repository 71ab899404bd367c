package io.github.mispcorrelator.store;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedPostgresServerIT {

    @Test
    void keepsItsDataAcrossRestarts() throws Exception {
        Path dir = io.github.mispcorrelator.support.Fixtures.workDir("restart").resolve("pg");
        try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dir);
             Connection c = DriverManager.getConnection(first.jdbcUrl(), first.user(), null);
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kept (v text)");
            s.execute("INSERT INTO kept VALUES ('still here')");
        }
        try (EmbeddedPostgresServer second = EmbeddedPostgresServer.start(dir);
             Connection c = DriverManager.getConnection(second.jdbcUrl(), second.user(), null);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT v FROM kept")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("still here");
        }
    }
}
