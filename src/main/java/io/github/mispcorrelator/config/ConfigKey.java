package io.github.mispcorrelator.config;

import java.util.Locale;
import java.util.function.Function;

/**
 * One configuration key, declared once: its name, default, how a text value becomes a typed value, and what it is
 * for. The YAML key is the lower-case name ({@code http_port}); the environment variable is
 * {@code CORRELATOR_} + the upper-case name ({@code CORRELATOR_HTTP_PORT}).
 *
 * @param parser turns the text into a value or throws {@link IllegalArgumentException} with a message that says
 *               what was expected; it is never called with {@code null}
 */
public record ConfigKey<T>(String name, String defaultValue, Function<String, T> parser, String description) {

    public String yamlKey() {
        return name.toLowerCase(Locale.ROOT);
    }

    public String envVar() {
        return "CORRELATOR_" + name;
    }

    /** Whether the value must never appear in logs or error messages. */
    public boolean secret() {
        return name.endsWith("PASSWORD") || name.endsWith("_KEY") || name.endsWith("TOKEN");
    }
}
