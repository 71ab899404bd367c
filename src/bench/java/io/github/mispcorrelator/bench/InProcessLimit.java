package io.github.mispcorrelator.bench;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.rules.RuleSet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Baseline (a), the limit: the same alerts through parsing and the extraction rules in this process, with no HTTP,
 * no lookup and no storage. What the machine can do at best with these rules; the service is judged against it.
 */
final class InProcessLimit {
    /** Alerts per second with {@code threads} threads, and what the rules found in the planted values. */
    record Result(int threads, long alerts, double seconds, long indicators, long plantedValues,
                  long plantedExtracted, long badValues, long badExtracted, double otherCores) {
        double alertsPerSecond() {
            return seconds > 0 ? alerts / seconds : 0;
        }
    }

    private InProcessLimit() {
    }

    /**
     * Checks once that the rules extract every planted value (the bench's expectations rest on it), then measures
     * throughput after a warm-up.
     */
    static List<Result> run(RuleSet rules, List<BenchAlert> alerts, int[] threadCounts, Duration warmup,
                            Duration measure) throws InterruptedException {
        long planted = 0;
        long plantedFound = 0;
        long bad = 0;
        long badFound = 0;
        long indicators = 0;
        for (BenchAlert a : alerts) {
            List<Indicator> found = rules.extract(AlertParser.parse(a.body())).indicators();
            indicators += found.size();
            Set<String> keys = new HashSet<>();
            found.forEach(i -> keys.add(i.key()));
            for (String p : a.planted()) {
                planted++;
                plantedFound += keys.contains(p) ? 1 : 0;
            }
            for (String b : a.bad()) {
                bad++;
                badFound += keys.contains(b) ? 1 : 0;
            }
        }
        measureWith(rules, alerts, 1, warmup);
        List<Result> out = new ArrayList<>();
        for (int threads : threadCounts) {
            long[] machineBefore = ProcStats.machineTicks();
            double ownBefore = ProcStats.cpuSeconds(ProcessHandle.current().pid());
            long[] counted = measureWith(rules, alerts, threads, measure);
            long[] machineAfter = ProcStats.machineTicks();
            double seconds = counted[1] / 1e9;
            double own = ProcStats.cpuSeconds(ProcessHandle.current().pid()) - ownBefore;
            long total = machineAfter[1] - machineBefore[1];
            double busyCores = total > 0 ? (double) (machineAfter[0] - machineBefore[0]) / total
                    * Runtime.getRuntime().availableProcessors() : 0;
            out.add(new Result(threads, counted[0], seconds, indicators, planted, plantedFound, bad, badFound,
                    Math.max(0, busyCores - own / seconds)));
        }
        return out;
    }

    /** @return alerts done and nanoseconds taken */
    private static long[] measureWith(RuleSet rules, List<BenchAlert> alerts, int threads, Duration time)
            throws InterruptedException {
        AtomicLong done = new AtomicLong();
        AtomicLong sink = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + time.toNanos();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t * 7919;
            Thread w = new Thread(() -> {
                long n = 0;
                long found = 0;
                int i = offset;
                while (System.nanoTime() < deadline) {
                    Alert alert = AlertParser.parse(alerts.get(i++ % alerts.size()).body());
                    found += rules.extract(alert).indicators().size();
                    n++;
                }
                done.addAndGet(n);
                sink.addAndGet(found);
            }, "bench-limit-" + t);
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        return new long[]{done.get(), System.nanoTime() - start};
    }
}
