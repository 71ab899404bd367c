package io.github.mispcorrelator.http;

import io.github.mispcorrelator.store.EmbeddedPostgresServer;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.ServiceUnderTest.Response;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** PostgreSQL goes away under the running service: 503, nothing half-written, and a retry later stores once. */
class StoreOutageIT {

    @Test
    void databaseDownAnswers503AndTheRetryStoresExactlyOnce() throws Exception {
        Path data = Fixtures.workDir("outage");
        EmbeddedPostgresServer db = EmbeddedPostgresServer.start(data);
        int port = db.port();
        byte[] alert = Files.readAllBytes(Path.of("config/samples/sysmon-eid1-eicar.json"));
        try (ServiceUnderTest app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DB_URL", db.jdbcUrl(), "CORRELATOR_DB_USER", db.user()))) {
            db.close();

            Response down = app.post("/v1/alerts", alert);
            assertThat(down.status()).isEqualTo(503);
            assertThat(down.json().getString("error")).contains("nothing was stored");
            assertThat(down.raw().headers().firstValue("Retry-After")).isPresent();
            assertThat(app.get("/health/ready").status()).isEqualTo(503);
            // an alert without hits needs no database and is still served
            assertThat(app.post("/v1/alerts", Files.readAllBytes(Path.of("config/samples/syscheck-added-clean.json"))).status())
                    .isEqualTo(200);

            db = EmbeddedPostgresServer.start(data, port);
            // the pool reconnects by itself; a caller retrying after Retry-After finds it back
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (app.get("/health/ready").status() != 200 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            Response retried = app.post("/v1/alerts", alert);
            Response again = app.post("/v1/alerts", alert);
            assertThat(retried.status()).isEqualTo(200);
            assertThat(again.status()).isEqualTo(200);
            try (Connection c = app.service().database().dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM hits")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(retried.json().getJsonArray("hits").size()).isEqualTo(3);
            }
        } finally {
            db.close();
        }
    }
}
