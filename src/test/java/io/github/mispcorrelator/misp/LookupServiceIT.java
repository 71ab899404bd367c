package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.FakeMisp.Answer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lookup layer against a fake MISP that counts requests: ask less, ask politely, fail fast, recover. Each test
 * gets its own Vert.x from {@link VertxExtension} (with the test event-loop limit), closed after it.
 */
@ExtendWith(VertxExtension.class)
class LookupServiceIT {
    FakeMisp misp;
    Vertx vertx;
    AtomicInteger recoveries = new AtomicInteger();

    @BeforeEach
    void start(Vertx testVertx) {
        misp = new FakeMisp();
        vertx = testVertx;
    }

    @AfterEach
    void stop() {
        misp.close();
    }

    LookupService service(Duration timeout, LookupSettings lookup, AttributeFilter filter) {
        MispSettings settings = new MispSettings(misp.url(), "k", true, timeout, true, true, false, filter);
        return new LookupService(vertx, new MispClient(vertx, settings), settings, lookup, new SimpleMeterRegistry(),
                recoveries::incrementAndGet);
    }

    LookupService service() {
        return service(Duration.ofSeconds(5), LookupSettings.defaults(), AttributeFilter.NONE);
    }

    static Indicator ip(String v) {
        return new Indicator(IndicatorType.IP, v, "data.srcip", "r");
    }

    /** Starts the lookups of many alerts at the same moment (one event-loop turn), as a burst of alerts does. */
    List<LookupResult> concurrently(LookupService s, List<List<Indicator>> perAlert) throws Exception {
        List<Future<LookupResult>> all = new java.util.concurrent.CopyOnWriteArrayList<>();
        vertx.getOrCreateContext().executeBlocking(() -> null).compose(x -> {
            for (List<Indicator> one : perAlert) {
                all.add(s.lookup(one));
            }
            return Future.succeededFuture();
        }).await(10, TimeUnit.SECONDS);
        List<LookupResult> out = new ArrayList<>();
        for (Future<LookupResult> f : all) {
            out.add(f.await(30, TimeUnit.SECONDS));
        }
        return out;
    }

    @Test
    void concurrentAlertsSharingAValueCauseOneRequestAndASecondWaveComesFromTheCache() throws Exception {
        misp.answerWithAttributes(List.of(FakeMisp.attribute("u1", "ip-dst|port", "81.2.69.142|443")));
        LookupService s = service();
        List<List<Indicator>> wave = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            wave.add(List.of(ip("81.2.69.142")));
        }

        List<LookupResult> first = concurrently(s, wave);

        assertThat(misp.searches()).hasSize(1);
        assertThat(first).allSatisfy(r -> assertThat(r.matches().get(ip("81.2.69.142"))).hasSize(1));
        List<LookupResult> second = concurrently(s, wave);
        assertThat(misp.searches()).hasSize(1);
        assertThat(second).allSatisfy(r -> assertThat(r.matches()).hasSize(1));
    }

    @Test
    void valuesWaitingTogetherAreBatchedAndSplitBackByValue() throws Exception {
        misp.answerWithAttributes(List.of(
                FakeMisp.attribute("u1", "ip-dst", "81.2.69.1"),
                FakeMisp.attribute("u2", "domain|ip", "c2.example.net|81.2.69.77"),
                // a port that happens to equal another value is no match for it
                FakeMisp.attribute("u3", "ip-dst|port", "81.2.69.5|8443")));
        LookupService s = service();
        List<List<Indicator>> alerts = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            alerts.add(List.of(ip("81.2.69." + i % 250)));
        }
        alerts.add(List.of(new Indicator(IndicatorType.DOMAIN, "c2.example.net", "f", "r")));

        List<LookupResult> results = concurrently(s, alerts);

        // 251 distinct values, batches of 100: three requests, not 251
        assertThat(misp.searches()).hasSize(3);
        assertThat(misp.searches()).allSatisfy(r -> assertThat(r.json().getJsonObject("value").getJsonArray("OR").size()).isLessThanOrEqualTo(100));
        assertThat(results.get(1).matches().get(ip("81.2.69.1"))).extracting(MispAttribute::uuid).containsExactly("u1");
        assertThat(results.get(77).matches().get(ip("81.2.69.77"))).extracting(MispAttribute::uuid).containsExactly("u2");
        assertThat(results.get(250).matches().values().iterator().next()).extracting(MispAttribute::uuid).containsExactly("u2");
        assertThat(results.get(5).matches().get(ip("81.2.69.5"))).extracting(MispAttribute::uuid).containsExactly("u3");
        assertThat(results.get(2).matches()).isEmpty();
        assertThat(results).allSatisfy(r -> assertThat(r.errors()).isEmpty());
    }

    @Test
    void concurrencyTowardMispIsBounded() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        misp.answer(r -> {
            int now = inFlight.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
            // counted down just before the answer leaves: a next request can only come after it
            vertx.setTimer(90, t -> inFlight.decrementAndGet());
            return new Answer(200, Map.of("Content-Type", "application/json"), "{\"response\":{\"Attribute\":[]}}", 100);
        });
        LookupSettings two = new LookupSettings(1, Duration.ofMillis(1), 2, 0, 1000, Duration.ofMinutes(1),
                Duration.ofMinutes(1), 100, Duration.ofSeconds(30));
        LookupService s = service(Duration.ofSeconds(10), two, AttributeFilter.NONE);
        List<List<Indicator>> alerts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            alerts.add(List.of(ip("81.2.70." + i)));
        }
        concurrently(s, alerts);
        assertThat(misp.searches()).hasSize(10);
        assertThat(peak.get()).isLessThanOrEqualTo(2);
    }

    @Test
    void serverErrorsAreRetriedThenReportedAndNeverCached() throws Exception {
        misp.answer(new Answer(500, Map.of(), "oops", 0));
        LookupService s = service();
        LookupResult r = s.lookup(List.of(ip("81.2.69.9"))).await(10, TimeUnit.SECONDS);
        assertThat(r.errors().get(ip("81.2.69.9"))).contains("HTTP 500");
        // the first attempt and two retries
        assertThat(misp.searches()).hasSize(3);

        misp.answerWithAttributes(List.of(FakeMisp.attribute("u9", "ip-dst", "81.2.69.9")));
        assertThat(s.lookup(List.of(ip("81.2.69.9"))).await(10, TimeUnit.SECONDS).matches()).hasSize(1);
    }

    @Test
    void rateLimitingIsHonoured() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        misp.answer(r -> calls.incrementAndGet() == 1
                ? new Answer(429, Map.of("Retry-After", "1"), "{\"message\":\"Rate limit exceeded.\"}", 0)
                : Answer.json(200, "{\"response\":{\"Attribute\":[]}}"));
        LookupService s = service(Duration.ofSeconds(5), LookupSettings.defaults(), AttributeFilter.NONE);
        long t0 = System.nanoTime();
        LookupResult r = s.lookup(List.of(ip("81.2.69.10"))).await(10, TimeUnit.SECONDS);
        assertThat(r.errors()).isEmpty();
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(950);
        assertThat(misp.searches()).hasSize(2);
    }

    @Test
    void aHungMispCostsAtMostTheTimeoutTripsTheBreakerAndRecoversAfterAProbe() throws Exception {
        misp.answer(r -> r.path().equals("/servers/getVersion.json") ? Answer.json(503, "{}") : Answer.hang());
        LookupSettings quick = new LookupSettings(100, Duration.ofMillis(1), 4, 1, 1000, Duration.ofMinutes(1),
                Duration.ofMinutes(1), 2, Duration.ofMillis(300));
        LookupService s = service(Duration.ofMillis(400), quick, AttributeFilter.NONE);

        for (int i = 0; i < 2; i++) {
            long t0 = System.nanoTime();
            LookupResult r = s.lookup(List.of(ip("81.2.71." + i))).await(10, TimeUnit.SECONDS);
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_500);
            assertThat(r.errors()).hasSize(1);
        }
        assertThat(s.breakerOpen()).isTrue();
        int asked = misp.searches().size();
        long t0 = System.nanoTime();
        LookupResult fast = s.lookup(List.of(ip("81.2.71.9"))).await(10, TimeUnit.SECONDS);
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(200);
        assertThat(fast.errors().values().iterator().next()).contains("circuit open");
        assertThat(misp.searches()).hasSize(asked);

        misp.answerWithAttributes(List.of(FakeMisp.attribute("u", "ip-dst", "81.2.71.9")));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (s.breakerOpen() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(s.breakerOpen()).isFalse();
        assertThat(recoveries.get()).isEqualTo(1);
        assertThat(misp.requests()).anySatisfy(r -> assertThat(r.path()).isEqualTo("/servers/getVersion.json"));
        assertThat(s.lookup(List.of(ip("81.2.71.9"))).await(10, TimeUnit.SECONDS).matches()).hasSize(1);
    }

    @Test
    void tagAndAgeFiltersCutFalsePositives() throws Exception {
        JsonObject red = FakeMisp.attribute("red", "ip-dst", "81.2.69.20")
                .put("Tag", new io.vertx.core.json.JsonArray().add(new JsonObject().put("name", "tlp:red")));
        JsonObject old = FakeMisp.attribute("old", "ip-dst", "81.2.69.21").put("timestamp", "1000000000");
        JsonObject fine = FakeMisp.attribute("fine", "ip-dst", "81.2.69.22")
                .put("timestamp", String.valueOf(System.currentTimeMillis() / 1000 - 86_400));
        misp.answerWithAttributes(List.of(red, old, fine));
        AttributeFilter filter = new AttributeFilter(Set.of(), Set.of("tlp:red"), null,
                Map.of(IndicatorType.IP, Duration.ofDays(90)));
        LookupService s = service(Duration.ofSeconds(5), LookupSettings.defaults(), filter);

        LookupResult r = s.lookup(List.of(ip("81.2.69.20"), ip("81.2.69.21"), ip("81.2.69.22"))).await(10, TimeUnit.SECONDS);

        assertThat(r.matches()).containsOnlyKeys(ip("81.2.69.22"));
        JsonObject body = misp.searches().get(0).json();
        assertThat(body.getJsonArray("tags").getList()).containsExactly("!tlp:red");
    }
}
