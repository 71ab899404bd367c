package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.support.CorrelatorProcess;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.StrictMisp;
import io.github.mispcorrelator.support.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mirror's follow mode with two correlators (child JVMs) on one PostgreSQL and one strict fake MISP: the holder
 * of {@code mirror:<MISP>} alone issues restSearch; the other answers lookups from the shared tables, taking in what
 * the puller adds and removes within seconds (woken by NOTIFY: its poll is set far longer than the wait allowed);
 * the puller is SIGKILLed and the follower takes the pulls over within the lease, resuming with an incremental pull
 * from the stored sync state.
 */
class MirrorFollowIT {
    static final Duration LEASE = Duration.ofSeconds(6);
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    static final Duration INTERVAL = Duration.ofSeconds(2);
    static final Pattern PAGES = Pattern.compile("^misp_mirror_pages_total\\{[^}]*\\} ([0-9.E]+)$", Pattern.MULTILINE);

    @Test
    void onePullsTheOtherFollowsAndTakesThePullsOverWhenThePullerIsKilled() throws Exception {
        String run = "mf" + System.nanoTime();
        try (FakeMisp fake = new FakeMisp()) {
            forget(fake.url());
            StrictMisp misp = new StrictMisp().serve(fake);
            long t0 = Instant.now().getEpochSecond() - 3600;
            StrictMisp.Event event = misp.event(run + "-e1", "follow mode");
            for (int n = 1; n <= 25; n++) {
                misp.add(event, run + "-" + n, "ip-dst", "81.2.91." + n, t0 + n);
            }
            // in an event of its own: a soft deletion unpublishes the event (Event.php:6028-6052)
            StrictMisp.Event doomed = misp.event(run + "-e2", "to be deleted");
            misp.add(doomed, run + "-doomed", "ip-dst", "81.2.92.1", t0);

            Map<String, String> env = new HashMap<>(TestDatabase.env());
            env.put("CORRELATOR_MISP_URL", fake.url());
            env.put("CORRELATOR_MISP_KEY", "k");
            env.put("CORRELATOR_MISP_MIRROR", "true");
            env.put("CORRELATOR_MISP_MIRROR_PAGE", "10");
            env.put("CORRELATOR_MISP_MIRROR_INTERVAL", INTERVAL.toSeconds() + "s");
            // far longer than the waits below: the follower sees changes by NOTIFY
            env.put("CORRELATOR_MISP_MIRROR_FOLLOW_POLL", "60s");
            env.put("CORRELATOR_CLUSTER_HEARTBEAT", HEARTBEAT.toSeconds() + "s");
            env.put("CORRELATOR_CLUSTER_LEASE_TTL", LEASE.toSeconds() + "s");
            Path logs = Fixtures.workDir("mirror-follow-it");
            CorrelatorProcess a = CorrelatorProcess.start(run + "-a", env, logs);
            CorrelatorProcess b = CorrelatorProcess.start(run + "-b", env, logs);
            try {
                a.awaitReady(Duration.ofSeconds(180));
                b.awaitReady(Duration.ofSeconds(180));
                awaitTrue("both mirrors loaded", Duration.ofSeconds(120),
                        () -> mirror(a).getBoolean("loaded") && mirror(b).getBoolean("loaded"));
                // the roles settle once both are up (a start under load can delay a heartbeat past the lease)
                awaitTrue("one holder for 3 s", Duration.ofSeconds(60), () -> stableHolder(fake.url(), Duration.ofSeconds(3)));
                CorrelatorProcess puller = mirror(a).getString("role").equals("puller") ? a : b;
                CorrelatorProcess follower = puller == a ? b : a;
                JsonObject pullerStatus = mirror(puller);
                JsonObject followerStatus = mirror(follower);
                assertThat(pullerStatus.getString("role")).isEqualTo("puller");
                assertThat(followerStatus.getString("role")).isEqualTo("follower");
                assertThat(holder(fake.url())).isEqualTo(puller.instance());
                awaitTrue("the follower holds the whole copy", Duration.ofSeconds(20),
                        () -> mirror(follower).getInteger("attributes") == 26);
                assertThat(hits(follower, "81.2.91.7")).containsExactly(run + "-7");
                assertThat(hits(follower, "81.2.92.1")).containsExactly(run + "-doomed");
                assertThat(hits(follower, "81.2.93.1")).isEmpty();
                assertThat(fake.searches()).allSatisfy(r -> assertThat(r.json().containsKey("value"))
                        .as("no live lookup").isFalse());
                // from here on only the puller asks MISP: every new restSearch is one of its pages
                long followerPages = pages(follower);
                // searches read around each page count: the counters are read over HTTP while pulls go on
                long searchesBeforeFirst = fake.searches().size();
                long pullerPagesBefore = pages(puller);
                long searchesBefore = fake.searches().size();

                // added in MISP: in both instances' lookups within seconds
                misp.add(event, run + "-new", "ip-dst", "81.2.91.100", Instant.now().getEpochSecond());
                long added = System.nanoTime();
                long[] seen = appearsAt(List.of(puller, follower), "81.2.91.100", run + "-new", true, added);
                long pullerSeesMs = seen[0];
                long followerSeesMs = seen[1];

                // deleted in MISP: gone from both
                misp.delete(run + "-doomed");
                long deleted = System.nanoTime();
                long[] gone = appearsAt(List.of(puller, follower), "81.2.92.1", run + "-doomed", false, deleted);
                JsonObject follow = mirror(follower).getJsonObject("follow");
                long searchesNow = fake.searches().size();
                long pullerPagesNow = pages(puller);
                long searchesLater = fake.searches().size();
                assertThat(holder(fake.url())).as("the lease stayed where it was").isEqualTo(puller.instance());
                assertThat(pages(follower)).as("the follower pulls nothing").isEqualTo(followerPages);
                assertThat(pullerPagesNow - pullerPagesBefore).as("every restSearch is a page of the puller's")
                        .isBetween(searchesNow - searchesBefore - 3, searchesLater - searchesBeforeFirst + 3);
                assertThat(searchesNow).isGreaterThan(searchesBefore);
                JsonObject ready = new JsonObject(follower.get("/health/ready").body());
                assertThat(ready.getJsonArray("mirror").getJsonObject(0).getString("role")).isEqualTo("follower");
                assertThat(ready.getJsonArray("mirror").getJsonObject(0).getLong("change_applied")).isPositive();

                // the puller dies: the follower takes the pulls over within the lease and resumes from the stored state
                int searchesAtKill = fake.searches().size();
                puller.kill();
                long killed = System.nanoTime();
                awaitTrue("the survivor pulls", Duration.ofSeconds(60), () -> mirror(follower).getString("role").equals("puller"));
                long takeOverMs = (System.nanoTime() - killed) / 1_000_000;
                awaitTrue("the survivor's first page", Duration.ofSeconds(60), () -> pages(follower) > followerPages);
                long firstPageMs = (System.nanoTime() - killed) / 1_000_000;
                awaitTrue("the survivor's first pull done", Duration.ofSeconds(60),
                        () -> !mirror(follower).getJsonObject("sync").getBoolean("in_progress")
                                && mirror(follower).getString("last_error") == null && pages(follower) >= followerPages + 3);
                List<FakeMisp.Request> afterKill = new ArrayList<>(fake.searches().subList(searchesAtKill, fake.searches().size()));
                assertThat(afterKill).as("incremental passes only: no full pull after the take-over").isNotEmpty()
                        .allSatisfy(r -> assertThat(r.json().containsKey("timestamp") || r.json().containsKey("event_timestamp")
                                || r.json().containsKey("publish_timestamp")).isTrue());
                assertThat(follower.logLines()).anyMatch(l -> l.contains("now runs singleton mirror:" + fake.url()));

                misp.add(event, run + "-after", "ip-dst", "81.2.91.101", Instant.now().getEpochSecond());
                long addedAfter = System.nanoTime();
                long survivorSeesMs = appearsAt(List.of(follower), "81.2.91.101", run + "-after", true, addedAfter)[0];
                assertThat(hits(follower, "81.2.91.7")).containsExactly(run + "-7");

                System.out.printf("MirrorFollowIT: added attribute seen by the puller after %d ms, by the follower after %d ms "
                                + "(follower lag %d ms; interval %d s, NOTIFY, poll 60 s; follower's last_change_lag_ms %s); deletion "
                                + "gone at the puller after %d ms, at the follower after %d ms; take-over %d ms after SIGKILL "
                                + "(lease %d s, heartbeat %d s), first page %d ms after it; added after the take-over: seen after %d ms%n",
                        pullerSeesMs, followerSeesMs, followerSeesMs - pullerSeesMs, INTERVAL.toSeconds(),
                        follow.getValue("last_change_lag_ms"), gone[0], gone[1], takeOverMs, LEASE.toSeconds(),
                        HEARTBEAT.toSeconds(), firstPageMs, survivorSeesMs);
                assertThat(followerSeesMs).as("the follower within seconds of MISP").isLessThan(15_000);
                assertThat(followerSeesMs - pullerSeesMs).as("the follower within seconds of the puller").isLessThan(3_000);
                assertThat(gone[1]).isLessThan(15_000);
                assertThat(takeOverMs).as("within the lease").isLessThan(LEASE.toMillis() + 2 * HEARTBEAT.toMillis() + 2_000);
            } finally {
                a.kill();
                b.kill();
            }
        }
    }

    /** When (ms after {@code since}) each instance's lookups of {@code ip} first show (or stop showing) {@code uuid}. */
    static long[] appearsAt(List<CorrelatorProcess> instances, String ip, String uuid, boolean present, long since)
            throws Exception {
        long[] at = new long[instances.size()];
        Arrays.fill(at, -1);
        long deadline = since + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (int i = 0; i < instances.size(); i++) {
                if (at[i] < 0) {
                    if (hits(instances.get(i), ip).contains(uuid) == present) {
                        at[i] = (System.nanoTime() - since) / 1_000_000;
                    } else {
                        all = false;
                    }
                }
            }
            if (all) {
                return at;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not " + (present ? "seen" : "gone") + " in time: " + uuid + " " + Arrays.toString(at));
    }

    /** The attribute uuids a lookup of {@code ip} answers on that instance (POST /v1/rules/test: nothing stored). */
    static List<String> hits(CorrelatorProcess p, String ip) throws Exception {
        JsonObject alert = new JsonObject(Fixtures.text("alerts/sysmon-eid3-ipv4.json"));
        alert.getJsonObject("data").getJsonObject("win").getJsonObject("eventdata").put("destinationIp", ip);
        var r = p.post("/v1/rules/test", new JsonObject().put("alert", alert).encode());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonArray hits = new JsonObject(r.body()).getJsonArray("hits");
        List<String> uuids = new ArrayList<>();
        hits.forEach(h -> uuids.add(((JsonObject) h).getJsonObject("misp").getString("attribute_uuid")));
        return uuids;
    }

    static JsonObject mirror(CorrelatorProcess p) throws Exception {
        return new JsonObject(p.get("/v1/misp/status").body()).getJsonArray("instances").getJsonObject(0);
    }

    static long pages(CorrelatorProcess p) throws Exception {
        Matcher m = PAGES.matcher(p.get("/metrics").body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    /** The instance holding the lease {@code mirror:<instance>} now, or null. */
    static String holder(String instance) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT holder FROM cluster_leases WHERE name = ? AND expires_at > now()")) {
            ps.setString(1, "mirror:" + instance);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Whether one instance held the lease throughout {@code period}. */
    static boolean stableHolder(String instance, Duration period) throws Exception {
        String first = holder(instance);
        long end = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < end) {
            if (first == null || !first.equals(holder(instance))) {
                return false;
            }
            Thread.sleep(200);
        }
        return true;
    }

    /** A port an earlier test's fake MISP had names the same instance: start without its mirror or lease. */
    static void forget(String instance) throws Exception {
        try (Connection c = TestDatabase.dataSource().getConnection()) {
            for (String table : List.of("misp_mirror_attributes", "misp_mirror_state", "misp_mirror_changes",
                    "misp_mirror_removed")) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE instance = ?")) {
                    ps.setString(1, instance);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM cluster_leases WHERE name = ?")) {
                ps.setString(1, "mirror:" + instance);
                ps.executeUpdate();
            }
        }
    }

    static void awaitTrue(String what, Duration timeout, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
