package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.AttributeFilter;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.store.MirrorStore;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.StrictMisp;
import io.github.mispcorrelator.support.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mirror applies MISP's warning lists itself: a list enabled or extended in MISP moves no attribute timestamp,
 * so without them the mirror would keep answering what MISP now drops until the next full pull.
 */
class MispMirrorWarninglistsIT {
    static final long T0 = Instant.now().getEpochSecond() - 86_400;

    StrictMisp data;
    FakeMisp misp;
    Vertx vertx;
    WorkerExecutor jdbc;
    MirrorStore store;

    @BeforeEach
    void start() throws Exception {
        data = new StrictMisp();
        misp = new FakeMisp();
        data.serve(misp);
        vertx = BlockedEventLoops.vertx();
        jdbc = vertx.createSharedWorkerExecutor("test-jdbc", 2);
        store = new MirrorStore(TestDatabase.dataSource(), jdbc);
        store.clear(misp.url()).await(30, TimeUnit.SECONDS);
        StrictMisp.Event e = data.event("e0000001-0000-4000-8000-000000000000", "an event");
        e.timestamp = T0;
        e.publishTimestamp = T0;
        data.add(e, "resolver", "ip-dst", "1.1.1.1", T0);
        data.add(e, "cdn", "domain", "assets.cdn.example.com", T0);
        data.add(e, "c2", "ip-dst", "81.2.69.142", T0);
    }

    @AfterEach
    void stop() throws Exception {
        jdbc.close();
        vertx.close().await(10, TimeUnit.SECONDS);
        misp.close();
    }

    static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "f", "r");
    }

    @Test
    void aListEnabledInMispAppliesAfterTheNextIncrementalPull() throws Exception {
        MispSettings settings = new MispSettings(misp.url(), "k", true, Duration.ofSeconds(10), true, true, true,
                AttributeFilter.NONE);
        MispMirror m = new MispMirror(vertx, new MispClient(vertx, settings), settings,
                new MispMirror.Settings(Duration.ofHours(1), Duration.ofDays(1), 100, Duration.ofSeconds(10), 1),
                store, null, new SimpleMeterRegistry(), null);
        try {
            m.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while ((!m.loaded() || m.status().getJsonObject("sync").getBoolean("in_progress")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Indicator domain = new Indicator(IndicatorType.DOMAIN, "assets.cdn.example.com", "f", "r");
            assertThat(m.lookup(List.of(ip("1.1.1.1"), ip("81.2.69.142"), domain)).await(5, TimeUnit.SECONDS).matches())
                    .hasSize(3);

            // enabled in MISP now: no attribute timestamp moves
            data.warninglist("List of known IPv4 public DNS resolvers", "cidr", Set.of("ip-dst", "ip-src"), List.of("1.1.1.0/24"));
            data.warninglist("CDN hostnames", "hostname", Set.of("domain", "hostname"), List.of(".cdn.example.com."));
            misp.reset();
            m.syncNow(false).await(30, TimeUnit.SECONDS);

            assertThat(misp.requests()).extracting(FakeMisp.Request::path)
                    .contains("/warninglists/index/enabled:1", "/warninglists/view/1", "/warninglists/view/2");
            var found = m.lookup(List.of(ip("1.1.1.1"), ip("81.2.69.142"), domain)).await(5, TimeUnit.SECONDS).matches();
            assertThat(found).containsOnlyKeys(ip("81.2.69.142"));
            assertThat(m.status().getJsonObject("warninglists").getInteger("lists")).isEqualTo(2);

            // unchanged lists are not read again
            misp.reset();
            m.syncNow(false).await(30, TimeUnit.SECONDS);
            assertThat(misp.requests()).extracting(FakeMisp.Request::path)
                    .contains("/warninglists/index/enabled:1").doesNotContain("/warninglists/view/1");
        } finally {
            m.close();
        }
    }
}
