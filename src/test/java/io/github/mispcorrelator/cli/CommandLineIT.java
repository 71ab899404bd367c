package io.github.mispcorrelator.cli;

import io.github.mispcorrelator.support.JavaRun;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
            JavaRun r = run(args);
            assertThat(r.status()).as(args + ": " + r.output()).isZero();
            assertThat(r.output()).as(args.toString()).matches("misp-correlator \\S+\\R");
        }
    }

    @Test
    void helpListsEveryCommand() throws Exception {
        JavaRun help = run(List.of("--help"));
        assertThat(help.status()).isZero();
        assertThat(help.output()).contains("Usage: misp-correlator", "serve", "test-rules", "replay", "coverage",
                "check-config", "bench");
        JavaRun replay = run(List.of("help", "replay"));
        assertThat(replay.status()).isZero();
        assertThat(replay.output()).contains("Usage: misp-correlator replay", "--send", "--socket=PATH",
                "--concurrency=N", "FILE...");
    }

    @Test
    void aWrongCommandLineExitsWithTwo() throws Exception {
        for (List<String> args : List.of(List.of("nope"), List.of("test-rules", "--nope", "x.json"),
                List.of("coverage"), List.of("check-config", "extra"), List.of("replay", "--concurrency", "many", "x"))) {
            JavaRun r = run(args);
            assertThat(r.status()).as(args + ": " + r.output()).isEqualTo(2);
            assertThat(r.output()).as(args.toString()).contains("Usage: misp-correlator");
        }
    }

    private static JavaRun run(List<String> args) throws Exception {
        assertThat(SERVICE_JAR).as("built by the package phase").isRegularFile();
        List<String> command = new ArrayList<>(List.of("-jar", SERVICE_JAR.toString()));
        command.addAll(args);
        return JavaRun.of(command);
    }
}
