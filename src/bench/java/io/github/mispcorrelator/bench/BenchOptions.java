package io.github.mispcorrelator.bench;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The bench's command line (a picocli mixin of {@link BenchCommand}): every option has a default that gives the quick run. */
final class BenchOptions {
    static final List<String> PHASES = List.of("warmup", "cold-batch", "warm-batch", "warm-single", "warm-latency");

    @Option(names = "--distinct", paramLabel = "N", defaultValue = "10000", converter = Count.class,
            description = "distinct indicator values in the measured pool (1000..1000000; ${DEFAULT-VALUE})")
    int distinct;
    @Option(names = "--bad-share", paramLabel = "F", defaultValue = "0.05",
            description = "share of them MISP knows (0.01..0.10; ${DEFAULT-VALUE})")
    double badShare;
    @Option(names = "--misp-latency", paramLabel = "MS", defaultValue = "25",
            description = "fake MISP answer delay (${DEFAULT-VALUE})")
    long mispLatencyMs;
    @Option(names = "--phase-seconds", paramLabel = "S", defaultValue = "15", converter = Seconds.class,
            description = "time bound of each measured phase (${DEFAULT-VALUE})")
    Duration phaseTime;
    @Option(names = "--cold-seconds", paramLabel = "S", converter = Seconds.class,
            description = "time bound of the cold pass (the phase bound)")
    Duration coldTime;
    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "60", converter = Seconds.class,
            description = "JIT warm-up on a separate value pool, cache of the measured pool stays cold "
                    + "(${DEFAULT-VALUE})")
    Duration warmupTime;
    @Option(names = "--max-alerts", paramLabel = "N", defaultValue = "400000", converter = LongCount.class,
            description = "alert bound of each phase (${DEFAULT-VALUE})")
    long maxAlerts;
    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "500",
            description = "alerts per NDJSON batch (${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--batch-concurrency", paramLabel = "N", defaultValue = "4",
            description = "batches in flight (${DEFAULT-VALUE})")
    int batchConcurrency;
    @Option(names = "--connections", paramLabel = "N", defaultValue = "64",
            description = "keep-alive connections for single alerts (${DEFAULT-VALUE})")
    int connections;
    @Option(names = "--paced-rate", paramLabel = "N", defaultValue = "1000",
            description = "alerts/s for the latency phase, capped at half the single-alert throughput "
                    + "(${DEFAULT-VALUE})")
    double pacedRate;
    @Option(names = "--paced-seconds", paramLabel = "S", defaultValue = "10", converter = Seconds.class,
            description = "length of the latency phase (${DEFAULT-VALUE})")
    Duration pacedTime;
    @Option(names = "--old-way-sample", paramLabel = "N", defaultValue = "100",
            description = "alerts through the old script, one python3 process each; 0 skips (${DEFAULT-VALUE})")
    int oldWaySample;
    @Option(names = "--ring", paramLabel = "N", defaultValue = "20000", converter = Count.class,
            description = "distinct alert bodies cycled in warm phases (${DEFAULT-VALUE})")
    int ringSize;
    @Option(names = "--generated-share", paramLabel = "F", defaultValue = "0.5",
            description = "share of generated Sysmon/syscheck alerts in the mix (${DEFAULT-VALUE})")
    double generatedShare;
    @Option(names = "--misp-batch-size", paramLabel = "N", defaultValue = "100",
            description = "the service's values per restSearch, for the cold-phase target (${DEFAULT-VALUE})")
    int mispBatchSize;
    @Option(names = "--corpus", paramLabel = "FILE", defaultValue = "../shared/data/wazuh/corpus/hidc2025-alerts.json",
            description = "a real alerts.json to replay (${DEFAULT-VALUE}; built-in alerts of the same kinds when "
                    + "absent)")
    Path corpus;
    @Option(names = "--drl", paramLabel = "DIR", defaultValue = "drl",
            description = "rules, for the service and baseline (a) (${DEFAULT-VALUE})")
    Path drl;
    /** A second rule set whose warm-batch throughput is measured in the same run, on a second service. */
    @Option(names = "--compare-drl", paramLabel = "DIR", description = "after the phases, start a second service on "
            + "these rules and measure its warm-batch too, in the same run (e.g. the previous release's drl/)")
    Path compareDrl;
    @Option(names = "--jar", paramLabel = "FILE",
            description = "the service jar (the misp-correlator.jar beside this jar, else target/misp-correlator.jar)")
    Path jar;
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "target/bench",
            description = "results directory (${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--service-heap", paramLabel = "SIZE", defaultValue = "512m",
            description = "-Xmx of the service (${DEFAULT-VALUE})")
    String serviceHeap;
    @Option(names = "--service-jvm", paramLabel = "OPT", description = "an extra JVM option for the service "
            + "(repeatable)")
    List<String> serviceJvmOptions = new ArrayList<>();
    @Option(names = "--service-env", paramLabel = "K=V",
            description = "an extra CORRELATOR_* variable for the service (repeatable)")
    Map<String, String> serviceEnv = new LinkedHashMap<>();
    @Option(names = "--phases", paramLabel = "LIST", split = ",",
            description = "comma-separated subset of: warmup,cold-batch,warm-batch,warm-single,warm-latency")
    List<String> phaseList;
    @Option(names = "--jfr", paramLabel = "LIST", split = ",", description = "run the service with JFR "
            + "(settings=profile) and keep these phases' stretch of the recording: profile-<phase>.jfr and a summary "
            + "in profile-<phase>.md")
    List<String> jfrList;
    @Option(names = "--no-limit", description = "skip baseline (a)")
    boolean noLimit;
    @Option(names = "--no-old-way", description = "skip baseline (b)")
    boolean noOldWay;
    /** Rounds of warm-batch with the observation index off and on, interleaved, instead of the usual phases (0: off). */
    @Option(names = "--lookback-compare", paramLabel = "N", defaultValue = "0", description = "only this: two "
            + "services, observation index off and on, warmed up, then N interleaved warm-batch rounds each; writes "
            + "lookback-compare.md (fails over 15 %%)")
    int lookbackCompare;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "20250910", description = "workload seed "
            + "(${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--paced-runs", paramLabel = "N", defaultValue = "1", description = "consecutive runs of the "
            + "latency phase, each reported (warm-latency-1 … -N when above 1; ${DEFAULT-VALUE})")
    int pacedRuns;
    @Option(names = "--sweep", description = "curves instead of points: distinct values, bad share and mirror size "
            + "varied one at a time; writes sweep.{csv,json,md} and sweep-*.png charts (15-20 minutes on 2 cores, "
            + "the mirror pulls take most)")
    boolean sweep;
    @Option(names = "--sweep-quick", description = "--sweep at a tiny size, to check the machinery (under 2 minutes)")
    boolean sweepQuick;
    @Option(names = "--sweep-distinct", paramLabel = "LIST", split = ",", converter = Count.class,
            description = "the sweep's distinct values, at 5 %% bad (default 1000,10000,100000,1000000)")
    List<Integer> sweepDistinct;
    @Option(names = "--sweep-bad-share", paramLabel = "LIST", split = ",",
            description = "the sweep's bad shares, at 10,000 distinct values (default 0.01,0.02,0.05,0.10)")
    List<Double> sweepBadShare;
    @Option(names = "--sweep-mirror", paramLabel = "LIST", split = ",", converter = LongCount.class,
            description = "the sweep's mirror sizes in attributes, one service each (default "
                    + "100000,1000000,5000000; 0 alone skips the series)")
    List<Long> sweepMirror;
    @Option(names = "--sweep-mirror-heap", paramLabel = "SIZE", defaultValue = "4g",
            description = "-Xmx of the services holding a mirror (${DEFAULT-VALUE})")
    String sweepMirrorHeap;
    @Option(names = "--hold-seconds", paramLabel = "S", defaultValue = "0",
            description = "keep the service up S seconds after the phases, to inspect it (${DEFAULT-VALUE})")
    long holdSeconds;

    // derived by check(), read by the phases
    Set<String> phases = new LinkedHashSet<>(PHASES);
    Set<String> jfrPhases = new LinkedHashSet<>();
    boolean limit = true;
    boolean oldWay = true;
    Duration limitTime = Duration.ofSeconds(5);

    /** What the annotations cannot say; a wrong value is a usage error (exit 2) like picocli's own. */
    void check(CommandSpec spec) {
        if (coldTime == null) {
            coldTime = phaseTime;
        }
        if (distinct < 1 || badShare <= 0 || badShare > 1) {
            throw new ParameterException(spec.commandLine(), "--distinct must be at least 1 and --bad-share within (0, 1]");
        }
        positive(spec, "--batch-size", batchSize);
        positive(spec, "--batch-concurrency", batchConcurrency);
        positive(spec, "--connections", connections);
        positive(spec, "--ring", ringSize);
        positive(spec, "--misp-batch-size", mispBatchSize);
        for (String key : serviceEnv.keySet()) {
            if (!key.startsWith("CORRELATOR_")) {
                throw new ParameterException(spec.commandLine(), "--service-env wants CORRELATOR_KEY=value, got " + key);
            }
        }
        if (phaseList != null) {
            phases = phases(spec, phaseList, "");
        }
        if (jfrList != null) {
            jfrPhases = phases(spec, jfrList, " for --jfr");
        }
        limit = !noLimit;
        oldWay = !noOldWay;
        positive(spec, "--paced-runs", pacedRuns);
        if (sweepQuick) {
            sweep = true;
        }
        if (sweep) {
            sweepDefaults(spec);
        }
    }

    /**
     * The sweep's sizes: 15-20 minutes on 2 cores in all (the 1 M-value cold pass and the mirror pulls take most),
     * or a CI-size check with {@code --sweep-quick}. What the command line gives explicitly stays.
     */
    private void sweepDefaults(CommandSpec spec) {
        var given = spec.commandLine().getParseResult();
        boolean quick = sweepQuick;
        if (sweepDistinct == null) {
            sweepDistinct = quick ? List.of(300, 1_500) : List.of(1_000, 10_000, 100_000, 1_000_000);
        }
        if (sweepBadShare == null) {
            sweepBadShare = quick ? List.of(0.02, 0.10) : List.of(0.01, 0.02, 0.05, 0.10);
        }
        if (sweepMirror == null) {
            sweepMirror = quick ? List.of(5_000L)
                    : List.of(100_000L, 1_000_000L, 5_000_000L);
        }
        if (sweepMirror.equals(List.of(0L))) {
            sweepMirror = List.of();
        }
        for (int d : sweepDistinct) {
            positive(spec, "--sweep-distinct", d);
        }
        for (double b : sweepBadShare) {
            if (b <= 0 || b > 1) {
                throw new ParameterException(spec.commandLine(), "--sweep-bad-share: each within (0, 1], got " + b);
            }
        }
        for (long m : sweepMirror) {
            if (m < 1) {
                throw new ParameterException(spec.commandLine(), "--sweep-mirror: each above 0, got " + m);
            }
        }
        if (!given.hasMatchedOption("--warmup-seconds")) {
            warmupTime = Duration.ofSeconds(quick ? 2 : 30);
        }
        if (!given.hasMatchedOption("--phase-seconds")) {
            phaseTime = Duration.ofSeconds(quick ? 2 : 15);
        }
        if (!given.hasMatchedOption("--cold-seconds")) {
            coldTime = Duration.ofSeconds(quick ? 10 : 120);
        }
        if (quick && !given.hasMatchedOption("--ring")) {
            ringSize = 500;
        }
    }

    private static Set<String> phases(CommandSpec spec, List<String> given, String what) {
        Set<String> out = new LinkedHashSet<>();
        for (String p : given) {
            String name = p.strip().toLowerCase(Locale.ROOT);
            if (!PHASES.contains(name)) {
                throw new ParameterException(spec.commandLine(), "unknown phase " + name + what + " (known: "
                        + String.join(",", PHASES) + ")");
            }
            out.add(name);
        }
        return out;
    }

    private static void positive(CommandSpec spec, String option, int n) {
        if (n < 1) {
            throw new ParameterException(spec.commandLine(), option + ": expected a number above 0, got " + n);
        }
    }

    /** A count that may be written 1_000_000. */
    static final class Count implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return Integer.parseInt(value.replace("_", ""));
        }
    }

    /** A large count that may be written 3_000_000. */
    static final class LongCount implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return Long.parseLong(value.replace("_", ""));
        }
    }

    /** Whole seconds. */
    static final class Seconds implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Duration.ofSeconds(Long.parseLong(value));
        }
    }
}
