package io.github.mispcorrelator.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The service's configuration: every key declared once below with its default and validation. Values come from
 * {@code config/correlator.yaml} (or the file named by {@code CORRELATOR_CONFIG}), and each is overridden by its
 * {@code CORRELATOR_<KEY>} environment variable. {@link #load} reports every invalid value together.
 */
public final class CorrelatorConfig {

    public static final ConfigKey<String> HTTP_HOST = new ConfigKey<>("HTTP_HOST", "127.0.0.1", Parsers.TEXT,
            "Address the HTTP API listens on.");
    public static final ConfigKey<Integer> HTTP_PORT = new ConfigKey<>("HTTP_PORT", "8080", Parsers.intBetween(0, 65535),
            "Port the HTTP API listens on (0 picks a free port).");
    public static final ConfigKey<Long> HTTP_BODY_LIMIT = new ConfigKey<>("HTTP_BODY_LIMIT", "1m", Parsers.BYTES,
            "Largest request body accepted; larger bodies get 413.");
    public static final ConfigKey<Long> HTTP_BATCH_BODY_LIMIT = new ConfigKey<>("HTTP_BATCH_BODY_LIMIT", "16m", Parsers.BYTES,
            "Largest body of POST /v1/alerts/batch; larger bodies get 413.");
    public static final ConfigKey<String> MISP_URL = new ConfigKey<>("MISP_URL", null, Parsers.HTTP_URL,
            "Base URL of the MISP server. Unset: indicators are looked up in FEED_DIR instead.");
    public static final ConfigKey<String> MISP_KEY = new ConfigKey<>("MISP_KEY", null, Parsers.TEXT,
            "MISP automation key, sent as the Authorization header.");
    public static final ConfigKey<Boolean> MISP_VERIFY_TLS = new ConfigKey<>("MISP_VERIFY_TLS", "true", Parsers.BOOLEAN,
            "Verify MISP's TLS certificate and host name.");
    public static final ConfigKey<Duration> MISP_TIMEOUT = new ConfigKey<>("MISP_TIMEOUT", "10s", Parsers.DURATION_PARSER,
            "Longest wait for one MISP request.");
    public static final ConfigKey<Boolean> MISP_TO_IDS = new ConfigKey<>("MISP_TO_IDS", "true", Parsers.BOOLEAN,
            "Match only attributes flagged for detection (to_ids).");
    public static final ConfigKey<Boolean> MISP_PUBLISHED = new ConfigKey<>("MISP_PUBLISHED", "true", Parsers.BOOLEAN,
            "Match only attributes of published events.");
    public static final ConfigKey<Path> FEED_DIR = new ConfigKey<>("FEED_DIR", "config/demo-feed", Parsers.EXISTING_DIR,
            "MISP feed directory (manifest.json + one event file per event) used when MISP_URL is unset.");
    public static final ConfigKey<String> DB_URL = new ConfigKey<>("DB_URL", null, Parsers.JDBC_URL,
            "PostgreSQL JDBC URL. Unset: an embedded PostgreSQL keeps its data under DATA_DIR.");
    public static final ConfigKey<String> DB_USER = new ConfigKey<>("DB_USER", null, Parsers.TEXT,
            "PostgreSQL user (with DB_URL).");
    public static final ConfigKey<String> DB_PASSWORD = new ConfigKey<>("DB_PASSWORD", null, Parsers.TEXT,
            "PostgreSQL password (with DB_URL).");
    public static final ConfigKey<Integer> DB_POOL_SIZE = new ConfigKey<>("DB_POOL_SIZE", "4", Parsers.intBetween(1, 64),
            "Connections in the pool; the JDBC worker pool has the same size.");
    public static final ConfigKey<Path> DATA_DIR = new ConfigKey<>("DATA_DIR", "./data", Parsers.PATH,
            "Where the embedded PostgreSQL keeps its data (kept across restarts).");
    public static final ConfigKey<Path> DRL_DIR = new ConfigKey<>("DRL_DIR", "./drl", Parsers.EXISTING_DIR,
            "Directory of the Drools rules (*.drl) that extract and score indicators.");

    public static final ConfigKey<Boolean> DRL_WATCH = new ConfigKey<>("DRL_WATCH", "true", Parsers.BOOLEAN,
            "Reload the rules when a file under DRL_DIR changes.");
    public static final ConfigKey<Duration> DRL_RELOAD_DEBOUNCE = new ConfigKey<>("DRL_RELOAD_DEBOUNCE", "500ms",
            Parsers.DURATION_PARSER, "Quiet time after the last file change before reloading.");

    public static final List<ConfigKey<?>> KEYS = List.of(HTTP_HOST, HTTP_PORT, HTTP_BODY_LIMIT, HTTP_BATCH_BODY_LIMIT, MISP_URL, MISP_KEY,
            MISP_VERIFY_TLS, MISP_TIMEOUT, MISP_TO_IDS, MISP_PUBLISHED, FEED_DIR, DB_URL, DB_USER, DB_PASSWORD,
            DB_POOL_SIZE, DATA_DIR, DRL_DIR, DRL_WATCH, DRL_RELOAD_DEBOUNCE);

    public static final String CONFIG_FILE_ENV = "CORRELATOR_CONFIG";
    public static final Path DEFAULT_CONFIG_FILE = Path.of("config/correlator.yaml");

    private final Map<ConfigKey<?>, Object> values;

    private CorrelatorConfig(Map<ConfigKey<?>, Object> values) {
        this.values = values;
    }

    /** Loads from the default file (if present) and the process environment. */
    public static CorrelatorConfig load() {
        return load(System.getenv());
    }

    public static CorrelatorConfig load(Map<String, String> env) {
        String explicit = env.get(CONFIG_FILE_ENV);
        Path file = explicit != null ? Path.of(explicit) : DEFAULT_CONFIG_FILE;
        if (explicit != null && !Files.isRegularFile(file)) {
            throw new ConfigException(List.of(CONFIG_FILE_ENV + ": no such file: " + file.toAbsolutePath()));
        }
        return load(Files.isRegularFile(file) ? file : null, env);
    }

    /**
     * @param file a YAML file of {@code key: value} pairs, or {@code null} for none
     * @param env  environment variables; {@code CORRELATOR_<KEY>} wins over the file
     */
    public static CorrelatorConfig load(Path file, Map<String, String> env) {
        List<String> problems = new ArrayList<>();
        Map<String, String> fromFile = file == null ? Map.of() : readYaml(file, problems);
        Map<ConfigKey<?>, Object> values = new HashMap<>();
        for (ConfigKey<?> key : KEYS) {
            String source;
            String raw;
            if (env.containsKey(key.envVar())) {
                raw = env.get(key.envVar());
                source = key.envVar();
            } else if (fromFile.containsKey(key.yamlKey())) {
                raw = fromFile.get(key.yamlKey());
                source = key.yamlKey() + " in " + file;
            } else {
                raw = key.defaultValue();
                source = key.yamlKey() + " (default)";
            }
            if (raw == null || raw.isBlank()) {
                continue;
            }
            try {
                values.put(key, key.parser().apply(raw));
            } catch (IllegalArgumentException e) {
                String shown = key.secret() ? "****" : "'" + raw + "'";
                problems.add(key.envVar() + " (" + source + ") = " + shown + ": " + e.getMessage());
            }
        }
        Map<String, String> unknown = new LinkedHashMap<>(fromFile);
        KEYS.forEach(k -> unknown.remove(k.yamlKey()));
        unknown.keySet().forEach(k -> problems.add(k + " in " + file + ": unknown key (known: "
                + String.join(", ", KEYS.stream().map(ConfigKey::yamlKey).toList()) + ")"));
        if (problems.isEmpty() && values.containsKey(DB_URL) && !values.containsKey(DB_USER)) {
            problems.add(DB_USER.envVar() + ": required when " + DB_URL.envVar() + " is set");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new CorrelatorConfig(values);
    }

    private static Map<String, String> readYaml(Path file, List<String> problems) {
        try {
            JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
            if (root == null || root.isNull() || root.isMissingNode()) {
                return Map.of();
            }
            if (!root.isObject()) {
                problems.add(file + ": expected key: value pairs at the top level");
                return Map.of();
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNull()) {
                    out.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue().asText());
                }
            }
            return out;
        } catch (IOException e) {
            problems.add(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
            return Map.of();
        }
    }

    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        return (T) values.get(key);
    }

    public <T> Optional<T> find(ConfigKey<T> key) {
        return Optional.ofNullable(get(key));
    }

    /** A copy with one value replaced; for tests and command-line overrides. */
    public <T> CorrelatorConfig with(ConfigKey<T> key, T value) {
        Map<ConfigKey<?>, Object> copy = new HashMap<>(values);
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(key, value);
        }
        return new CorrelatorConfig(copy);
    }

    /** Values for a start-up log line, secrets masked. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigKey<?> key : KEYS) {
            Object v = values.get(key);
            out.put(key.yamlKey(), v == null ? "(unset)" : key.secret() ? "****" : String.valueOf(v));
        }
        return Collections.unmodifiableMap(out);
    }
}
