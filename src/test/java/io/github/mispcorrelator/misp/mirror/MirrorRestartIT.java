package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.Warninglists;
import io.github.mispcorrelator.store.MirrorStore;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A restart with a stored mirror: the rows are written straight into {@code misp_mirror_attributes} (SQL
 * {@code generate_series}), then a fresh index follows the tables as a starting instance does, and the time until it
 * answers is printed with its parts (read, held, indexed). 20,000 rows by default, in every build; the figure for the
 * README with {@code -Dmirror.restart.attributes=1000000} (opt-in: about a minute to write the rows).
 */
class MirrorRestartIT {
    static final String FILTERS = "restart-it";

    @Test
    void aStoredMirrorIsReadIndexedAndAnswered() throws Exception {
        int n = Integer.getInteger("mirror.restart.attributes", 20_000);
        String instance = "https://restart-" + n + ".example.org";
        Vertx vertx = BlockedEventLoops.vertx();
        WorkerExecutor jdbc = vertx.createSharedWorkerExecutor("restart-jdbc", 2);
        WorkerExecutor mirrorWorker = vertx.createSharedWorkerExecutor("restart-mirror", 1, 10, TimeUnit.MINUTES);
        try {
            MirrorStore store = new MirrorStore(TestDatabase.dataSource(), jdbc);
            store.clear(instance).await(60, TimeUnit.SECONDS);
            long tw = System.nanoTime();
            write(instance, n);
            store.saveState(instance, new MirrorRepository.State(FILTERS, 0, Instant.now(), Instant.now(), Instant.now(), n))
                    .await(60, TimeUnit.SECONDS);
            long written = System.nanoTime() - tw;

            // rows written before their digests were kept (as after an upgrade): read whole, digests written back
            MirrorIndex first = new MirrorIndex(instance, () -> { });
            MirrorFollower upgrade = new MirrorFollower(instance, store, first, new MirrorSync.Worker(mirrorWorker),
                    FILTERS, s -> { });
            long t0 = System.nanoTime();
            upgrade.catchUp().await(10, TimeUnit.MINUTES);
            long readWhole = System.nanoTime() - t0;
            assertThat(first.attributeCount()).isEqualTo(n);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (MispMirrorIT.rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ? AND key_version IS NOT NULL",
                    instance) < n && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(MispMirrorIT.rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ? AND key_version = "
                    + MirrorKeys.VERSION, instance)).as("digests written back").isEqualTo(n);

            // the restart: by digests
            MirrorIndex index = new MirrorIndex(instance, () -> { });
            MirrorFollower follower = new MirrorFollower(instance, store, index, new MirrorSync.Worker(mirrorWorker),
                    FILTERS, s -> { });
            first = null;
            System.gc();
            long t1 = System.nanoTime();
            follower.catchUp().await(10, TimeUnit.MINUTES);
            long ready = System.nanoTime() - t1;
            assertThat(index.loaded()).isTrue();
            assertThat(index.attributeCount()).isEqualTo(n);
            System.out.printf(Locale.ROOT, "mirror restart: %d attributes ready in %d ms by digests (%s); read whole "
                            + "(before V12_1's digests) in %d ms (%s); rows written in %d ms%n",
                    n, ready / 1_000_000, follower.lastReload(), readWhole / 1_000_000, upgrade.lastReload(),
                    written / 1_000_000);
            List<String> some = new java.util.ArrayList<>();
            try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT uuid FROM misp_mirror_attributes WHERE instance = ? LIMIT 50")) {
                ps.setString(1, instance);
                try (var rs = ps.executeQuery()) {
                    while (rs.next()) {
                        some.add(rs.getString(1));
                    }
                }
            }
            Map<String, MispAttribute> rows = store.attributes(instance, some).await(30, TimeUnit.SECONDS);
            assertThat(rows).hasSize(some.size());
            for (MispAttribute a : rows.values()) {
                assertThat(index.unchanged(a)).as("the fingerprint read back agrees with the row %s", a.uuid()).isTrue();
                assertThat(index.unchanged(new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(),
                        a.type(), a.category(), a.value(), !a.toIds(), a.threatLevel(), a.tags(), a.timestamp(),
                        a.instance()))).isFalse();
            }

            // and it answers: a planted value of each kind, read from PostgreSQL on the hit
            MirrorIndex.View view = index.view();
            Indicator ip = new Indicator(IndicatorType.IP, ip(7), "f", "r");
            Indicator md5 = new Indicator(IndicatorType.MD5, md5(11), "f", "r");
            Indicator none = new Indicator(IndicatorType.IP, "203.0.113.250", "f", "r");
            Map<Indicator, Set<String>> candidates = view.candidates(List.of(ip, md5, none));
            Set<String> uuids = new java.util.HashSet<>();
            candidates.values().forEach(uuids::addAll);
            Map<String, MispAttribute> read = store.attributes(instance, uuids).await(30, TimeUnit.SECONDS);
            Map<Indicator, List<MispAttribute>> answer = MirrorIndex.answer(candidates, read,
                    new MispSettings("http://m", null, false, Duration.ofSeconds(1), false, false), Warninglists.NONE, Instant.now());
            assertThat(answer).containsOnlyKeys(ip, md5);
            assertThat(answer.get(md5)).extracting(MispAttribute::eventInfo).containsExactly("OSINT - Campaign 0 infrastructure");

            // an older version's upsert (no digests, a new change number) leaves the row to be read whole
            String one = some.get(0);
            try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                    "UPDATE misp_mirror_attributes SET value = '10.9.9.9', change_seq = change_seq + 1 WHERE instance = ? AND uuid = ?")) {
                ps.setString(1, instance);
                ps.setString(2, one);
                ps.executeUpdate();
            }
            assertThat(MispMirrorIT.rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ? AND key_version IS NULL",
                    instance)).isEqualTo(1);
            // this version's upsert brings its digests
            MispAttribute a = rows.get(one);
            store.upsert(instance, List.of(new MispAttribute(a.id(), a.uuid(), a.eventId(), a.eventUuid(), a.eventInfo(),
                    "ip-dst", a.category(), "10.8.8.8", a.toIds(), a.threatLevel(), a.tags(), a.timestamp(), a.instance())))
                    .await(30, TimeUnit.SECONDS);
            assertThat(MispMirrorIT.rows("SELECT count(*) FROM misp_mirror_attributes WHERE instance = ? AND key_version IS NULL",
                    instance)).isZero();
            store.clear(instance).await(60, TimeUnit.SECONDS);
        } finally {
            mirrorWorker.close();
            jdbc.close();
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    /** The value of row {@code i} when it is an ip-dst (i % 5 == 2). */
    static String ip(int i) {
        return "10." + ((i >> 16) & 255) + "." + ((i >> 8) & 255) + "." + (i & 255);
    }

    /** The value of row {@code i} when it is an md5 (i % 5 == 1). */
    static String md5(int i) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("MD5").digest(Integer.toString(i).getBytes());
            return java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** n rows, 20 per event: 20 % each SHA-256, MD5, IPv4, domain, URL. */
    static void write(String instance, int n) throws Exception {
        String sql = """
                INSERT INTO misp_mirror_attributes (instance, uuid, id, event_id, event_uuid, event_info, type, category,
                                                    value, to_ids, threat_level, tags, attribute_timestamp, change_seq)
                SELECT ?, md5('a' || i)::uuid::text, (1000000 + i)::text, (i / 20)::text, md5('e' || (i / 20))::uuid::text,
                       'OSINT - Campaign ' || (i / 20) || ' infrastructure',
                       (ARRAY['sha256', 'md5', 'ip-dst', 'domain', 'url'])[i % 5 + 1], 'Network activity',
                       CASE i % 5 WHEN 0 THEN encode(sha256(i::text::bytea), 'hex') WHEN 1 THEN md5(i::text)
                                  WHEN 2 THEN '10.' || ((i >> 16) & 255) || '.' || ((i >> 8) & 255) || '.' || (i & 255)
                                  WHEN 3 THEN 'd' || left(md5(i::text), 12) || '.example.com'
                                  ELSE 'https://u' || left(md5(i::text), 10) || '.example.net/p/' || i || '.php' END,
                       true, 1 + (i / 20) % 4,
                       jsonb_build_array('tlp:green', 'misp-galaxy:threat-actor="Actor ' || (i / 20) % 50 || '"'),
                       1700000000 + i, 1
                FROM generate_series(0, ? - 1) AS i
                """;
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, instance);
            ps.setInt(2, n);
            ps.executeUpdate();
        }
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO misp_mirror_changes (instance, change_seq, changed_at) VALUES (?, 1, now()) "
                        + "ON CONFLICT (instance) DO UPDATE SET change_seq = misp_mirror_changes.change_seq + 1")) {
            ps.setString(1, instance);
            ps.executeUpdate();
        }
    }
}
