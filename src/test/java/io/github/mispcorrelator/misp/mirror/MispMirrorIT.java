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
import io.github.mispcorrelator.support.PagedMisp;
import io.github.mispcorrelator.support.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local mirror against a fake MISP that pages and counts requests, and a real PostgreSQL: paged initial load,
 * lookups without a request, incremental pulls, full rebuilds, restarts from PostgreSQL.
 */
class MispMirrorIT {
    static final long T0 = Instant.now().getEpochSecond() - 86_400;

    FakeMisp misp;
    PagedMisp data;
    Vertx vertx;
    WorkerExecutor jdbc;
    MirrorStore store;
    AtomicInteger loadedCalls = new AtomicInteger();

    @BeforeEach
    void start() {
        misp = new FakeMisp();
        data = new PagedMisp().serve(misp);
        vertx = BlockedEventLoops.vertx();
        jdbc = vertx.createSharedWorkerExecutor("test-jdbc", 2);
        store = new MirrorStore(TestDatabase.dataSource(), jdbc);
        try {
            // a port used by an earlier test's fake MISP names the same instance
            store.clear(misp.url()).await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        // 25 attributes: three pages of 10
        for (int n = 1; n <= 25; n++) {
            data.add("attr-" + n, "ip-dst", "81.2.70." + n, T0 + n * 1000L);
        }
    }

    @AfterEach
    void stop() throws Exception {
        jdbc.close();
        vertx.close().await(10, TimeUnit.SECONDS);
        misp.close();
    }

    MispMirror mirror(AttributeFilter filter) {
        MispSettings settings = new MispSettings(misp.url(), "k", true, Duration.ofSeconds(5), true, true, false, filter);
        return new MispMirror(vertx, new MispClient(vertx, settings), settings,
                new MispMirror.Settings(Duration.ofHours(1), Duration.ofDays(1), 10, Duration.ofSeconds(5), 1),
                store, null, new SimpleMeterRegistry(), loadedCalls::incrementAndGet);
    }

    MispMirror mirror() {
        return mirror(AttributeFilter.NONE);
    }

    static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "data.win.eventdata.destinationIp", "r");
    }

    static List<String> uuids(MispMirror m, String ip) throws Exception {
        Indicator i = ip(ip);
        LookupResult r = m.lookup(List.of(i)).await(5, TimeUnit.SECONDS);
        assertThat(r.errors()).isEmpty();
        return r.matches().getOrDefault(i, List.of()).stream().map(MispAttribute::uuid).toList();
    }

    static void awaitLoaded(MispMirror m) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!m.loaded() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(m.loaded()).as("mirror loaded: %s", m.status()).isTrue();
        // and the pull that loaded it has saved its state
        while (m.status().getJsonObject("sync").getBoolean("in_progress") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    static long rows(String sql, String instance) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void initialLoadIsPagedThenLookupsMakeNoRequest() throws Exception {
        MispMirror m = mirror();
        try {
            assertThat(m.lookup(List.of(ip("81.2.70.1"))).await(5, TimeUnit.SECONDS).errors())
                    .as("before the load, without a fallback, a lookup says the mirror is loading").isNotEmpty();
            m.start();
            awaitLoaded(m);

            List<FakeMisp.Request> pulls = misp.searches();
            assertThat(pulls).hasSize(3);
            for (int i = 0; i < 3; i++) {
                JsonObject body = pulls.get(i).json();
                assertThat(body.getInteger("page")).isEqualTo(i + 1);
                assertThat(body.getInteger("limit")).isEqualTo(10);
                assertThat(body.getBoolean("to_ids")).isTrue();
                assertThat(body.getBoolean("published")).isTrue();
                assertThat(body.getBoolean("includeContext")).isTrue();
                assertThat(body.getBoolean("includeEventTags")).isTrue();
                assertThat(body.containsKey("value")).isFalse();
                assertThat(body.containsKey("timestamp")).isFalse();
                assertThat(body.getJsonArray("type").getList()).contains("ip-dst", "sha256", "domain|ip", "filename|md5");
                assertThat(pulls.get(i).headers().get("Authorization")).isEqualTo("k");
            }
            assertThat(m.attributeCount()).isEqualTo(25);
            assertThat(loadedCalls).hasValue(1);
            assertThat(rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ?", misp.url())).isEqualTo(25);

            misp.reset();
            for (int n = 1; n <= 25; n++) {
                assertThat(uuids(m, "81.2.70." + n)).containsExactly("attr-" + n);
            }
            assertThat(uuids(m, "81.2.71.1")).isEmpty();
            LookupResult r = m.lookup(List.of(ip("81.2.70.3"))).await(5, TimeUnit.SECONDS);
            MispAttribute a = r.matches().get(ip("81.2.70.3")).get(0);
            assertThat(a.instance()).isEqualTo(misp.url());
            assertThat(a.eventUuid()).isEqualTo("e7");
            assertThat(a.threatLevel()).isEqualTo(2);
            assertThat(r.answeredAt().get(ip("81.2.70.3"))).isNotNull();
            assertThat(misp.requests()).as("lookups answered from memory").isEmpty();

            JsonObject status = m.status();
            assertThat(status.getBoolean("loaded")).isTrue();
            assertThat(status.getInteger("attributes")).isEqualTo(25);
            assertThat(status.getString("last_sync")).isNotNull();
            assertThat(status.getString("last_full_sync")).isNotNull();
            assertThat(status.getLong("lag_seconds")).isBetween(0L, 60L);
            assertThat(status.getLong("cursor")).isEqualTo(T0 + 25_000);
        } finally {
            m.close();
        }
    }

    @Test
    void answersPassTheSameFiltersAsLiveLookups() throws Exception {
        JsonObject red = data.add("attr-red", "ip-dst", "81.2.72.1", T0);
        red.put("Tag", new JsonArray().add(new JsonObject().put("name", "tlp:red")));
        data.replace(red);
        JsonObject green = data.add("attr-green", "ip-dst", "81.2.72.2", T0);
        green.put("Tag", new JsonArray().add(new JsonObject().put("name", "tlp:green")));
        data.replace(green);
        MispMirror m = mirror(new AttributeFilter(Set.of(), Set.of("tlp:red"), null, Map.of()));
        try {
            m.start();
            awaitLoaded(m);
            assertThat(uuids(m, "81.2.72.1")).as("tlp:red excluded").isEmpty();
            assertThat(uuids(m, "81.2.72.2")).containsExactly("attr-green");
        } finally {
            m.close();
        }
    }

    @Test
    void anIncrementalPullPicksUpNewAttributesAndNewlyPublishedEvents() throws Exception {
        MispMirror m = mirror();
        try {
            m.start();
            awaitLoaded(m);
            misp.reset();

            long now = Instant.now().getEpochSecond();
            data.add("attr-new", "ip-dst", "81.2.70.100", now);
            // an attribute created long ago in an event published only now: its own timestamp is before the cursor
            JsonObject late = data.add("attr-late", "sha256",
                    "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", T0 - 1000);
            late.getJsonObject("Event").put("publish_timestamp", Long.toString(now));
            data.replace(late);
            // and an attribute changed: a new value under the same uuid
            JsonObject changed = data.get("attr-7").copy().put("value", "81.2.70.107").put("timestamp", Long.toString(now));
            data.replace(changed);

            m.syncNow(false).await(10, TimeUnit.SECONDS);

            List<FakeMisp.Request> pulls = misp.searches();
            assertThat(pulls).as("timestamp, event_timestamp and publish_timestamp passes, one page each").hasSize(3);
            assertThat(Long.parseLong(pulls.get(0).json().getString("timestamp")))
                    .isEqualTo(T0 + 25_000 - MirrorSync.CURSOR_OVERLAP_SECONDS);
            assertThat(pulls.get(1).json().containsKey("event_timestamp")).isTrue();
            assertThat(pulls.get(2).json().containsKey("publish_timestamp")).isTrue();
            pulls.forEach(p -> assertThat(p.json().getJsonArray("deleted").getList()).containsExactly(0, 1));
            pulls.forEach(p -> assertThat(p.json().containsKey("to_ids")).isFalse());
            pulls.forEach(p -> assertThat(p.json().containsKey("value")).isFalse());

            assertThat(uuids(m, "81.2.70.100")).containsExactly("attr-new");
            Indicator hash = new Indicator(IndicatorType.SHA256,
                    "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "f", "r");
            assertThat(m.lookup(List.of(hash)).await(5, TimeUnit.SECONDS).matches()).containsKey(hash);
            assertThat(uuids(m, "81.2.70.107")).containsExactly("attr-7");
            assertThat(uuids(m, "81.2.70.7")).as("the old value of a changed attribute").isEmpty();
            assertThat(m.attributeCount()).isEqualTo(27);
            assertThat(m.status().getLong("cursor")).isGreaterThanOrEqualTo(now);
            assertThat(rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ?", misp.url())).isEqualTo(27);
        } finally {
            m.close();
        }
    }

    @Test
    void aFullRebuildDropsDeletedAndUnpublishedAttributes() throws Exception {
        MispMirror m = mirror();
        try {
            m.start();
            awaitLoaded(m);

            data.remove("attr-3");
            JsonObject unpublished = data.get("attr-4").copy();
            unpublished.getJsonObject("Event").put("published", false);
            data.replace(unpublished);
            // a row the paged pull misses (MISP deleted rows while it paged) but that still exists
            data.hideFromPages(a -> a.getString("uuid").equals("attr-5"));

            m.syncNow(false).await(10, TimeUnit.SECONDS);
            assertThat(uuids(m, "81.2.70.3")).as("incremental pulls cannot see a deletion").containsExactly("attr-3");

            misp.reset();
            m.syncNow(true).await(10, TimeUnit.SECONDS);
            assertThat(uuids(m, "81.2.70.3")).as("deleted").isEmpty();
            assertThat(uuids(m, "81.2.70.4")).as("unpublished").isEmpty();
            assertThat(uuids(m, "81.2.70.5")).as("missed by paging, confirmed by uuid").containsExactly("attr-5");
            assertThat(m.attributeCount()).isEqualTo(23);
            assertThat(rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ?", misp.url())).isEqualTo(23);
            assertThat(misp.searches().stream().filter(r -> r.json().containsKey("uuid")).toList())
                    .singleElement().satisfies(r -> assertThat(r.json().getJsonArray("uuid").getList())
                            .containsExactlyInAnyOrder("attr-3", "attr-4", "attr-5"));
        } finally {
            m.close();
        }
    }

    @Test
    void aRestartLoadsFromPostgresqlWithoutPullingEverythingAgain() throws Exception {
        MispMirror first = mirror();
        first.start();
        awaitLoaded(first);
        first.close().await(10, TimeUnit.SECONDS);
        assertThat(misp.searches()).hasSize(3);

        misp.reset();
        // MISP is down: the mirror still answers, from what PostgreSQL kept
        misp.answer(FakeMisp.Answer.json(500, "{\"message\":\"down\"}"));
        MispMirror second = mirror();
        try {
            second.start().await(30, TimeUnit.SECONDS);
            assertThat(second.loaded()).isTrue();
            assertThat(second.status().getString("index_from")).isEqualTo("postgresql");
            assertThat(second.attributeCount()).isEqualTo(25);
            assertThat(uuids(second, "81.2.70.12")).containsExactly("attr-12");

            // the catch-up pull after the restart is incremental; no full pull
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (second.status().getString("last_error") == null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(misp.searches()).isNotEmpty().allSatisfy(r -> assertThat(
                    r.json().containsKey("timestamp") || r.json().containsKey("publish_timestamp")).isTrue());
            assertThat(misp.searches().size()).as("incremental pass, retried once").isLessThanOrEqualTo(2);
            assertThat(second.status().getString("last_error")).contains("HTTP 500");
            assertThat(uuids(second, "81.2.70.12")).as("a failed pull keeps the copy").containsExactly("attr-12");
        } finally {
            second.close();
        }
    }

    @Test
    void changedPullFiltersDropTheStoredCopy() throws Exception {
        MispMirror first = mirror();
        first.start();
        awaitLoaded(first);
        first.close().await(10, TimeUnit.SECONDS);
        misp.reset();

        MispSettings all = new MispSettings(misp.url(), "k", true, Duration.ofSeconds(5), false, true, false,
                AttributeFilter.NONE);
        MispMirror second = new MispMirror(vertx, new MispClient(vertx, all), all,
                new MispMirror.Settings(Duration.ofHours(1), Duration.ofDays(1), 10, Duration.ofSeconds(5), 1),
                store, null, new SimpleMeterRegistry(), null);
        try {
            second.start().await(30, TimeUnit.SECONDS);
            awaitLoaded(second);
            assertThat(second.status().getString("index_from")).isEqualTo("misp");
            assertThat(misp.searches()).hasSize(3).allSatisfy(r -> assertThat(r.json().containsKey("to_ids")).isFalse());
        } finally {
            second.close();
        }
    }

    @Test
    void aFollowerAnswersFromTheSharedTablesAndResumesThePullsFromTheStoredState() throws Exception {
        MispMirror puller = mirror();
        AtomicBoolean followerPulls = new AtomicBoolean(false);
        MispMirror follower = mirror();
        follower.pullOnlyWhile(followerPulls::get);
        try {
            puller.start();
            awaitLoaded(puller);
            follower.start().await(30, TimeUnit.SECONDS);
            assertThat(follower.loaded()).isTrue();
            assertThat(follower.role()).isEqualTo("follower");
            assertThat(follower.status().getString("index_from")).isEqualTo("postgresql");
            assertThat(follower.attributeCount()).isEqualTo(25);
            assertThat(uuids(follower, "81.2.70.12")).containsExactly("attr-12");
            misp.reset();

            // the puller pulls a new attribute and one that no longer qualifies; the follower takes both in
            long now = Instant.now().getEpochSecond();
            data.add("attr-new", "ip-dst", "81.2.70.99", now);
            data.replace(data.get("attr-4").copy().put("to_ids", false).put("timestamp", Long.toString(now)));
            puller.syncNow(false).await(10, TimeUnit.SECONDS);
            follower.followNow().await(10, TimeUnit.SECONDS);
            assertThat(uuids(follower, "81.2.70.99")).containsExactly("attr-new");
            assertThat(uuids(follower, "81.2.70.4")).as("evicted by the puller").isEmpty();
            assertThat(follower.attributeCount()).isEqualTo(25);
            assertThat(follower.status().getJsonObject("follow").getLong("change_applied"))
                    .isEqualTo(puller.status().getJsonObject("follow").getLong("change_applied"));
            // the puller's state, read from the tables (PostgreSQL keeps microseconds)
            assertThat(Duration.between(Instant.parse(follower.status().getString("last_sync")),
                    Instant.parse(puller.status().getString("last_sync"))).abs()).isLessThan(Duration.ofMillis(1));
            follower.syncNow(true).await(10, TimeUnit.SECONDS);
            assertThat(misp.searches()).as("the puller's three incremental passes; the follower asks nothing").hasSize(3);

            // the puller stops; the follower pulls from the stored state: incremental, nothing pulled twice
            puller.close().await(10, TimeUnit.SECONDS);
            misp.reset();
            followerPulls.set(true);
            assertThat(follower.role()).isEqualTo("puller");
            data.add("attr-later", "ip-dst", "81.2.70.98", now + 1);
            follower.pullsTakenOver();
            follower.syncNow(false).await(10, TimeUnit.SECONDS);
            assertThat(misp.searches()).hasSize(3).allSatisfy(r -> assertThat(r.json().containsKey("timestamp")
                    || r.json().containsKey("event_timestamp") || r.json().containsKey("publish_timestamp")).isTrue());
            assertThat(Long.parseLong(misp.searches().get(0).json().getString("timestamp")))
                    .as("the cursor the puller stored").isEqualTo(now - MirrorSync.CURSOR_OVERLAP_SECONDS);
            assertThat(uuids(follower, "81.2.70.98")).containsExactly("attr-later");
            assertThat(rows("SELECT count(*) FROM misp_mirror_removed WHERE instance = ?", misp.url())).isEqualTo(1);
        } finally {
            puller.close();
            follower.close();
        }
    }

    @Test
    void aClearedCopyIsReloadedByItsFollowers() throws Exception {
        MispMirror puller = mirror();
        MispMirror follower = mirror();
        follower.pullOnlyWhile(() -> false);
        try {
            puller.start();
            awaitLoaded(puller);
            follower.start().await(30, TimeUnit.SECONDS);
            long before = follower.status().getJsonObject("follow").getLong("change_applied");
            // what another configuration's puller does when the filters change: drop, then pull everything again
            long cleared = store.clear(misp.url()).await(10, TimeUnit.SECONDS);
            assertThat(cleared).isGreaterThan(before);
            puller.syncNow(true).await(10, TimeUnit.SECONDS);
            follower.followNow().await(10, TimeUnit.SECONDS);
            assertThat(follower.status().getJsonObject("follow").getLong("change_applied")).isGreaterThan(cleared);
            assertThat(follower.attributeCount()).isEqualTo(25);
            assertThat(uuids(follower, "81.2.70.25")).containsExactly("attr-25");
            MirrorRepository.Changes none = store.changes(misp.url(),
                    follower.status().getJsonObject("follow").getLong("change_applied")).await(10, TimeUnit.SECONDS);
            assertThat(none.none()).isTrue();
            MirrorRepository.Changes behind = store.changes(misp.url(), before).await(10, TimeUnit.SECONDS);
            assertThat(behind.reload()).as("behind the clear: everything again").isTrue();
            assertThat(behind.upserted()).hasSize(25);
        } finally {
            puller.close();
            follower.close();
        }
    }
}
