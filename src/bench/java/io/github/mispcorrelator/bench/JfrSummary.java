package io.github.mispcorrelator.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads a JFR recording of the service and says where its CPU went: by thread pool, by component (share of samples
 * whose stack passes through it), by hottest method, plus allocation, lock contention and GC. Markdown out.
 */
final class JfrSummary {
    private JfrSummary() {
    }

    /** Whether an event falls in the phase (a dump holds whole chunks, so it may hold more). */
    private static boolean within(RecordedEvent e, Instant from, Instant to) {
        Instant t = e.getStartTime();
        return !t.isBefore(from) && !t.isAfter(to);
    }

    static String summarise(Path recording, String phase, Instant from, Instant to)
            throws IOException {
        int samples = 0;
        Map<String, Integer> threads = new HashMap<>();
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> components = new HashMap<>();
        Map<String, Integer> ownMethods = new HashMap<>();
        Map<String, Integer> activities = new HashMap<>();
        Map<String, Long> allocation = new HashMap<>();
        Map<String, Duration> contention = new HashMap<>();
        Duration gc = Duration.ZERO;
        int gcs = 0;
        int compilations = 0;
        Duration compileTime = Duration.ZERO;
        int deoptimizations = 0;
        Map<String, Integer> deoptReasons = new HashMap<>();
        long allocated = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            if (!within(e, from, to)) {
                continue;
            }
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    samples++;
                    String thread = e.getThread("sampledThread") == null ? "?"
                            : e.getThread("sampledThread").getJavaName();
                    threads.merge(threadGroup(thread), 1, Integer::sum);
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    self.merge(method(st.getFrames().get(0)), 1, Integer::sum);
                    Set<String> seen = new HashSet<>();
                    Set<String> own = new HashSet<>();
                    for (RecordedFrame f : st.getFrames()) {
                        if (f.getMethod() == null) {
                            continue;
                        }
                        String cls = f.getMethod().getType().getName();
                        seen.add(component(cls));
                        if (cls.startsWith("io.github.mispcorrelator.")) {
                            own.add(method(f));
                        }
                    }
                    seen.forEach(c -> components.merge(c, 1, Integer::sum));
                    own.forEach(m -> ownMethods.merge(m, 1, Integer::sum));
                    activities.merge(activity(st.getFrames(), thread), 1, Integer::sum);
                }
                case "jdk.ObjectAllocationSample" -> {
                    long weight = e.getLong("weight");
                    allocated += weight;
                    RecordedStackTrace st = e.getStackTrace();
                    String site = st == null ? "?" : firstOwnOrTop(st.getFrames());
                    allocation.merge(site, weight, Long::sum);
                }
                case "jdk.JavaMonitorEnter" -> {
                    String cls = e.getClass("monitorClass") == null ? "?" : e.getClass("monitorClass").getName();
                    RecordedStackTrace st = e.getStackTrace();
                    String where = cls + " at " + (st == null ? "?" : firstOwnOrTop(st.getFrames()));
                    contention.merge(where, e.getDuration(), Duration::plus);
                }
                case "jdk.Compilation" -> {
                    compilations++;
                    compileTime = compileTime.plus(e.getDuration());
                }
                case "jdk.Deoptimization" -> {
                    deoptimizations++;
                    String where = e.getValue("method") instanceof jdk.jfr.consumer.RecordedMethod m
                            ? m.getType().getName() + "." + m.getName() : "?";
                    deoptReasons.merge(e.getString("reason") + " in " + where, 1, Integer::sum);
                }
                case "jdk.GarbageCollection" -> {
                    gcs++;
                    gc = gc.plus(e.getDuration("sumOfPauses"));
                }
                default -> { }
            }
        }
        StringBuilder md = new StringBuilder();
        md.append("# JFR profile of the service: phase ").append(phase).append("\n\n");
        md.append("Recording: `").append(recording.getFileName()).append("` (settings=profile). ")
                .append(samples).append(" CPU samples of Java code (threads blocked in I/O or waiting are not sampled).\n\n");
        md.append("## Where the CPU goes (each sample counted once, by the most specific step on its stack)\n\n")
                .append("| step | samples | share |\n|---|---:|---:|\n");
        appendShares(md, activities, samples, 20);
        md.append("\n## CPU samples by thread pool\n\n| threads | samples | share |\n|---|---:|---:|\n");
        appendShares(md, threads, samples, 12);
        md.append("\n## CPU samples by component (a sample counts for every component on its stack)\n\n")
                .append("| component | samples | share |\n|---|---:|---:|\n");
        appendShares(md, components, samples, 20);
        md.append("\n## Hottest methods (top of stack)\n\n| method | samples | share |\n|---|---:|---:|\n");
        appendShares(md, self, samples, 25);
        md.append("\n## Correlator methods on the stack (inclusive)\n\n| method | samples | share |\n|---|---:|---:|\n");
        appendShares(md, ownMethods, samples, 25);
        md.append("\n## Allocation (sampled weight, by first correlator frame or top frame)\n\n")
                .append("| site | MiB | share |\n|---|---:|---:|\n");
        long total = Math.max(1, allocated);
        allocation.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(15)
                .forEach(en -> md.append("| `").append(en.getKey()).append("` | ")
                        .append(en.getValue() / (1024 * 1024)).append(" | ")
                        .append(pct(en.getValue(), total)).append(" |\n"));
        md.append("\n## Lock contention (monitor enter over 20 ms by default; total blocked time)\n\n");
        if (contention.isEmpty()) {
            md.append("None recorded.\n");
        } else {
            md.append("| monitor | blocked ms |\n|---|---:|\n");
            contention.entrySet().stream().sorted(Map.Entry.<String, Duration>comparingByValue().reversed()).limit(10)
                    .forEach(en -> md.append("| `").append(en.getKey()).append("` | ")
                            .append(en.getValue().toMillis()).append(" |\n"));
        }
        md.append("\n## Garbage collection\n\n").append(gcs).append(" collections, ").append(gc.toMillis())
                .append(" ms of pauses in total.\n");
        md.append("\n## JIT\n\n").append(compilations).append(" compilations (")
                .append(compileTime.toMillis()).append(" ms of compiler time recorded), ")
                .append(deoptimizations).append(" deoptimizations");
        if (!deoptReasons.isEmpty()) {
            md.append("; most frequent: ");
            md.append(deoptReasons.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .limit(5).map(en -> "`" + en.getKey() + "` ×" + en.getValue())
                    .collect(Collectors.joining(", ")));
        }
        md.append(".\n");
        return md.toString();
    }

    private static void appendShares(StringBuilder md, Map<String, Integer> counts, int total, int limit) {
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(limit)
                .forEach(en -> md.append("| `").append(en.getKey()).append("` | ").append(en.getValue()).append(" | ")
                        .append(pct(en.getValue(), total)).append(" |\n"));
    }

    /** Steps of the flow, most specific first: the first one found from the top of the stack names the sample. */
    private static final String[][] STEPS = {
            {"AlertParser.digest", "alert id digest (SHA-256 of every body)"},
            {"BatchIngest.split", "batch: split into lines (body to String)"},
            {"AlertDocument.", "alert: streaming pass, fields decoded as read, tree when stored"},
            {"AlertParser.parse", "alert parse: the rest (id, groups, timestamp)"},
            {"Normaliser.", "normalisation (inside extraction)"},
            {"RuleSet.extract", "extraction rules (Drools session)"},
            {"RuleSet.score", "scoring rules (Drools session)"},
            {"LookupService.", "lookup (cache, batching)"},
            {"MispClient.", "MISP client"},
            {"PostgresHitStore.", "hit store (JDBC insert)"},
            {"WazuhEvents.", "answer: events for Wazuh"},
            {"Correlation.toJson", "answer: JSON objects"},
            {"BatchIngest.ok", "answer: JSON objects"},
            {"BatchIngest$LineResult.toJson", "answer: JSON objects (per-line copy)"},
            {"BatchIngest.summarise", "answer: JSON objects"},
            {"Responses.json", "answer: JSON encoding"},
            {"BodyHandlerImpl.", "request body buffering (BodyHandler)"},
            {"AccessControl.", "access control"},
            {"Correlator.", "correlator glue"},
            {"BatchIngest", "batch glue"},
    };

    static String activity(List<RecordedFrame> frames, String thread) {
        for (RecordedFrame f : frames) {
            if (f.getMethod() == null) {
                continue;
            }
            String cls = f.getMethod().getType().getName();
            String name = cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethod().getName();
            for (String[] step : STEPS) {
                if (name.startsWith(step[0]) || (step[0].endsWith(".") && name.startsWith(step[0]))) {
                    return step[1];
                }
            }
        }
        String group = threadGroup(thread);
        if (group.startsWith("vert.x-eventloop")) {
            return "HTTP and event loop (Netty, Vert.x, no correlator frame)";
        }
        return "other threads: " + group;
    }

    /** The top steps by share of CPU samples, for the results file. */
    static Map<String, Double> topComponents(Path recording, int limit, Instant from, Instant to)
            throws IOException {
        int samples = 0;
        Map<String, Integer> components = new HashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null
                    || !within(e, from, to)) {
                continue;
            }
            samples++;
            String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
            components.merge(activity(e.getStackTrace().getFrames(), thread), 1, Integer::sum);
        }
        int total = Math.max(1, samples);
        return components.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .limit(limit)
                .collect(Collectors.toMap(Map.Entry::getKey, en -> Math.round(1000.0 * en.getValue() / total) / 10.0,
                        (a, b) -> a, LinkedHashMap::new));
    }

    private static String pct(long part, long total) {
        return String.format(Locale.ROOT, "%.1f %%", 100.0 * part / Math.max(1, total));
    }

    private static String method(RecordedFrame f) {
        if (f.getMethod() == null) {
            return "?";
        }
        String cls = f.getMethod().getType().getName();
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + " (" + cls.substring(0,
                Math.max(0, cls.lastIndexOf('.'))) + ")";
    }

    private static String firstOwnOrTop(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            if (f.getMethod() != null && f.getMethod().getType().getName().startsWith("io.github.mispcorrelator.")) {
                return method(f);
            }
        }
        return frames.isEmpty() ? "?" : method(frames.get(0));
    }

    static String threadGroup(String name) {
        return name.replaceAll("[-#]?\\d+$", "").replaceAll("-\\d+-", "-N-");
    }

    static String component(String cls) {
        if (cls.startsWith("io.github.mispcorrelator.")) {
            String rest = cls.substring("io.github.mispcorrelator.".length());
            int dot = rest.indexOf('.');
            return "correlator " + (dot < 0 ? "(root)" : rest.substring(0, dot));
        }
        if (cls.startsWith("org.drools.") || cls.startsWith("org.kie.")) {
            return "Drools";
        }
        if (cls.startsWith("com.fasterxml.jackson.")) {
            return "Jackson";
        }
        if (cls.startsWith("io.vertx.")) {
            return "Vert.x";
        }
        if (cls.startsWith("io.netty.")) {
            return "Netty";
        }
        if (cls.startsWith("org.postgresql.") || cls.startsWith("com.zaxxer.")) {
            return "JDBC (pgjdbc, Hikari)";
        }
        if (cls.startsWith("com.github.benmanes.caffeine.")) {
            return "Caffeine";
        }
        if (cls.startsWith("java.util.regex.")) {
            return "java.util.regex";
        }
        if (cls.startsWith("java.security.") || cls.startsWith("sun.security.")) {
            return "JDK security (digests)";
        }
        if (cls.startsWith("ch.qos.logback.") || cls.startsWith("org.slf4j.")) {
            return "logging";
        }
        if (cls.startsWith("java.net.") || cls.startsWith("sun.nio.") || cls.startsWith("java.nio.")) {
            return "JDK net/nio";
        }
        if (cls.startsWith("java.") || cls.startsWith("jdk.") || cls.startsWith("sun.")) {
            return "JDK other";
        }
        int dot = cls.indexOf('.', cls.indexOf('.') + 1);
        return dot > 0 ? cls.substring(0, dot) : cls;
    }
}
