package io.github.mispcorrelator;

import ch.qos.logback.classic.Level;
import io.github.mispcorrelator.check.CheckConfigCommand;
import io.github.mispcorrelator.cli.Cli;
import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.coverage.CoverageCommand;
import io.github.mispcorrelator.ingest.ReplayCommand;
import io.github.mispcorrelator.rules.RuleCompilationException;
import io.github.mispcorrelator.ruletest.TestRulesCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Unmatched;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar misp-correlator.jar [serve]}: runs the service until stopped. A start-up failure prints one
 * message that says what to fix, and exits with status 1. The other commands (offline tools beside the service) are
 * picocli subcommands, each in the package of what it works on; this class only dispatches, so nothing depends on it.
 */
@Command(name = "misp-correlator", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "Correlates Wazuh alerts with MISP threat intelligence. Without a command: serve.",
        subcommands = HelpCommand.class,
        footer = {"", "Configuration: config/correlator.yaml (or CORRELATOR_CONFIG) and CORRELATOR_* environment "
                + "variables, see docs/configuration.md. --version works after any command too."})
public final class Main implements Callable<Integer> {
    /** Set once {@code serve} has run: its return means the JVM is already shutting down. */
    private boolean served;

    private Main() {
    }

    public static void main(String[] args) {
        Main main = new Main();
        boolean terminal = System.console() != null;
        CommandLine commandLine = Cli.commandLine(main, System.out, System.err)
                .addSubcommand(new TestRulesCommand(System.out, System.err))
                .addSubcommand(new ReplayCommand(System.out, System.err, terminal))
                .addSubcommand(new CoverageCommand(System.out, System.err, terminal))
                .addSubcommand(new CheckConfigCommand(System.out, System.getenv()))
                .addSubcommand(new BenchMoved());
        commandLine.setExecutionStrategy(parsed -> {
            ParseResult command = parsed.subcommand();
            if (command != null && !command.commandSpec().name().equals("serve")) {
                quietLogs();
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        int status = commandLine.execute(args);
        if (!main.served) {
            // the commands end here, whatever threads (Vert.x, the embedded database) they leave behind
            System.exit(status);
        }
    }

    /** No command: serve. */
    @Override
    public Integer call() {
        return serve();
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
            description = "Run the service (the default); configuration from config/correlator.yaml (or "
                    + "CORRELATOR_CONFIG) and CORRELATOR_* environment variables, see docs/configuration.md.",
            footer = "Exit status: 1 when it cannot start (the message says what to fix).")
    int serve() {
        CorrelatorService service;
        try {
            CorrelatorConfig config = CorrelatorConfig.load();
            LogFormat.apply(config);
            service = CorrelatorService.start(config);
        } catch (ConfigException | RuleCompilationException e) {
            System.err.println("misp-correlator cannot start. " + e.getMessage());
            return 1;
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("misp-correlator cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        served = true;
        return 0;
    }

    /** Kept from before picocli: {@code misp-correlator version} prints what {@code --version} does. */
    @Command(name = "version", hidden = true)
    int version() {
        System.out.println(new Cli.VersionProvider().getVersion()[0]);
        return 0;
    }

    /** The load benchmark left the service jar; {@code bench} says where it went. */
    @Command(name = "bench", description = "the load benchmark is its own jar now: see README, Performance")
    static final class BenchMoved implements Callable<Integer> {
        @Unmatched
        private List<String> ignored;

        @Override
        public Integer call() {
            System.err.println("""
                    the benchmark is no longer part of the service jar; it is its own jar, built beside it:
                      java -jar target/misp-correlator-bench.jar [options]     (--help lists them; see README, Performance)""");
            return CommandLine.ExitCode.USAGE;
        }
    }

    /** Commands print their own results; library chatter would bury them. */
    private static void quietLogs() {
        Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(Level.WARN);
        }
    }
}
