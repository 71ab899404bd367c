package io.github.mispcorrelator.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13, item 6: the service jar's command line, read by picocli — {@code --version} anywhere, generated help,
 * and the exit statuses of before (0 done, 2 a wrong command line). Each command's own statuses are tested with the
 * command (TestRulesCommandTest, ReplayIT, CheckConfigIT, CoverageReportTest); this is the dispatch in {@code Main}.
 */
class CommandLineIT {
    private static final Path SERVICE_JAR = Path.of("target/misp-correlator.jar");

    @Test
    void versionBeforeOrAfterACommand() throws Exception {
        for (List<String> args : List.of(List.of("--version"), List.of("version"), List.of("replay", "--version"),
                List.of("test-rules", "-V"))) {
            Run r = run(args);
            assertThat(r.status()).as(args + ": " + r.output()).isZero();
            assertThat(r.output()).as(args.toString()).matches("misp-correlator \\S+\\R");
        }
    }

    @Test
    void helpListsEveryCommand() throws Exception {
        Run help = run(List.of("--help"));
        assertThat(help.status()).isZero();
        assertThat(help.output()).contains("Usage: misp-correlator", "serve", "test-rules", "replay", "coverage",
                "check-config", "bench");
        Run replay = run(List.of("help", "replay"));
        assertThat(replay.status()).isZero();
        assertThat(replay.output()).contains("Usage: misp-correlator replay", "--send", "--socket=PATH",
                "--concurrency=N", "FILE...");
    }

    @Test
    void aWrongCommandLineExitsWithTwo() throws Exception {
        for (List<String> args : List.of(List.of("nope"), List.of("test-rules", "--nope", "x.json"),
                List.of("coverage"), List.of("check-config", "extra"), List.of("replay", "--concurrency", "many", "x"))) {
            Run r = run(args);
            assertThat(r.status()).as(args + ": " + r.output()).isEqualTo(2);
            assertThat(r.output()).as(args.toString()).contains("Usage: misp-correlator");
        }
    }

    private record Run(int status, String output) {
    }

    private static Run run(List<String> args) throws Exception {
        assertThat(SERVICE_JAR).as("built by the package phase").isRegularFile();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-jar", SERVICE_JAR.toString()));
        command.addAll(args);
        Path log = Files.createTempFile("command-line-", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not end within 60 s");
            }
            return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
