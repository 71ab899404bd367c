package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertReader;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.store.PostgresHitStore;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.DefaultRules;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every line of a real manager's {@code alerts.json} through the whole pipeline (DRL, lookup, store): no alert may
 * fail, and the three lines that are not JSON are reported by line number, not fatal.
 */
class CorpusIT {

    @Test
    void aRealAlertLogGoesThroughWithoutFailure() throws Exception {
        Path corpus = Fixtures.sharedData("wazuh/corpus/hidc2025-alerts.json");
        Vertx vertx = BlockedEventLoops.vertx();
        try {
            Correlator correlator = new Correlator(DefaultRules::get,
                    FeedSource.load(Path.of("config/demo-feed"), new MispSettings(null, null, true, Duration.ofSeconds(1), true, true)),
                    new PostgresHitStore(TestDatabase.dataSource(), vertx.createSharedWorkerExecutor("corpus-jdbc", 4)));
            List<Alert> alerts = new ArrayList<>();
            List<AlertReader.BadLine> bad = new ArrayList<>();

            AlertReader.Summary summary = AlertReader.read(corpus, alerts::add, bad::add);

            assertThat(bad).hasSize(3).allSatisfy(b -> assertThat(b.reason()).startsWith("malformed JSON"));
            assertThat(bad).extracting(AlertReader.BadLine::lineNumber).doesNotHaveDuplicates().allMatch(n -> n > 0);
            assertThat(summary.alerts()).isEqualTo(alerts.size()).isGreaterThan(1000);
            int withIndicators = 0;
            for (Alert a : alerts) {
                Correlation c = correlator.process(a).await(30, TimeUnit.SECONDS);
                assertThat(c.lookupErrors()).isEmpty();
                if (!c.indicators().isEmpty()) {
                    withIndicators++;
                }
            }
            // the corpus has Sysmon process creations with hashes
            assertThat(withIndicators).isPositive();
        } finally {
            vertx.close();
        }
    }
}
