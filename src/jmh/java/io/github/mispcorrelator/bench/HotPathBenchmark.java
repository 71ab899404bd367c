package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Candidate;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.Normaliser;
import io.github.mispcorrelator.http.AlertAnswer;
import io.github.mispcorrelator.http.BatchIngest;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleSetLoader;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The correlator's per-alert hot path, one step at a time, so a regression shows in isolation: parse the alert,
 * split a batch into its lines, run the extraction rules (normalisation included) and the scoring rules, normalise
 * candidates alone, look a value up in a cache shaped like the lookup layer's, build the event for Wazuh and the
 * alert's answer. Alerts are the bench's own mix (same templates, same value
 * generator). Run from the project directory (the rules are read from {@code drl/}, or {@code -Ddrl.dir=…}):
 * <pre>
 * mvn -B -q -Pjmh package && java -jar target/jmh/benchmarks.jar
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
public class HotPathBenchmark {

    /** One alert of a kind, parsed and raw, with the rules and what the rules make of it. */
    @State(Scope.Benchmark)
    public static class AlertState {
        /** SCA (no indicator: the commonest alert), a Windows logon failure (one IP), Sysmon 1 (three hashes). */
        @Param({"sca", "logon", "sysmon1"})
        public String kind;

        byte[] body;
        Alert alert;
        RuleSet rules;
        List<Candidate> candidates;
        Hit hit;
        String ruleset;

        @Setup(Level.Trial)
        public void setUp() {
            rules = RuleSetLoader.load(Path.of(System.getProperty("drl.dir", "drl")));
            body = Fixtures.alert(kind);
            alert = AlertParser.parse(body);
            List<Indicator> indicators = rules.extract(alert).indicators();
            // what the rules hand to normalisation: the raw values as written in the alert
            candidates = new ArrayList<>();
            for (Indicator i : indicators) {
                String raw = i.type() == IndicatorType.IP ? i.value() : i.value().toUpperCase(java.util.Locale.ROOT);
                candidates.add(new Candidate(i.type(), raw, i.field(), i.rule()));
            }
            if (candidates.isEmpty()) {
                candidates.add(new Candidate(IndicatorType.IP, "10.20.4.17", "agent.ip", "none"));
            }
            Indicator first = indicators.isEmpty()
                    ? new Indicator(IndicatorType.IP, "81.2.69.144", "data.srcip", "none") : indicators.get(0);
            hit = new Hit(alert, first, Fixtures.attribute(first.value(), 2)).lookedUpAt(Instant.now());
            hit.raise(10);
            ruleset = rules.version();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rules.dispose();
        }

        /** The alert's answer as {@code POST /v1/alerts} gives it: one hit scored and its event, not yet encoded. */
        Correlation correlation() {
            Hit h = freshHit();
            rules.score(List.of(h));
            return new Correlation(alert, List.of(h.indicator()), Set.of(), Set.of(), List.of(h), Map.of(), null,
                    ruleset, List.of(h), false);
        }

        Hit freshHit() {
            return new Hit(alert, hit.indicator(), hit.attribute()).lookedUpAt(Instant.now());
        }
    }

    /** A batch as shippers send it: 500 alerts of the bench's mix, NDJSON. */
    @State(Scope.Benchmark)
    public static class BatchState {
        Buffer ndjson;
        BatchIngest ingest;

        @Setup(Level.Trial)
        public void setUp() {
            Workload w = Workload.create(null, 0.5);
            Workload.Pool pool = new Workload.Pool(0, w.poolSizes(10_000, 1), 0.05, 1);
            SplittableRandom r = new SplittableRandom(11);
            Workload.Picker picker = Workload.random(pool, r);
            ndjson = Buffer.buffer();
            for (int i = 0; i < 500; i++) {
                ndjson.appendBytes(w.next(r, pool, picker).withId(i)).appendByte((byte) '\n');
            }
            // only the split is measured: no correlator behind it
            ingest = new BatchIngest(null, 20_000);
        }
    }

    /** A cache shaped like the lookup layer's: type:value keys, answers with a time, TTL by positive or negative. */
    @State(Scope.Benchmark)
    public static class CacheState {
        record Answer(List<MispAttribute> attributes, Instant at) {
        }

        static final int ENTRIES = 100_000;
        Cache<String, Answer> cache;
        String[] present;
        String[] absent;
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            cache = Caffeine.newBuilder()
                    .maximumSize(500_000)
                    .expireAfter(Expiry.creating((String key, Answer a) ->
                            a.attributes().isEmpty() ? Duration.ofMinutes(5) : Duration.ofMinutes(15)))
                    .recordStats()
                    .build();
            Workload.Pool pool = Fixtures.pool(ENTRIES);
            List<String> keys = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (IndicatorType t : Workload.TYPES) {
                for (int k = 0; k < pool.size(t); k++) {
                    String key = t.id() + ":" + pool.value(t, k);
                    if (k % 2 == 0) {
                        keys.add(key);
                        cache.put(key, new Answer(pool.isBad(t, k) ? List.of(Fixtures.attribute(pool.value(t, k), 1))
                                : List.of(), Instant.now()));
                    } else {
                        missing.add(key);
                    }
                }
            }
            SplittableRandom r = new SplittableRandom(1);
            present = shuffled(keys, r);
            absent = shuffled(missing, r);
        }

        private static String[] shuffled(List<String> keys, SplittableRandom r) {
            String[] a = keys.toArray(String[]::new);
            for (int i = a.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                String t = a[i];
                a[i] = a[j];
                a[j] = t;
            }
            return a;
        }
    }

    /** The streaming pass over one alert (issue 16): the text checked, where each value lies noted, nothing decoded. */
    @Benchmark
    public Alert parse(AlertState s) {
        return AlertParser.parse(s.body);
    }

    /** The whole Jackson tree of one alert: what {@link #parse} cost before issue 16, now only for stored alerts. */
    @Benchmark
    public JsonNode parseTree(AlertState s) throws IOException {
        return Json.MAPPER.readTree(s.body);
    }

    /**
     * Parse and extraction on a fresh alert: the lazy parse moves the decoding of what the rules read into the
     * rules, so the two together are the step to compare with {@link #parseTree} plus {@link #extract}.
     */
    @Benchmark
    public RuleSet.ExtractionResult parseAndExtract(AlertState s) {
        return s.rules.extract(AlertParser.parse(s.body));
    }

    /** The extraction rules on a parsed alert, normalisation of what they found included (RuleSet.extract). */
    @Benchmark
    public RuleSet.ExtractionResult extract(AlertState s) {
        return s.rules.extract(s.alert);
    }

    /** The scoring rules on one fresh hit (RuleSet.score, a pooled session). */
    @Benchmark
    public Hit score(AlertState s) {
        Hit h = s.freshHit();
        s.rules.score(List.of(h));
        return h;
    }

    /** A 500-alert NDJSON batch split into its lines, on the bytes (per batch, not per alert). */
    @Benchmark
    public BatchIngest.Lines batchSplit(BatchState s) {
        return s.ingest.split(s.ndjson);
    }

    /** One alert's answer to {@code POST /v1/alerts}: scoring its hit, its event, written by the generator. */
    @Benchmark
    public Buffer answer(AlertState s) {
        return AlertAnswer.encoded(s.correlation(), false);
    }

    /** The same answer built as a JSON tree and then encoded, as before issue 16. */
    @Benchmark
    public Buffer answerTree(AlertState s) {
        return AlertAnswer.of(s.correlation(), false).toBuffer();
    }

    @Benchmark
    public List<Indicator> normalise(AlertState s) {
        return Normaliser.normaliseAll(s.candidates);
    }

    @Benchmark
    public JsonObject eventBuild(AlertState s) {
        return WazuhEvents.hit(s.alert, s.hit, s.ruleset);
    }

    /** The event as it goes on the wire (JSON text). */
    @Benchmark
    public String eventEncode(AlertState s) {
        return WazuhEvents.hit(s.alert, s.hit, s.ruleset).encode();
    }

    @Benchmark
    public Object cacheLookupHit(CacheState s) {
        String key = s.present[s.next++ % s.present.length];
        return s.cache.getIfPresent(key);
    }

    @Benchmark
    public Object cacheLookupMiss(CacheState s) {
        String key = s.absent[s.next++ % s.absent.length];
        return s.cache.getIfPresent(key);
    }

    /** Alerts and attributes from the bench's generator. */
    static final class Fixtures {
        private Fixtures() {
        }

        static Workload.Pool pool(int distinct) {
            Workload w = Workload.create(null, 0.5);
            return new Workload.Pool(0, w.poolSizes(distinct, 1), 0.05, 1);
        }

        static byte[] alert(String kind) {
            Workload w = Workload.create(null, 0.5);
            Workload.Pool pool = new Workload.Pool(0, w.poolSizes(10_000, 1), 0.05, 1);
            SplittableRandom r = new SplittableRandom(7);
            Workload.Picker picker = Workload.random(pool, r);
            for (int i = 0; i < 100_000; i++) {
                BenchAlert a = w.next(r, pool, picker);
                if (matches(kind, a)) {
                    return a.withId(1);
                }
            }
            throw new IllegalStateException("no " + kind + " alert in the mix");
        }

        private static boolean matches(String kind, BenchAlert a) {
            String text = a.text();
            return switch (kind) {
                case "sca" -> text.contains("\"groups\":[\"sca\"]");
                case "logon" -> a.kind() == Workload.Kind.LOGON;
                case "sysmon1" -> a.kind() == Workload.Kind.SYSMON1;
                default -> throw new IllegalArgumentException(kind);
            };
        }

        static MispAttribute attribute(String value, int threatLevel) {
            return new MispAttribute("1001", "5f1c0b1e-0000-4000-8000-000000001001", "25",
                    "5f1c0b1e-0000-4000-8000-000000000025", "Bench campaign 25", "ip-dst", "Network activity", value,
                    true, threatLevel, List.of("tlp:green"), Instant.now().getEpochSecond() - 86_400,
                    "http://127.0.0.1:8443");
        }
    }
}
