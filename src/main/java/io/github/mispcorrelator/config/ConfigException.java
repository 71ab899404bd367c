package io.github.mispcorrelator.config;

import java.util.List;

/** Start-up stops with this: every invalid key at once, each named, so one edit fixes them all. */
public class ConfigException extends RuntimeException {
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super("Invalid configuration:\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
