package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.support.BlockedEventLoops;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.StrictMisp;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Live lookups and sightings against {@link StrictMisp}, a fake as unkind as MISP 2.5: warning lists applied after
 * the LIMIT, values MISP reinterprets, non-exportable event tags, rate limits on restSearch only, sightings refused
 * with HTTP 200.
 */
class StrictMispLookupIT {
    static final String SHA = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
    static final long T0 = Instant.now().getEpochSecond() - 86_400;

    FakeMisp misp;
    StrictMisp data;
    Vertx vertx;
    StrictMisp.Event event;

    @BeforeEach
    void start() {
        misp = new FakeMisp();
        data = new StrictMisp().serve(misp);
        vertx = BlockedEventLoops.vertx();
        event = data.event("e0000001-0000-4000-8000-000000000000", "an event");
    }

    @AfterEach
    void stop() {
        misp.close();
        vertx.close();
    }

    MispSettings settings(boolean warninglists, AttributeFilter filter, Duration timeout) {
        return new MispSettings(misp.url(), "k", true, timeout, true, true, warninglists, filter);
    }

    static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "data.srcip", "r");
    }

    static Indicator sha(String v) {
        return new Indicator(IndicatorType.SHA256, v, "data.sha256", "r");
    }

    @Test
    void aPageShortenedByWarningListsIsNotTheLast() throws Exception {
        data.warninglist("List of known IPv4 public DNS resolvers", "cidr", Set.of("ip-dst"), List.of("8.8.8.0/24"));
        for (int i = 0; i < 50; i++) {
            data.add(event, "listed-" + i, "ip-dst", "8.8.8.8", T0);
        }
        for (int i = 0; i < RestSearchRequest.LIMIT; i++) {
            data.add(event, "common-" + i, "ip-dst", "81.2.69.142", T0);
        }
        data.add(event, "rare", "sha256", SHA, T0);
        MispClient client = new MispClient(vertx, settings(true, AttributeFilter.NONE, Duration.ofSeconds(10)));

        LookupResult r = client.lookup(List.of(ip("8.8.8.8"), ip("81.2.69.142"), sha(SHA))).await(20, TimeUnit.SECONDS);

        assertThat(misp.searches()).as("page 1 came back with 950 of 1,000 rows: not the end").hasSize(2);
        assertThat(misp.searches().get(0).json().getBoolean("enforceWarninglist")).isTrue();
        assertThat(r.matches()).doesNotContainKey(ip("8.8.8.8"));
        assertThat(r.matches().get(ip("81.2.69.142"))).hasSize(RestSearchRequest.LIMIT);
        assertThat(r.matches().get(sha(SHA))).extracting(MispAttribute::uuid).containsExactly("rare");
    }

    @Test
    void aValueStartingWithABangIsTakenLiterally() throws Exception {
        data.add(event, "u1", "url", "http://a.example/", T0);
        data.add(event, "u2", "url", "http://b.example/", T0);
        MispClient client = new MispClient(vertx, settings(false, AttributeFilter.NONE, Duration.ofSeconds(5)));

        // in a plain list MISP would read "!x" as "everything but x" and answer both attributes
        List<MispAttribute> answered = client.search(List.of(new Indicator(IndicatorType.URL, "!http://a.example/", "f", "r")),
                Duration.ofSeconds(5)).await(10, TimeUnit.SECONDS);

        assertThat(answered).isEmpty();
    }

    @Test
    void aValueWithAPercentAtEitherEndIsNeverAskedAndSaysWhy() throws Exception {
        data.add(event, "u1", "url", "http://a.example/x", T0);
        LookupService s = new LookupService(vertx, new MispClient(vertx, settings(false, AttributeFilter.NONE, Duration.ofSeconds(5))),
                settings(false, AttributeFilter.NONE, Duration.ofSeconds(5)), LookupSettings.defaults(),
                new SimpleMeterRegistry(), () -> { });
        Indicator like = new Indicator(IndicatorType.URL, "http://a.example/%", "f", "r");
        Indicator plain = new Indicator(IndicatorType.URL, "http://a.example/x", "f", "r");

        LookupResult r = s.lookup(List.of(like, plain)).await(10, TimeUnit.SECONDS);

        assertThat(r.errors().get(like)).startsWith(RestSearchRequest.UNCHECKED_PREFIX).contains("%");
        assertThat(r.matches()).containsOnlyKeys(plain);
        assertThat(misp.searches()).hasSize(1);
        assertThat(misp.searches().get(0).json().getJsonObject("value").getJsonArray("OR").getList())
                .containsExactly("http://a.example/x");
        // and the wider question MISP would have answered
        assertThat(StrictMisp.filter(new io.vertx.core.json.JsonObject().put("OR", new io.vertx.core.json.JsonArray()
                .add("http://a.example/%")), List.of("http://a.example/x", ""), true)).isTrue();
    }

    @Test
    void anExcludedEventTagThatIsNotExportableStillExcludes() throws Exception {
        // MISP applies "!tag" to attribute tags only in attribute scope, and leaves non-exportable tags out unless asked
        data.tagEvent(event, data.tag("tlp:red", false));
        data.publish(event);
        data.add(event, "red", "ip-dst", "81.2.69.77", T0);
        AttributeFilter noRed = new AttributeFilter(Set.of(), Set.of("tlp:red"), null, Map.of());
        LookupService s = new LookupService(vertx, new MispClient(vertx, settings(false, noRed, Duration.ofSeconds(5))),
                settings(false, noRed, Duration.ofSeconds(5)), LookupSettings.defaults(), new SimpleMeterRegistry(), () -> { });

        LookupResult r = s.lookup(List.of(ip("81.2.69.77"))).await(10, TimeUnit.SECONDS);

        assertThat(misp.searches().get(0).json().getJsonArray("tags").getList()).containsExactly("!tlp:red");
        assertThat(r.errors()).isEmpty();
        assertThat(r.matches()).as("MISP returned it; its tags say tlp:red").isEmpty();
    }

    @Test
    void theBreakerStaysOpenUntilTheRateLimitResets() throws Exception {
        data.add(event, "u1", "ip-dst", "81.2.69.1", T0);
        data.rateLimit(2, 3);
        LookupSettings quick = new LookupSettings(1, Duration.ofMillis(1), 1, 2, 1000, Duration.ofMillis(1),
                Duration.ofMillis(1), 5, Duration.ofMillis(200));
        java.util.concurrent.atomic.AtomicInteger recoveries = new java.util.concurrent.atomic.AtomicInteger();
        MispSettings settings = settings(false, AttributeFilter.NONE, Duration.ofMillis(800));
        LookupService s = new LookupService(vertx, new MispClient(vertx, settings), settings, quick,
                new SimpleMeterRegistry(), recoveries::incrementAndGet);

        assertThat(s.lookup(List.of(ip("81.2.69.1"))).await(5, TimeUnit.SECONDS).matches()).hasSize(1);
        assertThat(s.lookup(List.of(ip("81.2.69.2"))).await(5, TimeUnit.SECONDS).errors()).isEmpty();
        long refusedAt = System.nanoTime();
        LookupResult limited = s.lookup(List.of(ip("81.2.69.3"))).await(5, TimeUnit.SECONDS);
        assertThat(limited.errors().get(ip("81.2.69.3"))).contains("429").contains("resets in");
        assertThat(s.breakerOpen()).as("one 429 opens it: every search is refused until the reset").isTrue();
        assertThat(misp.searches()).hasSize(3);

        // getVersion answers all along; the breaker must not close before the reset
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (s.breakerOpen() && System.nanoTime() < deadline) {
            LookupResult fast = s.lookup(List.of(ip("81.2.69.4"))).await(5, TimeUnit.SECONDS);
            if (s.breakerOpen()) {
                assertThat(fast.errors().get(ip("81.2.69.4"))).contains("circuit open");
            }
            Thread.sleep(100);
        }
        long closedAfterMs = (System.nanoTime() - refusedAt) / 1_000_000;
        assertThat(s.breakerOpen()).isFalse();
        assertThat(closedAfterMs).as("closed only once the 3 s window reset").isGreaterThanOrEqualTo(1_900);
        assertThat(misp.requests().stream().filter(r -> r.path().equals("/servers/getVersion.json")).count())
                .as("probed meanwhile").isGreaterThanOrEqualTo(1);
        assertThat(misp.searches()).as("no search while open").hasSize(3);
        assertThat(recoveries).hasValue(1);
        assertThat(s.lookup(List.of(ip("81.2.69.1"))).await(5, TimeUnit.SECONDS).errors()).isEmpty();
    }

    @Test
    void sightingsNameTheMatchedAttributesAtTheAlertsTimeAndARefusalIsNoSighting() throws Exception {
        StrictMisp.Attribute matched = data.add(event, "u1", "ip-dst", "81.2.69.1", T0);
        // same value elsewhere: a sighting by value would mark it too
        StrictMisp.Event other = data.event("e0000002-0000-4000-8000-000000000000", "other");
        data.add(other, "u2", "ip-dst|port", "81.2.69.1|443", T0).toIds = false;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MispSettings settings = settings(false, AttributeFilter.NONE, Duration.ofSeconds(5));
        SightingReporter reporter = new SightingReporter(vertx, Map.of(misp.url(), settings), "wazuh:test",
                Duration.ofHours(1), registry);
        try {
            var alert = AlertParser.parse("{\"id\":\"1\",\"timestamp\":\"2025-08-13T08:45:06.785+0000\"}");
            MispAttribute a1 = new MispAttribute(Integer.toString(matched.id), matched.uuid, "1", event.uuid, "an event",
                    "ip-dst", "Network activity", "81.2.69.1", true, 2, List.of(), T0, misp.url());
            // an attribute MISP no longer holds (hard-deleted since the mirror's last pull)
            MispAttribute a3 = new MispAttribute("99999", "c0000003-0000-4000-8000-000000000000", "1", event.uuid, "an event",
                    "ip-dst", "Network activity", "81.2.69.3", true, 2, List.of(), T0, misp.url());
            var later = AlertParser.parse("{\"id\":\"2\",\"timestamp\":\"2025-08-13T09:00:00.000+0000\"}");
            reporter.report(alert, List.of(a1));
            reporter.report(later, List.of(a3));
            reporter.flush();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (registry.counter("misp_sightings", "outcome", "sent").count()
                    + registry.counter("misp_sightings", "outcome", "failed").count() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(data.sightings()).extracting(StrictMisp.Sighting::attributeId).containsExactly(matched.id);
            assertThat(data.sightings().get(0).timestamp()).isEqualTo(Instant.parse("2025-08-13T08:45:06Z").getEpochSecond());
            assertThat(data.sightings().get(0).source()).isEqualTo("wazuh:test");
            List<FakeMisp.Request> adds = misp.requests().stream().filter(r -> r.path().equals("/sightings/add")).toList();
            assertThat(adds).hasSize(2);
            assertThat(adds).allSatisfy(r -> assertThat(r.json().containsKey("values")).isFalse());
            assertThat(registry.counter("misp_sightings", "outcome", "sent").count()).isEqualTo(1);
            assertThat(registry.counter("misp_sightings", "outcome", "failed").count())
                    .as("MISP answered 200 with a message: nothing was added").isEqualTo(1);
        } finally {
            reporter.close();
        }
    }
}
