package io.github.mispcorrelator.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench --lookback-compare N}: what the observation index costs the live pipeline. Two services on the same
 * fake MISP, one with {@code LOOKBACK_ENABLED=false} and one with it on, both warmed up (JIT and cache) on the measured
 * alerts, then N rounds of warm-batch each, interleaved (off, on, off, on …) so that the load other processes put on
 * the machine falls on both alike. The idle service meanwhile only runs its timers. Writes
 * {@code lookback-compare.md} and fails when the index costs more than 15 % of warm-batch throughput.
 */
final class LookBackCompare {
    static final double MAX_COST = 0.15;

    private LookBackCompare() {
    }

    private record Round(String mode, int round, LoadRunner.PhaseRun run, ServiceProcess.Usage usage) {
        /** Service CPU (JVM and PostgreSQL) per alert, ms: what the index costs, whatever share of the cores we got. */
        double cpuMsPerAlert() {
            return run.alerts() > 0 ? (usage.jvmCpuSeconds() + usage.postgresCpuSeconds()) * 1000 / run.alerts() : 0;
        }

        double otherCores(int cores) {
            return Math.max(0, usage.machineBusyShare() * cores - usage.jvmCores() - usage.postgresCores());
        }
    }

    static int run(BenchOptions o, Path jar, Path work, FakeMispServer misp, List<BenchAlert> ring, PrintStream out)
            throws Exception {
        Map<String, String> offEnv = new LinkedHashMap<>(o.serviceEnv);
        offEnv.put("CORRELATOR_LOOKBACK_ENABLED", "false");
        Map<String, String> onEnv = new LinkedHashMap<>(o.serviceEnv);
        onEnv.put("CORRELATOR_LOOKBACK_ENABLED", "true");
        Path offOut = Files.createDirectories(o.out.resolve("lookback-off"));
        Path onOut = Files.createDirectories(o.out.resolve("lookback-on"));
        int cores = Runtime.getRuntime().availableProcessors();
        List<Round> rounds = new ArrayList<>();
        boolean ok = true;
        out.println("starting two services: observation index off and on …");
        try (ServiceProcess off = ServiceProcess.start(jar, o.drl, misp.url(), Files.createDirectories(work.resolve("off")),
                offOut, o.serviceHeap, o.serviceJvmOptions, offEnv, Duration.ofSeconds(180));
             ServiceProcess on = ServiceProcess.start(jar, o.drl, misp.url(), Files.createDirectories(work.resolve("on")),
                     onOut, o.serviceHeap, o.serviceJvmOptions, onEnv, Duration.ofSeconds(180));
             LoadRunner offLoad = new LoadRunner(off.port(), offOut);
             LoadRunner onLoad = new LoadRunner(on.port(), onOut)) {
            for (Object[] s : new Object[][]{{"off", offLoad}, {"on", onLoad}}) {
                out.println("warm-up (index " + s[0] + ") …");
                ((LoadRunner) s[1]).batch("warmup-batch", LoadRunner.ring(ring), o.batchSize, o.batchConcurrency,
                        o.warmupTime, o.maxAlerts);
            }
            for (int r = 1; r <= o.lookbackCompare; r++) {
                for (Object[] s : new Object[][]{{"off", off, offLoad}, {"on", on, onLoad}}) {
                    ServiceProcess service = (ServiceProcess) s[1];
                    ServiceProcess.Mark mark = service.mark();
                    LoadRunner.PhaseRun run = ((LoadRunner) s[2]).batch("warm-batch", LoadRunner.ring(ring), o.batchSize,
                            o.batchConcurrency, o.phaseTime, o.maxAlerts);
                    Round round = new Round((String) s[0], r, run, service.since(mark));
                    rounds.add(round);
                    out.printf(Locale.ROOT, "  round %d, index %-3s: %,.0f alerts/s, service %.2f + %.2f cores, other "
                                    + "processes %.2f cores%n", r, round.mode(), run.alertsPerSecond(),
                            round.usage().jvmCores(), round.usage().postgresCores(), round.otherCores(cores));
                    for (String p : run.outcome().problems()) {
                        out.println("    ! " + p);
                        ok = false;
                    }
                }
            }
        }
        double offRate = mean(rounds, "off");
        double onRate = mean(rounds, "on");
        double cost = offRate > 0 ? 1 - onRate / offRate : 0;
        StringBuilder md = new StringBuilder();
        md.append("# Observation index cost (bench --lookback-compare ").append(o.lookbackCompare).append(")\n\n")
                .append("Machine: ").append(ProcStats.machineDescription()).append("\n\n")
                .append("| round | index | alerts/s | batch p50 ms | batch p99 ms | service JVM cores | PostgreSQL cores | service CPU ms / alert | other processes (cores) |\n")
                .append("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Round r : rounds) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %.0f | %.0f | %.2f | %.2f | %.3f | %.2f |%n", r.round(),
                    r.mode(), r.run().alertsPerSecond(), r.run().latency().p50(), r.run().latency().p99(),
                    r.usage().jvmCores(), r.usage().postgresCores(), r.cpuMsPerAlert(), r.otherCores(cores)));
        }
        double offCpu = rounds.stream().filter(r -> r.mode().equals("off")).mapToDouble(Round::cpuMsPerAlert).average().orElse(0);
        double onCpu = rounds.stream().filter(r -> r.mode().equals("on")).mapToDouble(Round::cpuMsPerAlert).average().orElse(0);
        md.append(String.format(Locale.ROOT, "%nMean warm-batch: index off %,.0f alerts/s, on %,.0f alerts/s: cost %.1f %% "
                + "(limit %.0f %%). Service CPU per alert: off %.3f ms, on %.3f ms (%+.1f %%): the steadier figure when "
                + "other processes take the cores.%n", offRate, onRate, cost * 100, MAX_COST * 100, offCpu, onCpu,
                offCpu > 0 ? (onCpu / offCpu - 1) * 100 : 0));
        Files.writeString(o.out.resolve("lookback-compare.md"), md);
        out.println();
        out.println(md);
        if (!ok) {
            out.println("FAIL: an alert failed or a hit was missed");
            return 1;
        }
        if (cost > MAX_COST) {
            out.printf(Locale.ROOT, "FAIL: the observation index costs %.1f %% of warm-batch throughput%n", cost * 100);
            return 1;
        }
        out.println("PASS");
        return 0;
    }

    private static double mean(List<Round> rounds, String mode) {
        return rounds.stream().filter(r -> r.mode().equals(mode)).mapToDouble(r -> r.run().alertsPerSecond())
                .average().orElse(0);
    }
}
