package io.github.mispcorrelator.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service under test, as its own JVM ({@code java -jar misp-correlator.jar}) configured by CORRELATOR_*
 * variables, so its CPU, memory and garbage collection are its own: CPU from /proc (the JVM, and the embedded
 * PostgreSQL's processes apart), resident memory sampled, heap from its GC log.
 */
final class ServiceProcess implements AutoCloseable {
    private static final Pattern GC_LINE = Pattern.compile(
            "GC\\(\\d+\\) (Pause [A-Za-z0-9 ()]+?)\\s+(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)\\s+([\\d.]+)ms");

    /** Resource use between two marks. */
    record Usage(double seconds, double jvmCpuSeconds, double postgresCpuSeconds, double machineBusyShare,
                 long rssPeakMib, Heap heap, List<ThreadCpu> busiestThreads, Instant from,
                 Instant to) {
        /** The GC log is complete only once the service has stopped: the heap figures are filled in then. */
        Usage withHeap(Heap h) {
            return new Usage(seconds, jvmCpuSeconds, postgresCpuSeconds, machineBusyShare, rssPeakMib, h,
                    busiestThreads, from, to);
        }

        double jvmCores() {
            return seconds > 0 ? jvmCpuSeconds / seconds : 0;
        }

        double postgresCores() {
            return seconds > 0 ? postgresCpuSeconds / seconds : 0;
        }
    }

    /** From the GC log: highest heap occupancy before a collection, highest after one, pauses. */
    record Heap(long peakUsedMib, long peakAfterGcMib, long committedMib, int pauses, double pauseMs, int fullGcs) {
    }

    /** One service thread's CPU over a phase, in cores (1.0: the thread ran all the time). */
    record ThreadCpu(String name, long tid, double cores) {
    }

    /** A point to measure from. */
    record Mark(long nanos, double jvmCpu, double pgCpu, long[] machine, long gcLogOffset,
                Map<Long, Map.Entry<String, Double>> threads, Instant at) {
    }

    private final Process process;
    private final Path gcLog;
    private final Path log;
    private final int port;
    private final String dataDir;
    private final String heap;
    /** When the JVM started: the GC log's uptime stamps count from here (a dead process no longer says). */
    private final Instant started;
    private long postmaster = -1;
    private volatile long rssPeakKib;
    private final Thread sampler;
    private volatile boolean sampling = true;

    private ServiceProcess(Process process, Path gcLog, Path log, int port, String dataDir, String heap) {
        this.process = process;
        this.gcLog = gcLog;
        this.log = log;
        this.port = port;
        this.dataDir = dataDir;
        this.heap = heap;
        this.started = process.info().startInstant().orElse(Instant.now());
        this.sampler = new Thread(this::sample, "bench-rss-sampler");
        this.sampler.setDaemon(true);
        this.sampler.start();
    }

    /**
     * Starts the service and waits until {@code /health/ready} answers 200.
     *
     * @param extraEnv further CORRELATOR_* settings (e.g. batching knobs), may be empty
     */
    static ServiceProcess start(Path jar, Path drlDir, String mispUrl, Path workDir, Path outDir, String heap,
                                List<String> jvmOptions, Map<String, String> extraEnv, Duration readyTimeout)
            throws IOException, InterruptedException {
        int port = freePort();
        // the embedded PostgreSQL runs as uid 65534 when we are root: every directory above its data must be searchable
        Path data = workDir.resolve("data");
        Files.createDirectories(data);
        setReadableByAll(workDir);
        setReadableByAll(data);
        Path gcLog = outDir.resolve("service-gc.log");
        Path log = outDir.resolve("service.log");
        Files.deleteIfExists(gcLog);
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx" + heap, "-Xlog:gc:file=" + gcLog));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString(), "serve"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        Map<String, String> env = pb.environment();
        // the caller's own CORRELATOR_* settings must not leak into a measured run
        env.keySet().removeIf(k -> k.startsWith("CORRELATOR_"));
        // an empty configuration file: the defaults, whatever config/correlator.yaml in the working directory says
        Path config = workDir.resolve("bench-correlator.yaml");
        Files.writeString(config, "# misp-correlator bench: every setting comes from CORRELATOR_* variables\n");
        env.put("CORRELATOR_CONFIG", config.toString());
        env.put("CORRELATOR_FEED_DIR", workDir.toString()); // unused with a MISP URL, but must exist
        env.put("CORRELATOR_HTTP_HOST", "127.0.0.1");
        env.put("CORRELATOR_HTTP_PORT", Integer.toString(port));
        env.put("CORRELATOR_MISP_URL", mispUrl);
        env.put("CORRELATOR_MISP_KEY", "bench-key");
        env.put("CORRELATOR_DATA_DIR", data.toString());
        env.put("CORRELATOR_DRL_DIR", drlDir.toAbsolutePath().toString());
        env.put("CORRELATOR_DRL_WATCH", "false");
        env.putAll(extraEnv);
        Process p = pb.start();
        // if the bench dies, the service (and through it its PostgreSQL) must not outlive it
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (p.isAlive()) {
                p.destroy();
            }
        }, "bench-stop-service"));
        ServiceProcess service = new ServiceProcess(p, gcLog, log, port, data.toString(), heap);
        try {
            service.awaitReady(readyTimeout);
        } catch (IOException | RuntimeException | InterruptedException e) {
            service.close();
            throw e;
        }
        service.postmaster = ProcStats.find("postgres", service.dataDir).orElse(-1);
        return service;
    }

    private static void setReadableByAll(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the service exited with status " + process.exitValue()
                        + " before it was ready; the end of " + log + ":\n" + tail(30));
            }
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/health/ready"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the service was not ready within " + timeout.toSeconds() + " s (last: " + last
                + "); the end of " + log + ":\n" + tail(30));
    }

    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    long postmasterPid() {
        return postmaster;
    }

    String heapOption() {
        return heap;
    }

    boolean alive() {
        return process.isAlive();
    }

    Mark mark() {
        rssPeakKib = ProcStats.statusKib(process.pid(), "VmRSS");
        long offset;
        try {
            offset = Files.exists(gcLog) ? Files.size(gcLog) : 0;
        } catch (IOException e) {
            offset = 0;
        }
        return new Mark(System.nanoTime(), ProcStats.cpuSeconds(process.pid()), ProcStats.postgresCpuSeconds(postmaster),
                ProcStats.machineTicks(), offset, ProcStats.threadCpuSeconds(process.pid()), Instant.now());
    }

    Usage since(Mark from) {
        Mark to = mark();
        double seconds = (to.nanos() - from.nanos()) / 1e9;
        long busy = to.machine()[0] - from.machine()[0];
        long total = to.machine()[1] - from.machine()[1];
        List<ThreadCpu> threads = new ArrayList<>();
        to.threads().forEach((tid, now) -> {
            Map.Entry<String, Double> then = from.threads().get(tid);
            double cpu = now.getValue() - (then == null ? 0 : then.getValue());
            if (seconds > 0 && cpu > 0) {
                threads.add(new ThreadCpu(now.getKey(), tid, cpu / seconds));
            }
        });
        threads.sort((a, b) -> Double.compare(b.cores(), a.cores()));
        return new Usage(seconds, to.jvmCpu() - from.jvmCpu(), to.pgCpu() - from.pgCpu(),
                total > 0 ? (double) busy / total : 0, peakRssMibSinceMark(), heap(from.gcLogOffset(), to.gcLogOffset()),
                List.copyOf(threads.subList(0, Math.min(6, threads.size()))), from.at(), to.at());
    }

    private static final Pattern GC_TIMED_LINE = Pattern.compile("^\\[(\\d+\\.\\d+)s\\].*", Pattern.MULTILINE);

    /**
     * Heap figures of the GC log lines (uptime-stamped) that fall between two instants. Read after the service
     * stopped: the JVM writes its log buffered.
     */
    Heap heapBetween(Instant from, Instant to) {
        if (started == null || !Files.exists(gcLog)) {
            return new Heap(0, 0, 0, 0, 0, 0);
        }
        StringBuilder inWindow = new StringBuilder();
        try {
            for (String line : Files.readAllLines(gcLog, StandardCharsets.UTF_8)) {
                Matcher m = GC_TIMED_LINE.matcher(line);
                if (m.matches()) {
                    Instant at = started.plusNanos((long) (Double.parseDouble(m.group(1)) * 1e9));
                    if (!at.isBefore(from) && !at.isAfter(to)) {
                        inWindow.append(line).append('\n');
                    }
                }
            }
        } catch (IOException e) {
            return new Heap(0, 0, 0, 0, 0, 0);
        }
        return heapOf(inWindow.toString());
    }

    private volatile long windowPeakKib;

    private long peakRssMibSinceMark() {
        long peak = Math.max(windowPeakKib, ProcStats.statusKib(process.pid(), "VmRSS"));
        windowPeakKib = 0;
        return peak / 1024;
    }

    /** The highest resident set size the JVM ever had (VmHWM). */
    long rssHighWaterMib() {
        return ProcStats.statusKib(process.pid(), "VmHWM") / 1024;
    }

    private void sample() {
        while (sampling) {
            long rss = ProcStats.statusKib(process.pid(), "VmRSS");
            if (rss > windowPeakKib) {
                windowPeakKib = rss;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Heap figures from the GC log lines between two byte offsets. */
    Heap heap(long from, long to) {
        if (!Files.exists(gcLog) || to <= from) {
            return new Heap(0, 0, 0, 0, 0, 0);
        }
        String text;
        try (RandomAccessFile f = new RandomAccessFile(gcLog.toFile(), "r")) {
            byte[] bytes = new byte[(int) (to - from)];
            f.seek(from);
            f.readFully(bytes);
            text = new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return new Heap(0, 0, 0, 0, 0, 0);
        }
        return heapOf(text);
    }

    private static Heap heapOf(String text) {
        long before = 0;
        long after = 0;
        long committed = 0;
        int pauses = 0;
        int full = 0;
        double pauseMs = 0;
        Matcher m = GC_LINE.matcher(text);
        while (m.find()) {
            pauses++;
            if (m.group(1).startsWith("Pause Full")) {
                full++;
            }
            before = Math.max(before, mib(m.group(2), m.group(3)));
            if (m.group(1).startsWith("Pause Young") || m.group(1).startsWith("Pause Full")) {
                // what survives a collection; Remark and Cleanup pauses free little and would overstate it
                after = Math.max(after, mib(m.group(4), m.group(5)));
            }
            committed = Math.max(committed, mib(m.group(6), m.group(7)));
            pauseMs += Double.parseDouble(m.group(8));
        }
        return new Heap(before, after, committed, pauses, pauseMs, full);
    }

    /** The whole run's heap figures. */
    Heap heapOverall() {
        try {
            return heap(0, Files.size(gcLog));
        } catch (IOException e) {
            return new Heap(0, 0, 0, 0, 0, 0);
        }
    }

    private static long mib(String n, String unit) {
        long v = Long.parseLong(n);
        return switch (unit) {
            case "K" -> v / 1024;
            case "G" -> v * 1024;
            default -> v;
        };
    }

    /** Runs {@code jcmd PID args…} (JFR.start, JFR.stop…) and returns what it printed. */
    String jcmd(String... args) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            throw new IOException("no jcmd in " + jcmd.getParent() + ": JFR needs a full JDK");
        }
        List<String> command = new ArrayList<>(List.of(jcmd.toString(), Long.toString(process.pid())));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("jcmd " + String.join(" ", args) + " did not finish");
        }
        return out;
    }

    @Override
    public void close() {
        sampling = false;
        sampler.interrupt();
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: the service closes its database cleanly
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        OptionalLong leftover = ProcStats.find("postgres", dataDir);
        leftover.ifPresent(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy));
    }
}
