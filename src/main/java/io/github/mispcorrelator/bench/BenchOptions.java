package io.github.mispcorrelator.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The bench's command line: every option has a default that gives the quick run. */
final class BenchOptions {
    static final List<String> PHASES = List.of("warmup", "cold-batch", "warm-batch", "warm-single", "warm-latency");
    /** The options that take a value. */
    private static final Set<String> OPTIONS = Set.of("--distinct", "--bad-share", "--misp-latency", "--phase-seconds",
            "--warmup-seconds", "--cold-seconds", "--max-alerts", "--batch-size", "--batch-concurrency", "--connections",
            "--paced-rate", "--paced-seconds", "--old-way-sample", "--ring", "--generated-share", "--misp-batch-size",
            "--corpus", "--drl", "--compare-drl", "--jar", "--out", "--service-heap", "--service-jvm", "--service-env", "--phases", "--jfr",
            "--seed", "--hold-seconds", "--lookback-compare");

    int distinct = 10_000;
    double badShare = 0.05;
    long mispLatencyMs = 25;
    Duration phaseTime = Duration.ofSeconds(15);
    Duration coldTime;
    Duration warmupTime = Duration.ofSeconds(60);
    long maxAlerts = 400_000;
    int batchSize = 500;
    int batchConcurrency = 4;
    int connections = 64;
    double pacedRate = 1000;
    Duration pacedTime = Duration.ofSeconds(10);
    int oldWaySample = 100;
    int ringSize = 20_000;
    double generatedShare = 0.5;
    int mispBatchSize = 100;
    Path corpus = Path.of("../shared/data/wazuh/corpus/hidc2025-alerts.json");
    Path drl = Path.of("drl");
    /** A second rule set whose warm-batch throughput is measured in the same run, on a second service. */
    Path compareDrl;
    Path out = Path.of("target/bench");
    Path jar;
    String serviceHeap = "512m";
    List<String> serviceJvmOptions = new ArrayList<>();
    Map<String, String> serviceEnv = new LinkedHashMap<>();
    Set<String> phases = new LinkedHashSet<>(PHASES);
    Set<String> jfrPhases = new LinkedHashSet<>();
    boolean limit = true;
    boolean oldWay = true;
    /** Rounds of warm-batch with the observation index off and on, interleaved, instead of the usual phases (0: off). */
    int lookbackCompare;
    long seed = 20250910L;
    long holdSeconds = 0;
    Duration limitTime = Duration.ofSeconds(5);

    static final String USAGE = """
            usage: java -jar target/misp-correlator.jar bench [options]

            Starts a fake MISP and the service (java -jar, its own JVM), replays a realistic alert mix over HTTP,
            measures the two baselines in the same run, and writes target/bench/results.{json,md}. Exits 1 when any
            planted bad indicator was not found (or an alert failed), 0 otherwise; targets missed are reported, not
            fatal. Only 127.0.0.1 is addressed; every phase is bounded in time and in alerts.

              --distinct N           distinct indicator values in the measured pool (1000..1000000; 10000)
              --bad-share F          share of them MISP knows (0.01..0.10; 0.05)
              --misp-latency MS      fake MISP answer delay (25)
              --phase-seconds S      time bound of each measured phase (15)
              --cold-seconds S       time bound of the cold pass (the phase bound)
              --warmup-seconds S     JIT warm-up on a separate value pool, cache of the measured pool stays cold (60)
              --max-alerts N         alert bound of each phase (400000)
              --batch-size N         alerts per NDJSON batch (500)
              --batch-concurrency N  batches in flight (4)
              --connections N        keep-alive connections for single alerts (64)
              --paced-rate N         alerts/s for the latency phase, capped at half the single-alert throughput (1000)
              --paced-seconds S      length of the latency phase (10)
              --old-way-sample N     alerts through the old script, one python3 process each; 0 skips (100)
              --ring N               distinct alert bodies cycled in warm phases (20000)
              --generated-share F    share of generated Sysmon/syscheck alerts in the mix (0.5)
              --misp-batch-size N    the service's values per restSearch, for the cold-phase target (100)
              --corpus FILE          a real alerts.json to replay (../shared/data/wazuh/corpus/hidc2025-alerts.json;
                                     built-in alerts of the same kinds when absent)
              --drl DIR              rules, for the service and baseline (a) (drl)
              --compare-drl DIR      after the phases, start a second service on these rules and measure its
                                     warm-batch too, in the same run (e.g. the previous release's drl/)
              --jar FILE             the service jar (the jar running this command)
              --out DIR              results directory (target/bench)
              --service-heap SIZE    -Xmx of the service (512m)
              --service-jvm OPT      an extra JVM option for the service (repeatable)
              --service-env K=V      an extra CORRELATOR_* variable for the service (repeatable)
              --phases LIST          comma-separated subset of: warmup,cold-batch,warm-batch,warm-single,warm-latency
              --jfr LIST             run the service with JFR (settings=profile) and keep these phases' stretch of
                                     the recording: profile-<phase>.jfr and a summary in profile-<phase>.md
              --no-limit             skip baseline (a)
              --no-old-way           skip baseline (b)
              --lookback-compare N   only this: two services, observation index off and on, warmed up, then N
                                     interleaved warm-batch rounds each; writes lookback-compare.md (fails over 15 %)
              --seed N               workload seed (20250910)
              --hold-seconds S       keep the service up S seconds after the phases, to inspect it (0)

            Quick run (about 2.5 minutes on 2 cores):  java -jar target/misp-correlator.jar bench
            Long run (about 8 minutes):  ... bench --distinct 1000000 --bad-share 0.01 --warmup-seconds 120
                --phase-seconds 60 --cold-seconds 300 --max-alerts 3000000 --ring 50000 --old-way-sample 200
            """;

    static BenchOptions parse(List<String> args) {
        BenchOptions o = new BenchOptions();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0 && !arg.startsWith("--service-env")) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            } else if (arg.startsWith("--service-env=")) {
                value = arg.substring("--service-env=".length());
                arg = "--service-env";
            }
            switch (arg) {
                case "--no-limit" -> o.limit = false;
                case "--no-old-way" -> o.oldWay = false;
                case "-h", "--help" -> throw new UsageException(null);
                default -> {
                    if (!OPTIONS.contains(arg)) {
                        throw new UsageException("unknown option " + arg);
                    }
                    if (value == null) {
                        if (i + 1 >= args.size()) {
                            throw new UsageException(arg + " needs a value");
                        }
                        value = args.get(++i);
                    }
                    o.set(arg, value);
                }
            }
        }
        if (o.coldTime == null) {
            o.coldTime = o.phaseTime;
        }
        if (o.distinct < 1 || o.badShare <= 0 || o.badShare > 1) {
            throw new UsageException("--distinct must be at least 1 and --bad-share within (0, 1]");
        }
        return o;
    }

    private void set(String option, String v) {
        try {
            switch (option) {
                case "--distinct" -> distinct = Integer.parseInt(v.replace("_", ""));
                case "--bad-share" -> badShare = Double.parseDouble(v);
                case "--misp-latency" -> mispLatencyMs = Long.parseLong(v);
                case "--phase-seconds" -> phaseTime = Duration.ofSeconds(Long.parseLong(v));
                case "--warmup-seconds" -> warmupTime = Duration.ofSeconds(Long.parseLong(v));
                case "--cold-seconds" -> coldTime = Duration.ofSeconds(Long.parseLong(v));
                case "--max-alerts" -> maxAlerts = Long.parseLong(v.replace("_", ""));
                case "--batch-size" -> batchSize = positive(Integer.parseInt(v));
                case "--batch-concurrency" -> batchConcurrency = positive(Integer.parseInt(v));
                case "--connections" -> connections = positive(Integer.parseInt(v));
                case "--paced-rate" -> pacedRate = Double.parseDouble(v);
                case "--paced-seconds" -> pacedTime = Duration.ofSeconds(Long.parseLong(v));
                case "--old-way-sample" -> oldWaySample = Integer.parseInt(v);
                case "--ring" -> ringSize = positive(Integer.parseInt(v.replace("_", "")));
                case "--generated-share" -> generatedShare = Double.parseDouble(v);
                case "--misp-batch-size" -> mispBatchSize = positive(Integer.parseInt(v));
                case "--corpus" -> corpus = Path.of(v);
                case "--drl" -> drl = Path.of(v);
                case "--compare-drl" -> compareDrl = Path.of(v);
                case "--jar" -> jar = Path.of(v);
                case "--out" -> out = Path.of(v);
                case "--service-heap" -> serviceHeap = v;
                case "--service-jvm" -> serviceJvmOptions.add(v);
                case "--service-env" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0 || !v.startsWith("CORRELATOR_")) {
                        throw new UsageException("--service-env wants CORRELATOR_KEY=value, got " + v);
                    }
                    serviceEnv.put(v.substring(0, eq), v.substring(eq + 1));
                }
                case "--phases" -> {
                    phases = new LinkedHashSet<>();
                    for (String p : v.split(",")) {
                        String name = p.strip().toLowerCase(Locale.ROOT);
                        if (!PHASES.contains(name)) {
                            throw new UsageException("unknown phase " + name + " (known: " + String.join(",", PHASES) + ")");
                        }
                        phases.add(name);
                    }
                }
                case "--jfr" -> {
                    for (String p : v.split(",")) {
                        String name = p.strip().toLowerCase(Locale.ROOT);
                        if (!PHASES.contains(name)) {
                            throw new UsageException("unknown phase " + name + " for --jfr");
                        }
                        jfrPhases.add(name);
                    }
                }
                case "--seed" -> seed = Long.parseLong(v);
                case "--lookback-compare" -> lookbackCompare = Integer.parseInt(v);
                case "--hold-seconds" -> holdSeconds = Long.parseLong(v);
                default -> throw new UsageException("unknown option " + option);
            }
        } catch (NumberFormatException e) {
            throw new UsageException(option + ": not a number: " + v);
        }
    }

    private static int positive(int n) {
        if (n < 1) {
            throw new UsageException("expected a number above 0, got " + n);
        }
        return n;
    }

    /** A wrong command line; a null message asks for the usage text only. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
