package io.github.mispcorrelator.bench;

import io.github.mispcorrelator.cli.Cli;
import io.github.mispcorrelator.config.Version;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleSetLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code java -jar misp-correlator-bench.jar}: the rerunnable benchmark of issue 7. In one run: the workload, a fake
 * MISP, baseline (a) in this process, baseline (b) with the old script, then the service started as its own JVM and
 * driven through a JIT warm-up, a cold-cache batch pass over every distinct value, warm batches, warm single alerts
 * and a paced latency phase. Results go to {@code results.json} and {@code results.md}.
 */
@Command(name = "misp-correlator-bench", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "Starts a fake MISP and the service (java -jar, its own JVM), replays a realistic alert mix "
                + "over HTTP, measures the two baselines in the same run, and writes target/bench/results.{json,md}. "
                + "Only 127.0.0.1 is addressed; every phase is bounded in time and in alerts.",
        footer = {"Exit status: 1 when any planted bad indicator was not found (or an alert failed), 2 a wrong "
                + "command line or no service jar, 0 otherwise; targets missed are reported, not fatal.", "",
                "Quick run (about 2.5 minutes on 2 cores):  java -jar target/misp-correlator-bench.jar",
                "Long run (about 8 minutes):  ... --distinct 1000000 --bad-share 0.01 --warmup-seconds 120",
                "    --phase-seconds 60 --cold-seconds 300 --max-alerts 3000000 --ring 50000 --old-way-sample 200",
                "Through Kafka, 1, 2 and 3 instances:  ... --kafka [--records N] [--instances 1,2,3] (--kafka --help)",
                "Curves (15-20 minutes on 2 cores):  ... --sweep   (sweep.{csv,json,md} and sweep-*.png; --sweep-quick: tiny)",
                "Paced p99 at 1,000/s five times in a row:  ... --phases warmup,warm-latency --paced-runs 5 --no-old-way"})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    private BenchOptions options;
    @Spec
    private CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    public BenchCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** {@code java -jar target/misp-correlator-bench.jar [options]}; the service jar is on its class path. */
    public static void main(String[] args) {
        // System.exit: Vert.x's threads must not keep a finished (or broken) run alive
        System.exit(new BenchCommand(System.out, System.err).run(List.of(args)));
    }

    /** One measured phase with what the service, MISP and the load generator spent on it. */
    record PhaseResult(LoadRunner.PhaseRun run, ServiceProcess.Usage usage, FakeMispServer.Counters misp,
                       double loadgenCpuSeconds, Map<String, Double> profile, List<String> otherProcesses) {
        PhaseResult withUsage(ServiceProcess.Usage u) {
            return new PhaseResult(run, u, misp, loadgenCpuSeconds, profile, otherProcesses);
        }
    }

    /** @return 0 when every planted hit was found, 1 when not (or the run broke), 2 for a wrong command line */
    public int run(List<String> args) {
        if (args.contains("--kafka")) {
            // its own options and workload (a broker, 1/2/3 instances): not the HTTP phases of this command
            return KafkaBench.run(args.toArray(String[]::new), out);
        }
        return Cli.run(this, args, out, err);
    }

    @Override
    public Integer call() {
        options.check(spec);
        try {
            return bench(options);
        } catch (Exception | Error e) {
            // an Error too: the caller exits, so Vert.x's threads cannot keep a broken run alive
            err.println("bench failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private int bench(BenchOptions o) throws Exception {
        Path jar = o.jar != null ? o.jar : ownJar();
        if (jar == null || !Files.isRegularFile(jar)) {
            err.println("no service jar: build it (mvn -B -q package -DskipTests) or pass --jar FILE");
            return 2;
        }
        if (!Files.isDirectory(o.drl)) {
            err.println("no DRL directory " + o.drl.toAbsolutePath() + ": run from the project directory or pass --drl DIR");
            return 2;
        }
        if (o.sweep) {
            return Sweep.run(o, jar, out);
        }
        Files.createDirectories(o.out);
        Path work = Files.createTempDirectory("misp-bench-");
        Instant started = Instant.now();
        String machine = ProcStats.machineDescription();
        out.println("misp-correlator bench on " + machine);

        // ---- the workload ------------------------------------------------------------------------------------
        Workload workload = Workload.create(o.corpus, o.generatedShare);
        Workload.Pool pool = new Workload.Pool(0, workload.poolSizes(o.distinct, o.seed), o.badShare, o.seed);
        Workload.Pool warmupPool = new Workload.Pool(1, workload.poolSizes(Math.min(2_000, o.distinct), o.seed),
                o.badShare, o.seed);
        SplittableRandom random = new SplittableRandom(o.seed);
        List<BenchAlert> ring = generate(workload, pool, Workload.random(pool, random.split()), random.split(), o.ringSize);
        List<BenchAlert> warmupRing = generate(workload, warmupPool, Workload.random(warmupPool, random.split()),
                random.split(), Math.min(o.ringSize, 5_000));
        double valuesPerAlert = workload.valuesPerAlert(o.seed);
        long coldAlerts = Math.min(o.maxAlerts, (long) Math.ceil(pool.total() / valuesPerAlert * 1.02));
        out.printf(Locale.ROOT, "workload: %s; pool %,d distinct values %s, %.1f %% known to MISP; %.2f values an alert%n",
                workload.corpusSource(), pool.total(), pool.sizes, o.badShare * 100, valuesPerAlert);

        List<PhaseResult> phases = new ArrayList<>();
        List<InProcessLimit.Result> limit = List.of();
        OldWay.Result oldWay = null;
        String oldWayNote = null;
        ServiceProcess.Heap heapOverall = null;
        long rssHighWater = 0;
        List<String> mispRepeated = List.of();
        boolean serviceSurvived = true;
        String serviceProblem = null;
        try (FakeMispServer misp = new FakeMispServer(o.mispLatencyMs, List.of(pool, warmupPool))) {
            out.printf(Locale.ROOT, "fake MISP at %s, %d ms latency, %,d bad values%n", misp.url(), o.mispLatencyMs,
                    misp.badValues());
            if (o.lookbackCompare > 0) {
                return LookBackCompare.run(o, jar, work, misp, ring, out);
            }

            // ---- baseline (a): parse + rules in this process, the machine's limit --------------------------------
            if (o.limit) {
                out.println("baseline (a): parsing and extraction rules in-process …");
                RuleSet rules = RuleSetLoader.load(o.drl);
                try {
                    int cores = Runtime.getRuntime().availableProcessors();
                    limit = InProcessLimit.run(rules, ring, cores > 1 ? new int[]{1, cores} : new int[]{1},
                            o.limitTime, o.limitTime);
                } finally {
                    rules.dispose();
                }
                for (InProcessLimit.Result r : limit) {
                    out.printf(Locale.ROOT, "  %d thread(s): %,.0f alerts/s; planted values extracted %d/%d, bad %d/%d;"
                                    + " other processes %.2f cores%n", r.threads(), r.alertsPerSecond(),
                            r.plantedExtracted(), r.plantedValues(), r.badExtracted(), r.badValues(), r.otherCores());
                }
            }

            // ---- baseline (b): the old script, one process per alert -------------------------------------------
            if (o.oldWay && o.oldWaySample > 0) {
                String python = OldWay.python();
                if (python != null) {
                    out.println("baseline (b): the old custom-misp.py, one " + python + " process per alert …");
                    oldWay = OldWay.run(python, ring, o.oldWaySample, misp, work.resolve("oldway"),
                            Duration.ofSeconds(120));
                    out.printf(Locale.ROOT, "  %d alerts in %.1f s: %.1f alerts/s, p50 %.1f ms; found %d of %d bad values%n",
                            oldWay.alerts(), oldWay.seconds(), oldWay.alertsPerSecond(), oldWay.latency().p50(),
                            oldWay.badFound(), oldWay.badValues());
                } else {
                    oldWayNote = "skipped: no python3 on this machine";
                    out.println("baseline (b) " + oldWayNote);
                }
            }

            // ---- the service under test ---------------------------------------------------------------------------
            out.println("starting the service (" + jar + ", -Xmx" + o.serviceHeap + ") …");
            List<String> jvmOptions = new ArrayList<>(o.serviceJvmOptions);
            if (!o.jfrPhases.isEmpty()) {
                // recording from the start: enabling JFR later retransforms JDK classes and sends the JIT back to work
                jvmOptions.add("-XX:StartFlightRecording=name=bench,settings=profile,maxsize=2g");
            }
            try (ServiceProcess service = ServiceProcess.start(jar, o.drl, misp.url(), work, o.out, o.serviceHeap,
                    jvmOptions, o.serviceEnv, Duration.ofSeconds(180));
                 LoadRunner load = new LoadRunner(service.port(), o.out)) {
                out.println("  ready on " + service.baseUrl() + " (pid " + service.pid() + ", PostgreSQL pid "
                        + service.postmasterPid() + ")");
                double singleRate = 0;
                for (String phase : BenchOptions.PHASES) {
                    if (!o.phases.contains(phase)) {
                        continue;
                    }
                    List<Step> steps = new ArrayList<>();
                    switch (phase) {
                        case "warmup" -> {
                            // JIT warm-up on its own value pool: the measured pool's values stay unseen (cold)
                            Duration half = o.warmupTime.dividedBy(2);
                            steps.add(new Step("warmup-batch", () -> load.batch("warmup-batch",
                                    LoadRunner.ring(warmupRing), o.batchSize, o.batchConcurrency, half, o.maxAlerts)));
                            steps.add(new Step("warmup-single", () -> load.single("warmup-single",
                                    LoadRunner.ring(warmupRing), o.connections, half, o.maxAlerts)));
                        }
                        case "cold-batch" -> steps.add(new Step(phase, () -> {
                            // one pass over the pool: every distinct value is new to the service
                            SplittableRandom coldRandom = new SplittableRandom(o.seed + 1);
                            Workload.Picker picker = Workload.sequential(pool);
                            LoadRunner.Source source = LoadRunner.produced(
                                    () -> workload.next(coldRandom, pool, picker), coldAlerts, 50_000);
                            return load.batch(phase, source, o.batchSize, o.batchConcurrency, o.coldTime, coldAlerts);
                        }));
                        case "warm-batch" -> steps.add(new Step(phase, () -> load.batch(phase, LoadRunner.ring(ring),
                                o.batchSize, o.batchConcurrency, o.phaseTime, o.maxAlerts)));
                        case "warm-single" -> steps.add(new Step(phase, () -> load.single(phase, LoadRunner.ring(ring),
                                o.connections, o.phaseTime, o.maxAlerts)));
                        case "warm-latency" -> {
                            // below saturation: half the closed-loop single-alert rate at most
                            double rate = Math.max(1, singleRate > 0 ? Math.min(o.pacedRate, singleRate / 2) : o.pacedRate);
                            // consecutive runs, each its own figure: one run's p99 says little about the next
                            for (int run = 1; run <= o.pacedRuns; run++) {
                                String name = o.pacedRuns == 1 ? phase : phase + "-" + run;
                                steps.add(new Step(name, () -> load.paced(name, LoadRunner.ring(ring), o.connections,
                                        rate, o.pacedTime)));
                            }
                        }
                        default -> throw new IllegalStateException(phase);
                    }
                    for (Step step : steps) {
                        if (!service.alive()) {
                            serviceSurvived = false;
                            serviceProblem = "the service died before " + step.name() + ":\n" + service.tail(20);
                            break;
                        }
                        out.println("phase " + step.name() + " …");
                        PhaseResult result = measure(step, service, misp, o.jfrPhases.contains(phase), o.out);
                        phases.add(result);
                        if (step.name().equals("warm-single")) {
                            singleRate = result.run().alertsPerSecond();
                        }
                        out.println("  " + Report.oneLine(result));
                        result.run().outcome().problems().forEach(p -> out.println("    ! " + p));
                    }
                }
                if (o.holdSeconds > 0) {
                    out.println("holding the service at " + service.baseUrl() + " (fake MISP " + misp.url() + ") for "
                            + o.holdSeconds + " s …");
                    Thread.sleep(o.holdSeconds * 1000L);
                }
                mispRepeated = misp.repeatedSample();
                rssHighWater = service.rssHighWaterMib();
                if (!service.alive()) {
                    serviceSurvived = false;
                    serviceProblem = "the service died during the run:\n" + service.tail(20);
                }
                service.close(); // its GC log is complete once it has stopped
                heapOverall = service.heapOverall();
                phases.replaceAll(p -> p.withUsage(p.usage().withHeap(
                        service.heapBetween(p.usage().from(), p.usage().to()))));
            }
            if (o.compareDrl != null && serviceSurvived) {
                phases.addAll(compare(o, jar, misp, work, warmupRing, ring));
            }
        } finally {
            deleteTree(work);
        }

        Report report = new Report(o, machine, started, workload.corpusSource(), pool, valuesPerAlert, limit, oldWay,
                oldWayNote, phases, heapOverall, rssHighWater, serviceSurvived, serviceProblem, mispRepeated);
        Files.writeString(o.out.resolve("results.json"), report.json());
        String md = report.markdown();
        Files.writeString(o.out.resolve("results.md"), md);
        out.println();
        out.println(md);
        out.println("results: " + o.out.resolve("results.json") + ", " + o.out.resolve("results.md"));
        out.println(report.passed() ? "PASS: every planted bad indicator was found"
                : "FAIL: " + report.failureReason());
        return report.passed() ? 0 : 1;
    }

    /**
     * {@code --compare-drl}: the same warm-batch phase on a second service running other rules, after a short JIT
     * warm-up and one pass over the ring (so its cache holds the ring's values, as the first service's did).
     */
    private List<PhaseResult> compare(BenchOptions o, Path jar, FakeMispServer misp, Path work, List<BenchAlert> warmupRing,
                                      List<BenchAlert> ring) throws Exception {
        Path outDir = o.out.resolve("compare");
        Files.createDirectories(outDir);
        out.println("comparison: a second service on " + o.compareDrl + " …");
        try (ServiceProcess other = ServiceProcess.start(jar, o.compareDrl, misp.url(), work.resolve("compare"), outDir,
                o.serviceHeap, o.serviceJvmOptions, o.serviceEnv, Duration.ofSeconds(180));
             LoadRunner load = new LoadRunner(other.port(), outDir)) {
            load.batch("compare-warmup", LoadRunner.ring(warmupRing), o.batchSize, o.batchConcurrency,
                    o.warmupTime.dividedBy(2), o.maxAlerts);
            load.batch("compare-prime", LoadRunner.ring(ring), o.batchSize, o.batchConcurrency, o.phaseTime, ring.size());
            PhaseResult result = measure(new Step("warm-batch-compare", () -> load.batch("warm-batch-compare",
                    LoadRunner.ring(ring), o.batchSize, o.batchConcurrency, o.phaseTime, o.maxAlerts)), other, misp,
                    false, outDir);
            out.println("  " + Report.oneLine(result) + "  (rules: " + o.compareDrl + ")");
            return List.of(result);
        }
    }

    /** A measured stretch of load. */
    private record Step(String name, Callable<LoadRunner.PhaseRun> load) {
    }

    /** Runs one step and takes what the service, the fake MISP and this process spent on it; JFR around it if asked. */
    private static PhaseResult measure(Step step, ServiceProcess service, FakeMispServer misp, boolean jfr, Path outDir)
            throws Exception {
        Path recording = outDir.resolve("profile-" + step.name() + ".jfr").toAbsolutePath();
        LocalDateTime begin = LocalDateTime.now();
        Instant from = Instant.now();
        ServiceProcess.Mark mark = service.mark();
        misp.resetMaxima();
        FakeMispServer.Counters before = misp.counters();
        double loadCpu = ProcStats.cpuSeconds(ProcessHandle.current().pid());
        Map<Long, ProcStats.ProcCpu> everyoneBefore = ProcStats.allProcesses();
        LoadRunner.PhaseRun run = step.load().call();
        double loadgen = ProcStats.cpuSeconds(ProcessHandle.current().pid()) - loadCpu;
        ServiceProcess.Usage usage = service.since(mark);
        List<String> others = otherProcesses(everyoneBefore, ProcStats.allProcesses(), service, usage.seconds());
        FakeMispServer.Counters used = misp.counters().minus(before);
        Map<String, Double> profile = Map.of();
        if (jfr) {
            // the phase's stretch of the recording that runs since the service started
            Instant to = Instant.now();
            service.jcmd("JFR.dump", "name=bench", "begin=" + begin, "end=" + LocalDateTime.now(),
                    "filename=" + recording);
            Files.writeString(outDir.resolve("profile-" + step.name() + ".md"),
                    JfrSummary.summarise(recording, step.name(), from, to));
            profile = JfrSummary.topComponents(recording, 12, from, to);
        }
        return new PhaseResult(run, usage, used, loadgen, profile, others);
    }

    /** The busiest processes that are neither the service, its PostgreSQL nor this bench: the run's disturbance. */
    private static List<String> otherProcesses(Map<Long, ProcStats.ProcCpu> before, Map<Long, ProcStats.ProcCpu> after,
                                               ServiceProcess service, double seconds) {
        List<Map.Entry<String, Double>> busy = busyOthers(before, after, service, seconds);
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Double> e : busy.subList(0, Math.min(4, busy.size()))) {
            out.add(String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()));
        }
        return out;
    }

    /** The cores the other processes (see {@link #otherProcesses}) used together. */
    static double otherCores(Map<Long, ProcStats.ProcCpu> before, Map<Long, ProcStats.ProcCpu> after,
                             ServiceProcess service, double seconds) {
        return busyOthers(before, after, service, seconds).stream().mapToDouble(Map.Entry::getValue).sum();
    }

    private static List<Map.Entry<String, Double>> busyOthers(Map<Long, ProcStats.ProcCpu> before,
                                                              Map<Long, ProcStats.ProcCpu> after,
                                                              ServiceProcess service, double seconds) {
        long self = ProcessHandle.current().pid();
        long postmaster = service.postmasterPid();
        List<Map.Entry<String, Double>> busy = new ArrayList<>();
        after.forEach((pid, now) -> {
            if (pid == self || pid == service.pid() || pid == postmaster || now.parent() == postmaster
                    || now.parent() == self || seconds <= 0) {
                return;
            }
            ProcStats.ProcCpu then = before.get(pid);
            double cores = (now.cpu() - (then == null ? 0 : then.cpu())) / seconds;
            if (cores >= 0.05) {
                busy.add(Map.entry(now.name() + " (pid " + pid + ")", cores));
            }
        });
        busy.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
        return busy;
    }

    private static List<BenchAlert> generate(Workload workload, Workload.Pool pool, Workload.Picker picker,
                                             SplittableRandom random, int n) {
        List<BenchAlert> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(workload.next(random, pool, picker));
        }
        return out;
    }

    /** The service jar on this JVM's class path (the bench jar's manifest names it), when it runs from one. */
    private static Path ownJar() {
        try {
            Path p = Path.of(Version.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
                return p;
            }
        } catch (Exception ignored) {
            // fall back below
        }
        Path built = Path.of("target/misp-correlator.jar");
        return Files.isRegularFile(built) ? built : null;
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a temporary directory
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
