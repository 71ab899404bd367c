package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.audit.Retention;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.cli.Cli;
import io.github.mispcorrelator.metrics.Metrics;
import io.github.mispcorrelator.misp.LookupService;
import io.github.mispcorrelator.misp.LookupSettings;
import io.github.mispcorrelator.misp.MultiMispSource;
import io.github.mispcorrelator.alert.AlertReader;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispClient;
import io.github.mispcorrelator.misp.MispInstances;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.MispSource;
import io.github.mispcorrelator.rules.RuleManager;
import io.github.mispcorrelator.store.Database;
import io.github.mispcorrelator.correlate.Origin;
import io.github.mispcorrelator.store.PostgresHitStore;
import io.github.mispcorrelator.correlate.EventSink;
import io.github.mispcorrelator.wazuh.AnalysisdSocket;
import io.vertx.core.Vertx;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code replay FILE...}: a retro-hunt. Re-checks archived alerts ({@code alerts.json}, plain or {@code .gz}) against
 * today's MISP, for indicators that arrived after the fact. Hits are stored as {@code retro-hunt} hits with the same
 * idempotency as live ones (replaying twice adds nothing); events go to Wazuh only with {@code --send}.
 */
@Command(name = "replay", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "Retro-hunt: re-check archived alerts.json files (plain or .gz) against MISP.",
        footer = {"The database, MISP and rules are those of the configuration (config/correlator.yaml, "
                + "CORRELATOR_*).",
                "Exit status: 0 done (bad lines are reported, not fatal), 1 a file could not be read, start-up failed "
                + "or an alert failed, 2 bad usage, 3 MISP could not check some values (they wait in recheck_queue)."})
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--send", description = "also send each hit's event to analysisd (default: store the hits only)")
    private boolean send;
    @Option(names = "--socket", paramLabel = "PATH", description = "analysisd's socket (default: analysisd_socket of "
            + "the configuration, else /var/ossec/queue/sockets/queue)")
    private Path socket;
    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "64",
            description = "alerts in flight at once, 1 to 4096 (default ${DEFAULT-VALUE})")
    private int concurrency;
    @Parameters(paramLabel = "FILE", arity = "1..*", description = "an alerts.json (one alert per line), plain or "
            + ".gz, e.g. /var/ossec/logs/alerts/2025/Aug/*.json.gz")
    private List<Path> files;
    @Spec
    private CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;
    /** The configuration to use, or null to load it (file and environment). */
    private CorrelatorConfig given;

    public ReplayCommand(PrintStream out, PrintStream err, boolean terminal) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    /** What a replay found. */
    record Summary(long alerts, long badLines, long indicators, Map<String, Long> hitsByType, long failed,
                   long unchecked) {
    }

    public int run(List<String> args) {
        return run(args, null);
    }

    /** @param given the configuration to use, or null to load it (file and environment) */
    public int run(List<String> args, CorrelatorConfig given) {
        this.given = given;
        return Cli.run(this, args, out, err);
    }

    @Override
    public Integer call() {
        if (concurrency < 1 || concurrency > 4096) {
            throw new ParameterException(spec.commandLine(), "--concurrency takes a number from 1 to 4096");
        }
        for (Path f : files) {
            if (!Files.isReadable(f)) {
                err.println("cannot read " + f);
                return 1;
            }
        }
        Path socket = this.socket;
        CorrelatorConfig config = given != null ? given : CorrelatorConfig.load();
        if (send && socket == null) {
            socket = config.find(CorrelatorConfig.ANALYSISD_SOCKET).orElse(Path.of("/var/ossec/queue/sockets/queue"));
        }
        Vertx vertx = Vertx.vertx();
        try (Database db = Database.open(config);
             RuleManager rules = new RuleManager(config.get(CorrelatorConfig.DRL_DIR), vertx);
             AnalysisdSocket analysisd = send ? AnalysisdSocket.open(socket) : null) {
            MispSource misp = mispSource(vertx, config);
            Correlator correlator = new Correlator(rules, misp,
                    new PostgresHitStore(db.dataSource(), vertx.createSharedWorkerExecutor("replay-jdbc", db.poolSize())));
            out.println("Retro-hunt with rules " + rules.get().version() + " against " + misp.name()
                    + (send ? ", sending events to " + socket : ", storing hits only (no --send)"));
            Summary s = replay(files, correlator, analysisd == null ? EventSink.NONE : analysisd, concurrency);
            try {
                // archived alerts belong to old months: give their hits their monthly partitions now
                new Retention(db.dataSource(), config.get(CorrelatorConfig.RETENTION_DAYS)).runNow();
            } catch (RuntimeException e) { // the database failed (store.Jdbc translates it)
                err.println("hits stored; placing them in their monthly partitions waits for the service: " + e.getMessage());
            }
            printSummary(s);
            if (s.unchecked() > 0) {
                err.println(s.unchecked() + " alert(s) had values MISP could not check (see the errors above); they"
                        + " wait in recheck_queue for the service, or replay again once MISP answers");
                return 3;
            }
            return s.failed() > 0 ? 1 : 0;
        } catch (IOException e) {
            err.println("replay stopped: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            err.println("replay cannot run: " + e.getMessage());
            return 1;
        } finally {
            vertx.close();
        }
    }

    /** The lookup layer (cache, batching, breaker) in front of each MISP: an archive repeats its values a lot. */
    private static MispSource mispSource(Vertx vertx, CorrelatorConfig config) {
        List<MispSettings> instances = MispInstances.from(config);
        if (instances.isEmpty()) {
            return FeedSource.load(config.get(CorrelatorConfig.FEED_DIR), MispSettings.from(config));
        }
        LookupSettings lookup = LookupSettings.from(config);
        Metrics metrics = new Metrics();
        List<MispSource> sources = instances.stream().<MispSource>map(s -> new LookupService(vertx,
                new MispClient(vertx, s), s, lookup, metrics.registry(), () -> { })).toList();
        return sources.size() == 1 ? sources.get(0) : new MultiMispSource(sources);
    }

    Summary replay(List<Path> files, Correlator correlator, EventSink events, int concurrency) throws IOException {
        long totalBytes = 0;
        for (Path f : files) {
            totalBytes += Files.size(f);
        }
        Semaphore inFlight = new Semaphore(concurrency);
        AtomicLong alerts = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        AtomicLong indicators = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong unchecked = new AtomicLong();
        AtomicLong done = new AtomicLong();
        Map<String, Long> hitsByType = new ConcurrentHashMap<>();
        Progress progress = new Progress(totalBytes);
        long bytesBefore = 0;
        for (Path f : files) {
            long base = bytesBefore;
            AlertReader.read(f, alert -> {
                inFlight.acquireUninterruptibly();
                alerts.incrementAndGet();
                correlator.process(alert, Origin.RETRO_HUNT)
                        .compose(c -> events.deliver(c).map(c))
                        .onComplete(ar -> {
                            if (ar.succeeded()) {
                                Correlation c = ar.result();
                                indicators.addAndGet(c.indicators().size());
                                if (!c.lookupErrors().isEmpty()) {
                                    unchecked.incrementAndGet();
                                }
                                for (Hit h : c.hits()) {
                                    hitsByType.merge(h.getType(), 1L, Long::sum);
                                }
                            } else {
                                failed.incrementAndGet();
                                err.println("\nalert " + alert.getId() + " failed: " + ar.cause().getMessage());
                            }
                            done.incrementAndGet();
                            inFlight.release();
                        });
            }, badLine -> {
                bad.incrementAndGet();
                err.println((terminal ? "\n" : "") + "bad line " + badLine);
            }, n -> progress.update(base + n, done.get()));
            bytesBefore += Files.size(f);
        }
        inFlight.acquireUninterruptibly(concurrency);
        progress.finish(done.get());
        return new Summary(alerts.get(), bad.get(), indicators.get(), new TreeMap<>(hitsByType), failed.get(),
                unchecked.get());
    }

    /** A bar with alerts/s and ETA on a terminal; a line every 5 s otherwise (logs, CI). */
    private final class Progress {
        private final long totalBytes;
        private final long started = System.nanoTime();
        private long lastPrint;

        Progress(long totalBytes) {
            this.totalBytes = Math.max(1, totalBytes);
        }

        synchronized void update(long bytes, long alertsDone) {
            long now = System.nanoTime();
            long every = terminal ? 200_000_000L : 5_000_000_000L;
            if (now - lastPrint < every) {
                return;
            }
            lastPrint = now;
            double seconds = Math.max(0.001, (now - started) / 1e9);
            double fraction = Math.min(1.0, (double) bytes / totalBytes);
            long rate = Math.round(alertsDone / seconds);
            long eta = fraction > 0 ? Math.round(seconds / fraction - seconds) : -1;
            if (terminal) {
                int width = 30;
                int filled = (int) Math.round(fraction * width);
                out.printf(Locale.ROOT, "\r[%s%s] %5.1f%%  %,d alerts  %,d alerts/s  ETA %s   ",
                        "#".repeat(filled), " ".repeat(width - filled), fraction * 100, alertsDone, rate, duration(eta));
            } else {
                out.printf(Locale.ROOT, "progress: %.1f%% of input, %d alerts, %d alerts/s, ETA %s%n",
                        fraction * 100, alertsDone, rate, duration(eta));
            }
        }

        synchronized void finish(long alertsDone) {
            double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
            if (terminal) {
                out.println();
            }
            out.printf(Locale.ROOT, "done: %d alerts in %.1f s (%d alerts/s)%n", alertsDone, seconds,
                    Math.round(alertsDone / seconds));
        }

        private String duration(long s) {
            return s < 0 ? "?" : s >= 3600 ? (s / 3600) + "h" + (s % 3600 / 60) + "m" : s >= 60 ? (s / 60) + "m" + (s % 60) + "s" : s + "s";
        }
    }

    private void printSummary(Summary s) {
        out.println("Retro-hunt summary");
        out.printf("  alerts read      %d%n", s.alerts());
        out.printf("  bad lines        %d%n", s.badLines());
        out.printf("  failed alerts    %d%n", s.failed());
        out.printf("  unchecked alerts %d%n", s.unchecked());
        out.printf("  indicators       %d%n", s.indicators());
        long total = s.hitsByType().values().stream().mapToLong(Long::longValue).sum();
        out.printf("  hits             %d%n", total);
        s.hitsByType().forEach((type, n) -> out.printf("    %-8s       %d%n", type, n));
    }
}
