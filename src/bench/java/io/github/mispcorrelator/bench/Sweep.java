package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench --sweep}: curves instead of points (issue 16, item 7). Three series, one parameter varied at a time:
 * <ul>
 *   <li><b>bad share</b> (1 → 10 % of 10,000 distinct values known to MISP) and <b>distinct values</b> (1 k → 1 M at
 *       5 %), on one service: for each point a new value pool, a cold pass over all of it (every value new to the
 *       service, bounded by {@code --cold-seconds}), then warm batches drawing values at random from the whole
 *       pool;</li>
 *   <li><b>mirror size</b> (100 k → 5 M attributes), a service each: the local mirror's first pull from the fake
 *       MISP, then its heap after a full GC, then warm batches answered from the mirror.</li>
 * </ul>
 * Every point checks the planted hits as the bench does. Writes {@code sweep.csv}, {@code sweep.json},
 * {@code sweep.md} and the charts {@code sweep-*.png} ({@link SweepCharts}).
 */
final class Sweep {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern HEAP_USED = Pattern.compile("garbage-first heap\\s+total \\d+K, used (\\d+)K");
    private static final Duration READY = Duration.ofSeconds(180);
    private static final Duration MIRROR_LOAD = Duration.ofMinutes(20);
    /** Alerts made ahead of the cold pass's senders: seconds at the fastest rate, small beside the heap. */
    private static final int BUFFER = 20_000;
    /** The warm phases' ring at most: about 1.5 KB and 1.5 values an alert. */
    static final int WARM_RING = 100_000;
    /** Distinct values of the bad-share and mirror series' pools. */
    static final int SERIES_DISTINCT = 10_000;
    /** Bad share of the distinct-values and mirror series. */
    static final double SERIES_BAD_SHARE = 0.05;

    static final String BAD_SHARE = "bad-share";
    static final String DISTINCT = "distinct";
    static final String MIRROR = "mirror";

    /**
     * One point of a curve. Figures a series does not measure are NaN (null in JSON, empty in CSV): the mirror series
     * has no cold pass, the others no mirror.
     *
     * @param x                       the varied parameter: a share (0..1), a count of values or of attributes
     * @param coldValues              distinct values the cold pass sent (all of the pool unless its time bound hit)
     * @param coldMispPer100          MISP requests per 100 distinct values in the cold pass
     * @param warmMispPer1000         MISP requests per 1,000 alerts in the warm phase (cache or mirror misses)
     * @param jvmMicros               service JVM CPU per alert in the warm phase
     * @param postgresMicros          PostgreSQL CPU per alert in the warm phase
     * @param readySeconds            mirror series: start until {@code /health/ready}
     * @param mirrorLoadSeconds       mirror series: ready until the mirror's first copy is held
     * @param heapMib                 mirror series: heap used after a full GC, mirror loaded
     * @param otherCores              the busiest other processes' CPU during the warm phase (disturbance)
     */
    record Point(String series, double x, double coldAlertsPerSecond, long coldValues, double coldMispPer100,
                 double warmAlertsPerSecond, double warmP99Ms, double warmMispPer1000, double jvmMicros,
                 double postgresMicros, double readySeconds, double mirrorLoadSeconds, long mirrorAttributes,
                 double heapMib, long missedHits, long failedAlerts, double otherCores) {
        boolean passed() {
            return missedHits == 0 && failedAlerts == 0;
        }
    }

    static final List<String> CSV_COLUMNS = List.of("series", "x", "cold_alerts_per_s", "cold_values",
            "cold_misp_requests_per_100_values", "warm_alerts_per_s", "warm_batch_p99_ms",
            "warm_misp_requests_per_1000_alerts", "jvm_us_per_alert", "postgres_us_per_alert", "ready_s",
            "mirror_load_s", "mirror_attributes", "heap_mib", "missed_hits", "failed_alerts", "other_cores");

    private final BenchOptions o;
    private final Path jar;
    private final PrintStream out;
    private final Workload workload;
    private final double valuesPerAlert;
    private final Workload.Pool warmupPool;
    private final List<BenchAlert> warmupRing;
    private final List<Point> points = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();

    private Sweep(BenchOptions o, Path jar, PrintStream out) {
        this.o = o;
        this.jar = jar;
        this.out = out;
        this.workload = Workload.create(o.corpus, o.generatedShare);
        this.valuesPerAlert = workload.valuesPerAlert(o.seed);
        this.warmupPool = new Workload.Pool(1, workload.poolSizes(2_000, o.seed), SERIES_BAD_SHARE, o.seed);
        SplittableRandom random = new SplittableRandom(o.seed);
        List<BenchAlert> ring = new ArrayList<>();
        Workload.Picker picker = Workload.random(warmupPool, random.split());
        SplittableRandom fill = random.split();
        for (int i = 0; i < Math.min(o.ringSize, 5_000); i++) {
            ring.add(workload.next(fill, warmupPool, picker));
        }
        this.warmupRing = ring;
    }

    /** @return 0 when every point found every planted hit, 1 otherwise */
    static int run(BenchOptions o, Path jar, PrintStream out) throws Exception {
        // the charts are drawn off-screen: whether a DISPLAY is set must not matter
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(o.out);
        Sweep sweep = new Sweep(o, jar, out);
        String machine = ProcStats.machineDescription();
        Instant started = Instant.now();
        out.println("misp-correlator bench --sweep on " + machine);
        out.printf(Locale.ROOT, "workload: %s; %.2f values an alert; bad share %s, distinct values %s, mirror sizes %s%n",
                sweep.workload.corpusSource(), sweep.valuesPerAlert, o.sweepBadShare, o.sweepDistinct, o.sweepMirror);
        Path work = Files.createTempDirectory("misp-sweep-");
        try {
            sweep.poolSeries(work.resolve("pools"));
            for (long size : o.sweepMirror) {
                sweep.mirrorPoint(size, work.resolve("mirror-" + size));
            }
        } finally {
            BenchCommand.deleteTree(work);
        }
        Duration took = Duration.between(started, Instant.now());
        sweep.write(machine, started, took);
        out.printf(Locale.ROOT, "sweep done in %d min %02d s: %s/sweep.{csv,json,md}, sweep-*.png%n", took.toMinutes(),
                took.toSecondsPart(), o.out);
        sweep.problems.forEach(p -> out.println("  ! " + p));
        return sweep.problems.isEmpty() ? 0 : 1;
    }

    /** Bad share then distinct values, on one service: the cache grows point by point, never shrinks to a pool. */
    private void poolSeries(Path work) throws Exception {
        // bad-share first: its 10,000-value pools are in the cache before the million-value pool could crowd them
        Map<Workload.Pool, String> pools = new LinkedHashMap<>();
        int namespace = 10;
        for (double share : o.sweepBadShare) {
            pools.put(new Workload.Pool(namespace++, workload.poolSizes(seriesDistinct(), o.seed), share, o.seed),
                    BAD_SHARE);
        }
        for (int distinct : o.sweepDistinct) {
            pools.put(new Workload.Pool(namespace++, workload.poolSizes(distinct, o.seed), SERIES_BAD_SHARE, o.seed),
                    DISTINCT);
        }
        if (pools.isEmpty()) {
            return;
        }
        List<Workload.Pool> all = new ArrayList<>(pools.keySet());
        all.add(warmupPool);
        try (FakeMispServer misp = new FakeMispServer(o.mispLatencyMs, all)) {
            out.println("starting the service for the bad-share and distinct-values series …");
            try (ServiceProcess service = ServiceProcess.start(jar, o.drl, misp.url(), work, o.out, o.serviceHeap,
                    o.serviceJvmOptions, o.serviceEnv, READY);
                 LoadRunner load = new LoadRunner(service.port(), o.out)) {
                warmUp(load, o.warmupTime);
                for (Map.Entry<Workload.Pool, String> e : pools.entrySet()) {
                    if (!service.alive()) {
                        problems.add("the service died:\n" + service.tail(20));
                        return;
                    }
                    Workload.Pool pool = e.getKey();
                    double x = e.getValue().equals(BAD_SHARE) ? pool.badShare : pool.total();
                    points.add(poolPoint(e.getValue(), x, pool, misp, service, load));
                }
            }
        }
    }

    private int seriesDistinct() {
        return o.sweepQuick ? 1_500 : SERIES_DISTINCT;
    }

    /** A cold pass over a new pool, then warm batches at random over all of it. */
    private Point poolPoint(String series, double x, Workload.Pool pool, FakeMispServer misp, ServiceProcess service,
                            LoadRunner load) throws Exception {
        out.printf(Locale.ROOT, "%s %s: %,d distinct values, %.1f %% bad …%n", series, label(series, x), pool.total(),
                pool.badShare * 100);
        long coldAlerts = Math.min(o.maxAlerts, (long) Math.ceil(pool.total() / valuesPerAlert * 1.02));
        SplittableRandom coldRandom = new SplittableRandom(o.seed + 1);
        Workload.Picker sequential = Workload.sequential(pool);
        FakeMispServer.Counters before = misp.counters();
        LoadRunner.PhaseRun cold;
        try (LoadRunner.Produced source = LoadRunner.produced(() -> workload.next(coldRandom, pool, sequential),
                coldAlerts, BUFFER)) {
            cold = load.batch(series + "-cold", source, o.batchSize, o.batchConcurrency, o.coldTime, coldAlerts);
        }
        FakeMispServer.Counters coldMisp = misp.counters().minus(before);
        report(cold, coldMisp);
        // a pass cut short by its time bound covered the first part of each type's values: warm draws from that part
        double covered = Math.min(1.0, (double) coldMisp.distinctValues() / pool.total());
        Warm warm = warm(series, pool, covered, misp, service, load);
        return new Point(series, x, cold.alertsPerSecond(), coldMisp.distinctValues(),
                per(coldMisp.requests(), coldMisp.distinctValues(), 100), warm.run.alertsPerSecond(),
                warm.run.latency().p99(), per(warm.misp.requests(), warm.run.alerts(), 1_000),
                per(warm.usage.jvmCpuSeconds() * 1e6, warm.run.alerts(), 1), per(warm.usage.postgresCpuSeconds() * 1e6,
                warm.run.alerts(), 1), Double.NaN, Double.NaN, 0, Double.NaN,
                missed(cold) + missed(warm.run), failed(cold) + failed(warm.run), warm.otherCores);
    }

    /** The mirror series' point: a service of its own whose mirror pulls {@code size} attributes first. */
    private void mirrorPoint(long size, Path work) throws Exception {
        Workload.Pool pool = new Workload.Pool(40, workload.poolSizes(seriesDistinct(), o.seed), SERIES_BAD_SHARE,
                o.seed);
        try (FakeMispServer misp = new FakeMispServer(o.mispLatencyMs, List.of(warmupPool, pool), size)) {
            out.printf(Locale.ROOT, "mirror %s: a service pulling %,d attributes (-Xmx%s) …%n", label(MIRROR, size),
                    misp.mirrorAttributes(), o.sweepMirrorHeap);
            Map<String, String> env = new LinkedHashMap<>(o.serviceEnv);
            env.put("CORRELATOR_MISP_MIRROR", "true");
            // the fake MISP has no warning lists to pull; the planted values are on none
            env.put("CORRELATOR_MISP_ENFORCE_WARNINGLIST", "false");
            long t0 = System.nanoTime();
            try (ServiceProcess service = ServiceProcess.start(jar, o.drl, misp.url(), work, o.out, o.sweepMirrorHeap,
                    o.serviceJvmOptions, env, READY);
                 LoadRunner load = new LoadRunner(service.port(), o.out)) {
                double ready = (System.nanoTime() - t0) / 1e9;
                long held = awaitMirror(service);
                double loaded = (System.nanoTime() - t0) / 1e9 - ready;
                double heap = heapAfterGc(service);
                out.printf(Locale.ROOT, "  ready after %.1f s, %,d attributes held %.1f s later; heap after a full GC "
                        + "%.0f MiB%n", ready, held, loaded, heap);
                if (held < misp.mirrorAttributes()) {
                    problems.add("mirror " + size + ": " + held + " attributes held of " + misp.mirrorAttributes());
                }
                warmUp(load, o.warmupTime);
                Warm warm = warm(MIRROR, pool, 1.0, misp, service, load);
                points.add(new Point(MIRROR, size, Double.NaN, 0, Double.NaN, warm.run.alertsPerSecond(),
                        warm.run.latency().p99(), per(warm.misp.requests(), warm.run.alerts(), 1_000),
                        per(warm.usage.jvmCpuSeconds() * 1e6, warm.run.alerts(), 1),
                        per(warm.usage.postgresCpuSeconds() * 1e6, warm.run.alerts(), 1), ready, loaded, held, heap,
                        missed(warm.run), failed(warm.run), warm.otherCores));
                if (!service.alive()) {
                    problems.add("mirror " + size + ": the service died:\n" + service.tail(20));
                }
            }
        }
    }

    private record Warm(LoadRunner.PhaseRun run, FakeMispServer.Counters misp, ServiceProcess.Usage usage,
                        double otherCores) {
    }

    /**
     * Warm batches from a ring of alerts drawn at random from the values the cold pass covered (all of them unless
     * its time bound cut it short; the mirror holds all), made before the clock starts: a generator thread would take
     * a core from the service. The ring holds at most {@link #WARM_RING} alerts, so a larger pool's warm phase
     * touches a random subset of its values.
     *
     * @param covered the share of each type's values, from its first, that the service has seen
     */
    private Warm warm(String series, Workload.Pool pool, double covered, FakeMispServer misp, ServiceProcess service,
                      LoadRunner load) throws Exception {
        SplittableRandom random = new SplittableRandom(o.seed + 2);
        SplittableRandom draws = random.split();
        Workload.Picker picker = t -> draws.nextInt(Math.max(1, (int) Math.floor(pool.size(t) * covered)));
        int size = (int) Math.min(WARM_RING, Math.max(o.ringSize, Math.ceil(pool.total() / valuesPerAlert)));
        List<BenchAlert> ring = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            ring.add(workload.next(random, pool, picker));
        }
        LoadRunner.Source source = LoadRunner.ring(ring);
        FakeMispServer.Counters before = misp.counters();
        Map<Long, ProcStats.ProcCpu> everyone = ProcStats.allProcesses();
        ServiceProcess.Mark mark = service.mark();
        LoadRunner.PhaseRun run = load.batch(series + "-warm", source, o.batchSize, o.batchConcurrency,
                o.phaseTime, o.maxAlerts);
        ServiceProcess.Usage usage = service.since(mark);
        FakeMispServer.Counters used = misp.counters().minus(before);
        double others = BenchCommand.otherCores(everyone, ProcStats.allProcesses(), service, usage.seconds());
        report(run, used);
        return new Warm(run, used, usage, others);
    }

    private void warmUp(LoadRunner load, Duration time) throws InterruptedException {
        out.println("  JIT warm-up " + time.toSeconds() + " s on its own values …");
        LoadRunner.PhaseRun run = load.batch("sweep-warmup", LoadRunner.ring(warmupRing), o.batchSize,
                o.batchConcurrency, time, o.maxAlerts);
        if (!run.outcome().passed()) {
            problems.add("warm-up: " + run.outcome().problems());
        }
    }

    private void report(LoadRunner.PhaseRun run, FakeMispServer.Counters misp) {
        out.printf(Locale.ROOT, "  %s: %,d alerts in %.1f s = %,.0f alerts/s; batch p99 %.1f ms; MISP %,d requests "
                        + "for %,d distinct values; hits %d/%d%n", run.name(), run.alerts(), run.seconds(),
                run.alertsPerSecond(), run.latency().p99(), misp.requests(), misp.distinctValues(),
                run.outcome().foundHits.sum(), run.outcome().expectedHits.sum());
        if (!run.outcome().passed()) {
            problems.add(run.name() + ": " + String.join("; ", run.outcome().problems()));
        }
    }

    /** Polls {@code GET /v1/misp/status} until the mirror holds its first complete copy; its attribute count. */
    private static long awaitMirror(ServiceProcess service) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + MIRROR_LOAD.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!service.alive()) {
                throw new IllegalStateException("the service died while its mirror loaded:\n" + service.tail(30));
            }
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(service.baseUrl()
                        + "/v1/misp/status")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200) {
                    var instance = MAPPER.readTree(r.body()).path("instances").path(0);
                    if (instance.path("loaded").asBoolean(false)) {
                        return instance.path("attributes").asLong();
                    }
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the mirror did not load within " + MIRROR_LOAD.toMinutes() + " min (last: "
                + last + ")");
    }

    /** Heap used after a full collection (G1), in MiB, as {@code jcmd GC.heap_info} reports it. */
    private static double heapAfterGc(ServiceProcess service) throws IOException, InterruptedException {
        service.jcmd("GC.run");
        Matcher m = HEAP_USED.matcher(service.jcmd("GC.heap_info"));
        return m.find() ? Long.parseLong(m.group(1)) / 1024.0 : Double.NaN;
    }

    private static long missed(LoadRunner.PhaseRun run) {
        return run.outcome().missedHits.sum() + run.outcome().unexpectedHits.sum();
    }

    private static long failed(LoadRunner.PhaseRun run) {
        return run.outcome().failedAlerts.sum() + run.outcome().uncheckedValues.sum();
    }

    private static double per(double amount, double of, double unit) {
        return of > 0 ? amount / of * unit : Double.NaN;
    }

    static String label(String series, double x) {
        return switch (series) {
            case BAD_SHARE -> String.format(Locale.ROOT, "%.0f %%", x * 100);
            default -> x >= 1_000_000 ? String.format(Locale.ROOT, "%.3g M", x / 1e6).replace(".00 ", " ")
                    : x >= 1_000 ? String.format(Locale.ROOT, "%.3g k", x / 1e3) : String.format(Locale.ROOT, "%.0f", x);
        };
    }

    // ---- results --------------------------------------------------------------------------------------------

    private void write(String machine, Instant started, Duration took) throws IOException {
        StringBuilder csv = new StringBuilder(String.join(",", CSV_COLUMNS)).append('\n');
        ArrayNode json = MAPPER.createArrayNode();
        for (Point p : points) {
            List<Object> values = values(p);
            ObjectNode row = json.addObject();
            for (int i = 0; i < CSV_COLUMNS.size(); i++) {
                Object v = values.get(i);
                csv.append(i == 0 ? "" : ",").append(v instanceof Double d ? (d.isNaN() ? "" : fmt(d)) : v);
                if (v instanceof Double d) {
                    if (d.isNaN()) {
                        row.putNull(CSV_COLUMNS.get(i));
                    } else {
                        row.put(CSV_COLUMNS.get(i), d);
                    }
                } else if (v instanceof Long l) {
                    row.put(CSV_COLUMNS.get(i), l);
                } else {
                    row.put(CSV_COLUMNS.get(i), String.valueOf(v));
                }
            }
            csv.append('\n');
        }
        Files.writeString(o.out.resolve("sweep.csv"), csv);
        ObjectNode doc = MAPPER.createObjectNode();
        doc.put("machine", machine).put("started", started.toString()).put("seconds", took.toSeconds())
                .put("quick", o.sweepQuick).put("passed", problems.isEmpty());
        doc.putPOJO("problems", problems);
        doc.set("points", json);
        MAPPER.writeValue(o.out.resolve("sweep.json").toFile(), doc);
        Files.writeString(o.out.resolve("sweep.md"), markdown(machine, started, took));
        for (Path chart : SweepCharts.write(points, o.out, machine)) {
            out.println("  chart " + chart);
        }
    }

    private static List<Object> values(Point p) {
        return List.of(p.series(), p.x(), p.coldAlertsPerSecond(), p.coldValues(), p.coldMispPer100(),
                p.warmAlertsPerSecond(), p.warmP99Ms(), p.warmMispPer1000(), p.jvmMicros(), p.postgresMicros(),
                p.readySeconds(), p.mirrorLoadSeconds(), p.mirrorAttributes(), p.heapMib(), p.missedHits(),
                p.failedAlerts(), p.otherCores());
    }

    private String markdown(String machine, Instant started, Duration took) {
        StringBuilder md = new StringBuilder("# misp-correlator bench --sweep\n\n");
        md.append("- **Verdict:** ").append(problems.isEmpty() ? "PASS — every planted bad indicator was found"
                : "FAIL — " + String.join("; ", problems)).append('\n');
        md.append("- **Machine:** ").append(machine).append('\n');
        md.append("- **Run:** ").append(started).append(", ").append(took.toMinutes()).append(" min ")
                .append(took.toSecondsPart()).append(" s").append(o.sweepQuick ? " (--sweep-quick)" : "").append('\n');
        md.append(String.format(Locale.ROOT, "- **Load:** batches of %d alerts, %d in flight; cold pass ≤ %d s, warm "
                        + "phase %d s, JIT warm-up %d s; fake MISP latency %d ms; service -Xmx%s (mirror series -Xmx%s)%n%n",
                o.batchSize, o.batchConcurrency, o.coldTime.toSeconds(), o.phaseTime.toSeconds(),
                o.warmupTime.toSeconds(), o.mispLatencyMs, o.serviceHeap, o.sweepMirrorHeap));
        md.append("| series | x | cold alerts/s | cold MISP req./100 values | warm alerts/s | warm MISP req./1000 alerts "
                + "| JVM µs/alert | PostgreSQL µs/alert | mirror load s | heap MiB | other cores | hits |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Point p : points) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    p.series(), label(p.series(), p.x()), cell(p.coldAlertsPerSecond(), 0), cell(p.coldMispPer100(), 2),
                    cell(p.warmAlertsPerSecond(), 0), cell(p.warmMispPer1000(), 2), cell(p.jvmMicros(), 1),
                    cell(p.postgresMicros(), 1), cell(p.mirrorLoadSeconds(), 1), cell(p.heapMib(), 0),
                    cell(p.otherCores(), 2), p.passed() ? "all found" : "**" + p.missedHits() + " wrong, "
                            + p.failedAlerts() + " failed**"));
        }
        return md.toString();
    }

    private static String cell(double v, int decimals) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : String.format(Locale.ROOT, "%.4f", d);
    }
}
