package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The auditors' page in headless Chromium against the service on its embedded defaults: after the page's scripts ran,
 * the table holds the hits and the chart a bar per day; the screenshot shows both.
 */
class AuditPageIT {
    static final int DAYS_WITH_HITS = 10;
    static ServiceUnderTest app;

    @BeforeAll
    static void start() throws Exception {
        Chromium.assumeInstalled();
        app = new ServiceUnderTest(Map.of("CORRELATOR_DATA_DIR", Fixtures.workDir("page").toString(),
                "CORRELATOR_LOOKBACK_FLUSH_INTERVAL", "100ms"));
        // the README's samples, as if they had come in over the last ten days
        Instant today = Instant.now().truncatedTo(ChronoUnit.DAYS);
        int n = 0;
        for (int day = 0; day < DAYS_WITH_HITS; day++) {
            for (String sample : day % 3 == 0 ? new String[] {"sysmon-eid1-eicar.json", "sysmon-eid22-c2.json"}
                    : new String[] {"sysmon-eid3-c2.json"}) {
                JsonObject alert = new JsonObject(Files.readString(Path.of("config/samples", sample)));
                Instant at = today.minus(day, ChronoUnit.DAYS).plus(9, ChronoUnit.HOURS).plusSeconds(n);
                alert.put("id", at.getEpochSecond() + "." + (++n));
                alert.put("timestamp", at.atOffset(ZoneOffset.UTC).format(io.github.mispcorrelator.alert.Alert.WAZUH_TIME));
                assertThat(app.post("/v1/alerts", alert.encode().getBytes()).status()).isEqualTo(200);
            }
        }
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    static String url(String query) {
        return "http://127.0.0.1:" + app.service().httpPort() + "/ui/" + query;
    }

    static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void tableAndChartAreFilledByThePagesScripts() throws Exception {
        long hits = app.get("/v1/hits?format=ndjson").body().lines().count();
        assertThat(hits).isGreaterThan(DAYS_WITH_HITS);

        String dom = Chromium.dumpDom(url(""));

        assertThat(count(dom, "<tr class=\"hit\"")).isEqualTo(hits);
        // thirty days up to the newest hit, a bar each; one with height for each day that had hits
        assertThat(count(dom, "<rect class=\"bar\"")).isEqualTo(30);
        assertThat(count(dom, "<rect class=\"bar\"[^>]* height=\"(?!0\")")).isEqualTo(DAYS_WITH_HITS);
        assertThat(dom).contains("c2.misp-correlator-demo.net").contains("misp-correlator demo: C2 infrastructure");
        assertThat(dom).containsPattern("<p id=\"error\" class=\"error\" hidden=\"\"");
        assertThat(dom).contains(":" + app.service().httpPort() + "/v1/hits?format=csv\"");
    }

    @Test
    void theObservationSearchBoxShowsWhoSawAValue() throws Exception {
        app.service().lookBack().orElseThrow().index().flushAll().toCompletionStage().toCompletableFuture()
                .get(10, java.util.concurrent.TimeUnit.SECONDS);

        String dom = Chromium.dumpDom(url("?observation=81.2.69.192"));

        assertThat(dom).contains("WS-FIN-0042 (003)").contains("Seen on 1 agent(s)");
        assertThat(count(dom, "<tbody id=\"observation-rows\"><tr>")).isEqualTo(1);
    }

    @Test
    void filtersInTheAddressAreAppliedAndExported() throws Exception {
        long md5 = app.get("/v1/hits?format=ndjson&indicator_type=md5").body().lines().count();
        assertThat(md5).isPositive();

        String dom = Chromium.dumpDom(url("?indicator_type=md5&min_severity=1"));

        assertThat(count(dom, "<tr class=\"hit\"")).isEqualTo(md5);
        assertThat(dom).contains("/v1/hits?indicator_type=md5&amp;min_severity=1&amp;format=csv\"");
    }

    @Test
    void theScreenshotShowsTheChartAndTheTable() throws Exception {
        Path png = Path.of("target", "audit-page.png");
        Files.createDirectories(png.getParent());

        BufferedImage shot = Chromium.screenshot(url(""), png);

        assertThat(shot.getWidth()).isEqualTo(1280);
        // bars of the chart (app.css --bar), striped rows of the table (--stripe), the table's header (--head)
        assertThat(Chromium.count(shot, 0x2f6fb0)).as("chart bar pixels").isGreaterThan(2_000);
        assertThat(Chromium.count(shot, 0xeef3f8)).as("striped table row pixels").isGreaterThan(20_000);
        assertThat(Chromium.count(shot, 0x1f3b57)).as("table header pixels").isGreaterThan(20_000);
    }
}
