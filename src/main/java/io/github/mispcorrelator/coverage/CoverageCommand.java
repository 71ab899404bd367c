package io.github.mispcorrelator.coverage;

import io.github.mispcorrelator.alert.AlertReader;
import io.github.mispcorrelator.cli.Cli;
import io.github.mispcorrelator.rules.RuleCompilationException;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleSetLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coverage FILE...}: the blind-spot report over archived alerts ({@code alerts.json}, plain or .gz), with the
 * rules of {@code --drl DIR}. Offline: no database, no MISP. Memory stays bounded (alerts are streamed; the report
 * keeps counts and one example per field).
 */
@Command(name = "coverage", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "Blind-spot report: which log families and fields no rule reads (alerts.json, .gz).",
        footer = {"Per log family (decoder · first rule group): alerts seen, alerts that gave indicators, and the "
                + "fields holding values shaped like global IPs, hashes, domains or URLs that no rule read, with counts "
                + "and one example each, biggest families first.",
                "Exit status: 0 done (bad lines are reported, not fatal), 1 a file could not be read or the rules do "
                + "not compile, 2 bad usage."})
public final class CoverageCommand implements Callable<Integer> {
    @Option(names = "--drl", paramLabel = "DIR", defaultValue = "drl",
            description = "the rules to measure (default: ${DEFAULT-VALUE})")
    private Path drl;
    @Option(names = "--json", description = "the report as JSON instead of a table")
    private boolean json;
    @Parameters(paramLabel = "FILE", arity = "1..*", description = "an alerts.json (one alert per line), plain or .gz")
    private List<Path> files;

    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;

    public CoverageCommand(PrintStream out, PrintStream err, boolean terminal) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public int run(List<String> args) {
        return Cli.run(this, args, out, err);
    }

    @Override
    public Integer call() {
        RuleSet rules;
        try {
            rules = RuleSetLoader.load(drl);
        } catch (RuleCompilationException e) {
            err.println(e.getMessage());
            return 1;
        }
        try {
            CoverageReport report = new CoverageReport();
            long total = 0;
            for (Path f : files) {
                total += Files.size(f);
            }
            Progress progress = new Progress(total);
            long base = 0;
            long[] bad = {0};
            for (Path f : files) {
                long offset = base;
                AlertReader.read(f, alert -> report.add(alert, rules), line -> {
                    bad[0]++;
                    err.println("skipped " + line);
                }, n -> progress.update(offset + n, report.alerts()));
                base += Files.size(f);
            }
            progress.finish();
            out.print(json ? report.toJson().encodePrettily() + "\n" : report.toText());
            if (bad[0] > 0) {
                err.println(bad[0] + " line(s) were not valid alerts and were skipped");
            }
            return 0;
        } catch (IOException e) {
            err.println("cannot read: " + e.getMessage());
            return 1;
        } finally {
            rules.dispose();
        }
    }

    /** A bar on a terminal (on stderr, so the report on stdout can be redirected); nothing otherwise. */
    private final class Progress {
        private final long totalBytes;
        private long lastPrint;

        Progress(long totalBytes) {
            this.totalBytes = Math.max(1, totalBytes);
        }

        void update(long bytes, long alerts) {
            long now = System.nanoTime();
            if (!terminal || now - lastPrint < 200_000_000L) {
                return;
            }
            lastPrint = now;
            double fraction = Math.min(1.0, (double) bytes / totalBytes);
            int width = 30;
            int filled = (int) Math.round(fraction * width);
            err.printf(Locale.ROOT, "\r[%s%s] %5.1f%%  %,d alerts   ", "#".repeat(filled), " ".repeat(width - filled),
                    fraction * 100, alerts);
        }

        void finish() {
            if (terminal && lastPrint != 0) {
                err.println();
            }
        }
    }
}
