package io.github.mispcorrelator.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code docs/configuration.md}, generated from {@link CorrelatorConfig#KEYS}: every key's YAML name, environment
 * variable, default and description. {@code ConfigurationDocTest} fails when the file is stale; regenerate it with
 * {@code mvn -o -q test -Dtest=ConfigurationDocTest -Dconfig.doc.update=true}, or run this class with the file as
 * argument.
 */
public final class ConfigurationDoc {
    public static final Path FILE = Path.of("docs/configuration.md");

    private ConfigurationDoc() {
    }

    public static String render() {
        StringBuilder md = new StringBuilder();
        md.append("""
                # Configuration reference

                <!-- Generated from src/main/java/io/github/mispcorrelator/config/CorrelatorConfig.java by ConfigurationDoc;
                     do not edit: ConfigurationDocTest fails when this file is stale. Regenerate with
                     mvn -o -q test -Dtest=ConfigurationDocTest -Dconfig.doc.update=true -->

                Every key is read from the configuration file and overridden by its environment variable. The file is
                `CORRELATOR_CONFIG` when set, else `config/correlator.yaml` — in the install directory when started by
                `bin/misp-correlator` (the tarball; the package uses `/etc/misp-correlator/correlator.yaml`), in the
                working directory when the jar is run by hand. A wrong value stops start-up (and fails
                `misp-correlator check-config`) with one message naming every bad key.

                Relative paths: a path from the file or an environment variable is relative to the configuration
                file's directory; a default is relative to the install directory. With neither a file nor a launcher
                (`java -jar target/misp-correlator.jar` in a checkout without `config/`), relative to the working
                directory.

                Secrets (marked 🔒) are never logged or shown in error messages; keep them out of the file, in the
                environment (the package's `/etc/misp-correlator/correlator.env`, mode 0640).

                | key (YAML) | environment variable | default | description |
                |---|---|---|---|
                """);
        for (ConfigKey<?> key : CorrelatorConfig.KEYS) {
            md.append("| `").append(key.yamlKey()).append('`').append(key.secret() ? " 🔒" : "")
                    .append(" | `").append(key.envVar()).append('`')
                    .append(" | ").append(key.defaultValue() == null ? "unset" : "`" + key.defaultValue() + "`")
                    .append(" | ").append(key.description().replace("|", "\\|")).append(" |\n");
        }
        return md.toString();
    }

    public static void main(String[] args) throws IOException {
        Path file = args.length > 0 ? Path.of(args[0]) : FILE;
        Files.writeString(file, render(), StandardCharsets.UTF_8);
        System.out.println("wrote " + file.toAbsolutePath());
    }
}
