package io.github.mispcorrelator.cli;

import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.config.Version;
import picocli.CommandLine;
import picocli.CommandLine.IVersionProvider;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How every command reads its command line (picocli): {@code -h}/{@code --help} and {@code -V}/{@code --version} on
 * each, usage generated from the annotations, and the exit statuses the commands document: 0 done, 2 a wrong
 * command line (picocli's own), 2 a configuration that does not load, 1 anything else that breaks.
 */
public final class Cli {
    private Cli() {
    }

    /** {@code misp-correlator <version>}, as {@code --version} prints it after any command. */
    public static final class VersionProvider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"misp-correlator " + Version.CORRELATOR};
        }
    }

    /** A picocli command line for {@code command} that prints to these streams. */
    public static CommandLine commandLine(Object command, PrintStream out, PrintStream err) {
        CommandLine commandLine = new CommandLine(command);
        commandLine.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        commandLine.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        commandLine.setExecutionExceptionHandler((e, failed, parsed) -> {
            if (e instanceof ConfigException) {
                // a configuration the command cannot run with: what to fix, as start-up says it, not a trace
                failed.getErr().println(e.getMessage());
                return CommandLine.ExitCode.USAGE;
            }
            throw e;
        });
        return commandLine;
    }

    /** Parses {@code args} for {@code command}, runs it, and returns its exit status. */
    public static int run(Object command, List<String> args, PrintStream out, PrintStream err) {
        return commandLine(command, out, err).execute(args.toArray(String[]::new));
    }
}
