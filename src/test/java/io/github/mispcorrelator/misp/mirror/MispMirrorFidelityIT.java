package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.AttributeFilter;
import io.github.mispcorrelator.misp.LookupResult;
import io.github.mispcorrelator.misp.MispAttribute;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local mirror against {@link StrictMisp}, a fake that pages, filters and stamps as MISP 2.5 does: 20,000
 * attributes, 3 % of them on a warning list and spread over every page (so pages come back short while more rows
 * exist), then soft deletions, {@code to_ids} taken off, event tags and threat levels changed and events republished
 * or left unpublished — after one incremental pull, the mirror holds exactly what a fresh full pull holds, which is
 * exactly what MISP would answer.
 */
class MispMirrorFidelityIT {
    static final long T0 = Instant.now().getEpochSecond() - 30 * 86_400;
    static final int EVENTS = 200;
    static final int PER_EVENT = 100;

    StrictMisp data;
    FakeMisp misp;
    FakeMisp sameMisp;
    Vertx vertx;
    WorkerExecutor jdbc;
    MirrorStore store;
    List<StrictMisp.Event> events = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        data = new StrictMisp();
        misp = new FakeMisp();
        sameMisp = new FakeMisp();
        data.serve(misp);
        data.serve(sameMisp);
        vertx = BlockedEventLoops.vertx();
        jdbc = vertx.createSharedWorkerExecutor("test-jdbc", 2);
        store = new MirrorStore(TestDatabase.dataSource(), jdbc);
        store.clear(misp.url()).await(30, TimeUnit.SECONDS);
        store.clear(sameMisp.url()).await(30, TimeUnit.SECONDS);
        data.warninglist("List of known IPv4 public DNS resolvers", "cidr", Set.of("ip-src", "ip-dst", "domain|ip"),
                List.of("8.8.8.0/24", "1.1.1.0/24", "9.9.9.9/32"));
        data.warninglist("Hashes of empty files", "string", Set.of("md5", "sha1", "sha256"),
                List.of("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        StrictMisp.Tag green = data.tag("tlp:green", true);
        int n = 0;
        for (int e = 0; e < EVENTS; e++) {
            StrictMisp.Event event = data.event(String.format("e%05d-0000-4000-8000-000000000000", e), "event " + e);
            event.timestamp = T0;
            event.publishTimestamp = T0;
            event.tags.add(green);
            events.add(event);
            for (int a = 0; a < PER_EVENT; a++, n++) {
                String value;
                String type;
                if (n % 33 == 7) {
                    // ~3 %: values MISP's warning lists drop after the SQL LIMIT
                    boolean ip = n % 2 == 0;
                    type = ip ? "ip-dst" : "sha256";
                    value = ip ? "8.8.8." + (n % 250) : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
                } else if (n % 4 == 0) {
                    type = "sha256";
                    value = String.format("%064x", 0xabc000000L + n);
                } else {
                    type = "ip-dst";
                    value = "81." + (n / 65536 % 256) + "." + (n / 256 % 256) + "." + (n % 256);
                }
                data.add(event, String.format("a%07d-0000-4000-8000-000000000000", n), type, value, T0 + n);
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        jdbc.close();
        vertx.close().await(10, TimeUnit.SECONDS);
        misp.close();
        sameMisp.close();
    }

    MispMirror mirror(FakeMisp server) {
        MispSettings settings = new MispSettings(server.url(), "k", true, Duration.ofSeconds(30), true, true, true,
                AttributeFilter.NONE);
        return new MispMirror(vertx, new MispClient(vertx, settings), settings,
                new MispMirror.Settings(Duration.ofHours(1), Duration.ofDays(1), 1000, Duration.ofSeconds(30), 1),
                store, null, new SimpleMeterRegistry(), null);
    }

    static void awaitLoaded(MispMirror m) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while ((!m.loaded() || m.status().getJsonObject("sync").getBoolean("in_progress")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(m.loaded()).as("mirror loaded: %s", m.status()).isTrue();
    }

    static Indicator indicator(StrictMisp.Attribute a) {
        IndicatorType t = a.type.equals("sha256") ? IndicatorType.SHA256 : IndicatorType.IP;
        return new Indicator(t, a.value, "f", "r");
    }

    /** What the mirror answers for every value MISP holds: uuid → the fields lookups and scoring read. */
    Map<String, String> answers(MispMirror m) throws Exception {
        Map<String, Indicator> byKey = new HashMap<>();
        for (StrictMisp.Attribute a : data.attributes()) {
            Indicator i = indicator(a);
            byKey.putIfAbsent(i.key(), i);
        }
        Map<String, String> out = new TreeMap<>();
        List<Indicator> all = new ArrayList<>(byKey.values());
        for (int from = 0; from < all.size(); from += 500) {
            LookupResult r = m.lookup(all.subList(from, Math.min(all.size(), from + 500))).await(10, TimeUnit.SECONDS);
            assertThat(r.errors()).isEmpty();
            r.matches().values().forEach(list -> list.forEach(a -> out.put(a.uuid(), describe(a))));
        }
        return out;
    }

    static String describe(MispAttribute a) {
        return a.type() + " " + a.value() + " ids=" + a.toIds() + " tl=" + a.threatLevel() + " event=" + a.eventUuid()
                + " tags=" + new TreeSet<>(a.tags());
    }

    /** What MISP itself would let through: not deleted, to_ids, event published, on no warning list. */
    Map<String, String> truth() {
        Map<String, String> out = new TreeMap<>();
        for (StrictMisp.Attribute a : data.attributes()) {
            boolean warned = a.value.startsWith("8.8.8.") || a.value.startsWith("e3b0c442");
            if (!a.deleted && a.toIds && a.event.published && !warned) {
                TreeSet<String> tags = new TreeSet<>();
                a.tags.forEach(t -> tags.add(t.name()));
                a.event.tags.forEach(t -> tags.add(t.name()));
                out.put(a.uuid, a.type + " " + a.value + " ids=true tl=" + a.event.threatLevel + " event=" + a.event.uuid
                        + " tags=" + tags);
            }
        }
        return out;
    }

    @Test
    void afterOneIncrementalPullTheMirrorEqualsAFreshFullPull() throws Exception {
        MispMirror m = mirror(misp);
        MispMirror fresh = null;
        try {
            long t0 = System.nanoTime();
            m.start();
            awaitLoaded(m);
            long initialMs = (System.nanoTime() - t0) / 1_000_000;
            Map<String, String> expected = truth();
            assertThat(expected).hasSizeBetween(19_300, 19_500);
            assertThat(m.attributeCount()).as("every page read though warning lists shortened each").isEqualTo(expected.size());
            assertThat(misp.searches().size()).as("20 pages of 1,000 rows, the last one full: one more, empty")
                    .isBetween(20, 21);
            assertThat(answers(m)).isEqualTo(expected);

            // between pulls: MISP's own kinds of change
            List<StrictMisp.Attribute> all = data.attributes();
            for (int i = 0; i < 60; i++) {
                data.delete(all.get(31 + i * 97).uuid);
            }
            for (int i = 0; i < 40; i++) {
                data.setToIds(all.get(55 + i * 211).uuid, false);
            }
            StrictMisp.Tag red = data.tag("tlp:red", false);
            data.tagEvent(events.get(12), red);
            data.setThreatLevel(events.get(13), 1);
            data.tagAttribute(all.get(14 * PER_EVENT + 3).uuid, data.tag("kill-chain:c2", true));
            // republished after review; event 15 was edited and is left unpublished
            data.publish(events.get(12));
            data.publish(events.get(13));
            data.publish(events.get(14));
            data.setThreatLevel(events.get(15), 3);
            // the edits above unpublished the events of the deleted and to_ids-edited attributes: republish those
            for (StrictMisp.Attribute a : data.attributes()) {
                if ((a.deleted || !a.toIds) && !a.event.published && a.event != events.get(15)) {
                    data.publish(a.event);
                }
            }
            Map<String, String> changed = truth();
            assertThat(changed).isNotEqualTo(expected);

            misp.reset();
            m.syncNow(false).await(60, TimeUnit.SECONDS);
            assertThat(m.status().getString("last_error")).isNull();
            Map<String, String> afterIncremental = answers(m);

            fresh = mirror(sameMisp);
            fresh.start();
            awaitLoaded(fresh);
            Map<String, String> afterFull = answers(fresh);

            assertThat(afterFull).isEqualTo(changed);
            assertThat(afterIncremental).isEqualTo(afterFull);
            assertThat(m.attributeCount()).isEqualTo(fresh.attributeCount());
            assertThat(afterIncremental.get(all.get(12 * PER_EVENT + 40).uuid)).contains("tlp:red");
            assertThat(afterIncremental.get(all.get(13 * PER_EVENT + 40).uuid)).contains("tl=1");
            assertThat(afterIncremental).doesNotContainKey(all.get(15 * PER_EVENT + 40).uuid);
            assertThat(afterIncremental).doesNotContainKey(all.get(31).uuid);
            System.out.printf("mirror fidelity: initial pull of %d attributes in %d ms, %d held after changes%n",
                    data.attributes().size(), initialMs, m.attributeCount());
        } finally {
            m.close();
            if (fresh != null) {
                fresh.close();
            }
        }
    }
}
