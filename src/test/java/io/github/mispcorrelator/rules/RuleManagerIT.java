package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.store.PostgresHitStore;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Hot reload: atomic swap, rejection of broken rules, file watching, no alert lost under load, no leak. */
class RuleManagerIT {
    static final String HASH_RULE = """
            package t;
            import io.github.mispcorrelator.alert.Alert;
            global io.github.mispcorrelator.rules.Extraction out;
            rule "%s"
            when $a : Alert( sysmonEvent == 1 )
            then out.hashes($a, "data.win.eventdata.hashes");
            end
            """;

    Vertx vertx;
    Path dir;
    RuleManager rules;

    @BeforeEach
    void setUp() throws Exception {
        vertx = BlockedEventLoops.vertx();
        dir = Fixtures.workDir("drl");
        Files.writeString(dir.resolve("hashes.drl"), HASH_RULE.formatted("hashes v1"));
        rules = new RuleManager(dir, vertx);
    }

    @AfterEach
    void tearDown() {
        rules.close();
        vertx.close();
    }

    void write(String ruleName) throws Exception {
        Files.writeString(dir.resolve("hashes.drl"), HASH_RULE.formatted(ruleName));
    }

    @Test
    void aGoodChangeIsSwappedInAndABrokenOneRejectedWithFileAndLine() throws Exception {
        String v1 = rules.get().version();
        write("hashes v2");
        RuleManager.ReloadOutcome loaded = rules.reload("test").await(60, TimeUnit.SECONDS);
        assertThat(loaded.outcome()).isEqualTo("loaded");
        assertThat(rules.get().version()).isNotEqualTo(v1).isEqualTo(loaded.version());
        assertThat(rules.get().ruleNames()).containsExactly("hashes v2");

        String good = rules.get().version();
        Files.writeString(dir.resolve("hashes.drl"), "package t;\nrule \"broken\"\nwhen\n  NoSuchFact()\nthen\nend\n");
        RuleManager.ReloadOutcome rejected = rules.reload("test").await(60, TimeUnit.SECONDS);

        assertThat(rejected.outcome()).isEqualTo("rejected");
        assertThat(rejected.problems()).isNotEmpty().allSatisfy(p -> assertThat(p.file()).endsWith("hashes.drl"));
        assertThat(rules.get().version()).isEqualTo(good);
        assertThat(rules.status().getJsonObject("last_reload").getString("outcome")).isEqualTo("rejected");
        // and the last good rules still extract
        assertThat(rules.get().extract(Fixtures.alert("sysmon-eid1-stock.json")).indicators()).hasSize(4);
    }

    @Test
    void reloadingUnchangedFilesKeepsTheRuleSet() throws Exception {
        RuleSet before = rules.get();
        assertThat(rules.reload("test").await(60, TimeUnit.SECONDS).outcome()).isEqualTo("unchanged");
        assertThat(rules.get()).isSameAs(before);
    }

    @Test
    void aSavedFileIsPickedUpWithoutARestart() throws Exception {
        rules.watch(Duration.ofMillis(200));
        String v1 = rules.get().version();
        write("hashes after save");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (rules.get().version().equals(v1) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(rules.get().ruleNames()).containsExactly("hashes after save");
    }

    @Test
    void noAlertFailsOrIsDroppedWhileRulesReloadUnderLoad() throws Exception {
        Correlator correlator = new Correlator(rules,
                FeedSource.load(Path.of("config/demo-feed"), new MispSettings(null, null, true, Duration.ofSeconds(1), true, true)),
                new PostgresHitStore(TestDatabase.dataSource(), vertx.createSharedWorkerExecutor("reload-jdbc", 4)));
        Alert alert = Fixtures.alert("sysmon-eid1-stock.json");
        Set<String> versions = new HashSet<>();
        versions.add(rules.get().version());
        List<Future<Correlation>> results = new ArrayList<>();
        int reloads = 0;
        for (int wave = 0; wave < 40; wave++) {
            List<Future<Correlation>> inWave = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                // processed on an event loop, as the HTTP API does
                inWave.add(vertx.getOrCreateContext().executeBlocking(() -> null).compose(x -> correlator.process(alert)));
            }
            if (wave % 8 == 3) {
                write("hashes v" + wave);
                RuleManager.ReloadOutcome o = rules.reload("load test").await(60, TimeUnit.SECONDS);
                assertThat(o.outcome()).isEqualTo("loaded");
                versions.add(o.version());
                reloads++;
            }
            results.addAll(inWave);
        }
        for (Future<Correlation> f : results) {
            Correlation c = f.await(60, TimeUnit.SECONDS);
            assertThat(c.indicators()).hasSize(4);
            assertThat(versions).contains(c.ruleset());
        }
        assertThat(results).hasSize(2000);
        assertThat(reloads).isEqualTo(5);
    }

    @Test
    void replacedRuleSetsAreReleased() throws Exception {
        List<WeakReference<RuleSet>> old = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            old.add(new WeakReference<>(rules.get()));
            write("hashes leak check " + i);
            assertThat(rules.reload("leak test").await(60, TimeUnit.SECONDS).outcome()).isEqualTo("loaded");
        }
        assertThat(old).allSatisfy(r -> {
            RuleSet rs = r.get();
            if (rs != null) {
                assertThat(rs.disposed()).isTrue();
            }
        });
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (old.stream().anyMatch(r -> r.get() != null) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
        }
        assertThat(old.stream().filter(r -> r.get() != null).count()).as("rule sets still reachable").isZero();
    }
}
