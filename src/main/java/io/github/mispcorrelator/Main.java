package io.github.mispcorrelator;

import io.github.mispcorrelator.config.Version;

import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.rules.RuleCompilationException;
import io.github.mispcorrelator.ingest.ReplayCommand;
import io.github.mispcorrelator.ruletest.TestRulesCommand;

import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar misp-correlator.jar [serve]}: runs the service until stopped. A start-up failure prints one
 * message that says what to fix, and exits with status 1.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        String command = args.length == 0 ? "serve" : args[0];
        if (java.util.Arrays.asList(args).contains("--version") || command.equals("version")) {
            System.out.println("misp-correlator " + Version.CORRELATOR);
            System.exit(0);
        }
        switch (command) {
            case "serve" -> serve();
            case "check-config" -> {
                quietLogs();
                System.exit(new io.github.mispcorrelator.check.CheckConfigCommand(System.out, System.getenv())
                        .run(java.util.Arrays.asList(args).subList(1, args.length)));
            }
            case "test-rules" -> {
                quietLogs();
                try {
                    System.exit(new TestRulesCommand(System.out, System.err)
                            .run(java.util.Arrays.asList(args).subList(1, args.length)));
                } catch (ConfigException e) {
                    System.err.println(e.getMessage());
                    System.exit(2);
                }
            }
            case "replay" -> {
                quietLogs();
                try {
                    System.exit(new ReplayCommand(System.out, System.err, System.console() != null)
                            .run(java.util.Arrays.asList(args).subList(1, args.length)));
                } catch (ConfigException e) {
                    System.err.println(e.getMessage());
                    System.exit(2);
                }
            }
            case "coverage" -> {
                quietLogs();
                System.exit(new io.github.mispcorrelator.coverage.CoverageCommand(System.out, System.err,
                        System.console() != null).run(java.util.Arrays.asList(args).subList(1, args.length)));
            }
            case "bench" -> {
                quietLogs();
                System.exit(new io.github.mispcorrelator.bench.BenchCommand(System.out, System.err)
                        .run(java.util.Arrays.asList(args).subList(1, args.length)));
            }
            case "-h", "--help", "help" -> usage(0);
            default -> {
                System.err.println("unknown command: " + command);
                usage(2);
            }
        }
    }

    private static void usage(int status) {
        System.out.println("""
                usage: java -jar misp-correlator.jar [serve]
                       java -jar misp-correlator.jar test-rules [--drl DIR] [--feed DIR] [--json] ALERT.json...
                       java -jar misp-correlator.jar test-rules --golden [--drl DIR]
                       java -jar misp-correlator.jar replay [--send] [--socket PATH] FILE...
                       java -jar misp-correlator.jar coverage [--drl DIR] [--json] FILE...
                       java -jar misp-correlator.jar bench [--help]
                       java -jar misp-correlator.jar check-config
                       java -jar misp-correlator.jar --version      (also after any command)

                  serve       run the service (the default); configuration from config/correlator.yaml
                              (or CORRELATOR_CONFIG) and CORRELATOR_* environment variables, see
                              docs/configuration.md
                  test-rules  run alerts through the DRL offline, like wazuh-logtest; see drl/README.md
                  replay      retro-hunt: re-check archived alerts.json files (plain or .gz) against MISP
                  coverage    blind-spot report: which log families and fields no rule reads (alerts.json, .gz)
                  bench       load benchmark with baselines, see README, Performance
                  check-config  check the configuration, rules, database, MISP and Wazuh paths; exit 1 on a problem
                """);
        System.exit(status);
    }

    /** Commands print their own results; library chatter would bury them. */
    private static void quietLogs() {
        org.slf4j.Logger root = org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    private static void serve() {
        CorrelatorService service;
        try {
            CorrelatorConfig config = CorrelatorConfig.load();
            LogFormat.apply(config);
            service = CorrelatorService.start(config);
        } catch (ConfigException | RuleCompilationException e) {
            System.err.println("misp-correlator cannot start. " + e.getMessage());
            System.exit(1);
            return;
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("misp-correlator cannot start: " + e.getMessage());
            System.exit(1);
            return;
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
    }
}
