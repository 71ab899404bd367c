package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.FakeMisp.Answer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cold path (issue 16 item 5), counted at a fake MISP over HTTP: a stream of new values from alerts that each wait
 * for their answer (as a batch's lines do) costs about {@code distinct ÷ batch size} requests, and the number of
 * requests in flight follows MISP's latency.
 */
class LookupBatchingIT {
    FakeMisp misp;
    Vertx vertx;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger peak = new AtomicInteger();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void start() {
        misp = new FakeMisp();
        vertx = io.github.mispcorrelator.support.BlockedEventLoops.vertx();
    }

    @AfterEach
    void stop() {
        misp.close();
        vertx.close();
    }

    /** MISP answering no value after {@code delay(requests in flight)} ms; in flight and its peak are counted. */
    void mispTaking(IntUnaryOperator delay) {
        misp.answer(r -> {
            if (!r.path().equals("/attributes/restSearch")) {
                return Answer.json(200, "{\"version\":\"2.5.1\"}");
            }
            int now = inFlight.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
            long ms = delay.applyAsInt(now);
            // counted down just before the answer leaves: a next request can only come after it
            vertx.setTimer(Math.max(1, ms - 5), t -> inFlight.decrementAndGet());
            return new Answer(200, Map.of("Content-Type", "application/json"), "{\"response\":{\"Attribute\":[]}}", ms);
        });
    }

    LookupService service(int maxConcurrent) {
        MispSettings settings = new MispSettings(misp.url(), "k", true, Duration.ofSeconds(10), true, true, false,
                AttributeFilter.NONE);
        LookupSettings lookup = new LookupSettings(100, Duration.ofMillis(2), maxConcurrent, 0, 100_000,
                Duration.ofMinutes(5), Duration.ofMinutes(5), 100, Duration.ofSeconds(30));
        return new LookupService(vertx, new MispClient(vertx, settings), settings, lookup, registry, () -> { });
    }

    /**
     * {@code alerts} alerts in flight at once, each with one or two new values and a next alert once answered, until
     * {@code distinct} values were asked; on an event loop, as the HTTP API runs them.
     */
    void coldStream(LookupService s, int alerts, int from, int distinct) throws Exception {
        AtomicInteger nextValue = new AtomicInteger(from);
        AtomicInteger running = new AtomicInteger(alerts);
        Promise<Void> done = Promise.promise();
        vertx.getOrCreateContext().runOnContext(v -> {
            for (int i = 0; i < alerts; i++) {
                next(s, nextValue, from + distinct, running, done);
            }
        });
        done.future().await(120, TimeUnit.SECONDS);
    }

    private void next(LookupService s, AtomicInteger nextValue, int end, AtomicInteger running, Promise<Void> done) {
        List<Indicator> values = new ArrayList<>();
        int want = nextValue.get() % 3 == 0 ? 2 : 1;
        for (int k = 0; k < want; k++) {
            int n = nextValue.getAndIncrement();
            if (n < end) {
                values.add(new Indicator(IndicatorType.IP, "10." + (n >> 16) + "." + ((n >> 8) & 255) + "." + (n & 255),
                        "data.srcip", "r"));
            }
        }
        if (values.isEmpty()) {
            if (running.decrementAndGet() == 0) {
                done.tryComplete();
            }
            return;
        }
        s.lookup(values).onComplete(ar -> {
            if (ar.failed() || !ar.result().errors().isEmpty()) {
                done.tryFail(ar.failed() ? ar.cause() : new AssertionError(ar.result().errors()));
                return;
            }
            // the next alert in a later turn: an answer may complete at once, and the chain must not deepen the stack
            vertx.runOnContext(v -> next(s, nextValue, end, running, done));
        });
    }

    @Test
    void aColdStreamFillsItsBatches() throws Exception {
        mispTaking(n -> 25);
        LookupService s = service(4);
        int distinct = 5_000;
        coldStream(s, 256, 0, distinct);

        int requests = misp.searches().size();
        System.out.printf("LookupBatchingIT: %d values in %d requests, at most %d in flight%n", distinct, requests, peak.get());
        int asked = misp.searches().stream().mapToInt(r -> r.json().getJsonObject("value").getJsonArray("OR").size()).sum();
        assertThat(asked).isEqualTo(distinct);
        // issue 16's target: requests ≤ 1.02 × ⌈distinct ÷ batch size⌉ (before: a batch left whenever a slot freed)
        assertThat(requests).as("%d values in %d requests", asked, requests)
                .isLessThanOrEqualTo((int) Math.floor(1.02 * Math.ceil(distinct / 100.0)));
        assertThat(peak.get()).isLessThanOrEqualTo(4);
    }

    @Test
    void aMispThatSlowsWithLoadIsAskedLessAtOnce() throws Exception {
        // each request in flight adds 20 ms: MISP works them one after the other
        mispTaking(n -> 20 * n);
        LookupService s = service(8);
        coldStream(s, 512, 0, 6_000);
        int earlyPeak = peak.get();
        peak.set(0);
        coldStream(s, 512, 6_000, 6_000);

        // a fixed limit would keep 8 requests in MISP (160 ms each, no faster overall); the adaptive one stays at
        // the few whose latency is near the fastest seen (2 on a quiet machine; a shared one adds noise to every
        // round trip, hence the margin below the ceiling)
        assertThat(earlyPeak).isLessThanOrEqualTo(6);
        assertThat(peak.get()).isLessThanOrEqualTo(6);
        assertThat(registry.get("misp_concurrency_limit").gauge().value()).isLessThanOrEqualTo(4);
    }
}
