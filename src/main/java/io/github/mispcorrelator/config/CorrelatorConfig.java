package io.github.mispcorrelator.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

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
    public static final ConfigKey<Integer> HTTP_INSTANCES = new ConfigKey<>("HTTP_INSTANCES", "0", Parsers.intBetween(0, 64),
            "HTTP verticles (event loops serving requests); 0: one per core.");
    public static final ConfigKey<Long> HTTP_BODY_LIMIT = new ConfigKey<>("HTTP_BODY_LIMIT", "1m", Parsers.BYTES,
            "Largest request body accepted; larger bodies get 413.");
    public static final ConfigKey<Long> HTTP_BATCH_BODY_LIMIT = new ConfigKey<>("HTTP_BATCH_BODY_LIMIT", "16m", Parsers.BYTES,
            "Largest body of POST /v1/alerts/batch; larger bodies get 413.");
    // ---- overload and slow clients (see README, When the service is full) ----
    public static final ConfigKey<Integer> HTTP_BATCH_MAX_LINES = new ConfigKey<>("HTTP_BATCH_MAX_LINES", "20000",
            Parsers.intBetween(1, 1_000_000), "Most alerts in one POST /v1/alerts/batch; a longer batch gets 413.");
    public static final ConfigKey<Integer> HTTP_MAX_IN_FLIGHT = new ConfigKey<>("HTTP_MAX_IN_FLIGHT", "128",
            Parsers.intBetween(1, 100_000), "Single alerts (POST /v1/alerts) in flight at once; beyond, 503 with Retry-After.");
    public static final ConfigKey<Integer> HTTP_MAX_BATCHES = new ConfigKey<>("HTTP_MAX_BATCHES", "4",
            Parsers.intBetween(1, 1000), "Batches (POST /v1/alerts/batch) in flight at once; beyond, 503 with Retry-After.");
    public static final ConfigKey<Integer> HTTP_MAX_CONNECTIONS = new ConfigKey<>("HTTP_MAX_CONNECTIONS", "512",
            Parsers.intBetween(1, 1_000_000), "Open HTTP connections; beyond, new ones are closed (keep it below the file descriptor limit).");
    public static final ConfigKey<Duration> HTTP_IDLE_TIMEOUT = new ConfigKey<>("HTTP_IDLE_TIMEOUT", "60s",
            Parsers.DURATION_PARSER, "A connection with no traffic for this long is closed.");
    public static final ConfigKey<Duration> HTTP_HEADER_TIMEOUT = new ConfigKey<>("HTTP_HEADER_TIMEOUT", "10s",
            Parsers.DURATION_PARSER, "A request's headers must arrive within this time (of the connection, or of the previous answer).");
    public static final ConfigKey<Duration> HTTP_BODY_TIMEOUT = new ConfigKey<>("HTTP_BODY_TIMEOUT", "60s",
            Parsers.DURATION_PARSER, "A request's body must arrive within this time of its headers; else 408.");
    public static final ConfigKey<Duration> SHUTDOWN_TIMEOUT = new ConfigKey<>("SHUTDOWN_TIMEOUT", "20s",
            Parsers.DURATION_PARSER, "On SIGTERM, how long alerts in flight may take to finish before the service stops anyway.");
    public static final ConfigKey<String> MISP_URL = new ConfigKey<>("MISP_URL", null, Parsers.HTTP_URLS,
            "Base URL of the MISP server; several, comma-separated, are all asked. Unset: FEED_DIR is used instead.");
    public static final ConfigKey<String> MISP_KEY = new ConfigKey<>("MISP_KEY", null, Parsers.TEXT,
            "MISP automation key, sent as the Authorization header; with several MISP_URLs, one key each, comma-separated.");
    public static final ConfigKey<Boolean> MISP_VERIFY_TLS = new ConfigKey<>("MISP_VERIFY_TLS", "true", Parsers.BOOLEAN,
            "Verify MISP's TLS certificate and host name.");
    public static final ConfigKey<Duration> MISP_TIMEOUT = new ConfigKey<>("MISP_TIMEOUT", "10s", Parsers.DURATION_PARSER,
            "Longest wait for one MISP request.");
    public static final ConfigKey<Boolean> MISP_TO_IDS = new ConfigKey<>("MISP_TO_IDS", "true", Parsers.BOOLEAN,
            "Match only attributes flagged for detection (to_ids).");
    public static final ConfigKey<Boolean> MISP_PUBLISHED = new ConfigKey<>("MISP_PUBLISHED", "true", Parsers.BOOLEAN,
            "Match only attributes of published events.");
    public static final ConfigKey<Boolean> MISP_MATCH_PARENT_DOMAINS = new ConfigKey<>("MISP_MATCH_PARENT_DOMAINS", "false",
            Parsers.BOOLEAN, "A domain indicator also matches its known-bad parent domains (labelled parent-domain, 3 levels lower).");
    public static final ConfigKey<Boolean> MISP_ENFORCE_WARNINGLIST = new ConfigKey<>("MISP_ENFORCE_WARNINGLIST", "true",
            Parsers.BOOLEAN, "Ask MISP to drop values on its warning lists (public resolvers, CDNs, top sites).");
    public static final ConfigKey<List<String>> MISP_TAGS_INCLUDE = new ConfigKey<>("MISP_TAGS_INCLUDE", null,
            Parsers.LIST, "Comma-separated tags: match only attributes carrying one of them (e.g. tlp:clear,tlp:green).");
    public static final ConfigKey<List<String>> MISP_TAGS_EXCLUDE = new ConfigKey<>("MISP_TAGS_EXCLUDE", null,
            Parsers.LIST, "Comma-separated tags: never match attributes carrying one of them (e.g. tlp:red).");
    public static final ConfigKey<Duration> MISP_MAX_AGE = new ConfigKey<>("MISP_MAX_AGE", null, Parsers.AGE,
            "Ignore attributes unchanged for longer than this (e.g. 365d). Unset: any age.");
    public static final ConfigKey<Duration> MISP_MAX_AGE_IP = new ConfigKey<>("MISP_MAX_AGE_IP", null, Parsers.AGE,
            "Maximum age for IP attributes (addresses change hands quickly), overriding MISP_MAX_AGE.");
    public static final ConfigKey<Duration> MISP_MAX_AGE_DOMAIN = new ConfigKey<>("MISP_MAX_AGE_DOMAIN", null, Parsers.AGE,
            "Maximum age for domain and host name attributes, overriding MISP_MAX_AGE.");
    public static final ConfigKey<Duration> MISP_MAX_AGE_URL = new ConfigKey<>("MISP_MAX_AGE_URL", null, Parsers.AGE,
            "Maximum age for URL attributes, overriding MISP_MAX_AGE.");
    public static final ConfigKey<Duration> MISP_MAX_AGE_HASH = new ConfigKey<>("MISP_MAX_AGE_HASH", null, Parsers.AGE,
            "Maximum age for file hash attributes, overriding MISP_MAX_AGE.");
    public static final ConfigKey<Integer> MISP_BATCH_SIZE = new ConfigKey<>("MISP_BATCH_SIZE", "100", Parsers.intBetween(1, 10_000),
            "Values asked in one restSearch: lookups waiting at the same moment share a request.");
    public static final ConfigKey<Duration> MISP_BATCH_LINGER = new ConfigKey<>("MISP_BATCH_LINGER", "2ms", Parsers.DURATION_PARSER,
            "How long a lookup may wait for others to join its batch while no request to MISP is out (while one is, a "
                    + "batch that is not full waits up to one MISP round trip to fill).");
    public static final ConfigKey<Integer> MISP_MAX_CONCURRENT = new ConfigKey<>("MISP_MAX_CONCURRENT", "4", Parsers.intBetween(1, 256),
            "Most requests in flight to each MISP at once; more wait their turn. Below it the number follows MISP's "
                    + "latency, from one (metric misp_concurrency_limit).");
    public static final ConfigKey<Integer> MISP_RETRIES = new ConfigKey<>("MISP_RETRIES", "2", Parsers.intBetween(0, 10),
            "Retries of a request that timed out or got 5xx/429, with back-off and jitter, within MISP_TIMEOUT.");
    public static final ConfigKey<Long> MISP_CACHE_SIZE = new ConfigKey<>("MISP_CACHE_SIZE", "500000",
            Parsers.longBetween(0, 100_000_000), "Most answers kept in the cache (0: no cache).");
    public static final ConfigKey<Duration> MISP_CACHE_TTL = new ConfigKey<>("MISP_CACHE_TTL", "15m", Parsers.DURATION_PARSER,
            "How long a value MISP knows is answered from the cache.");
    public static final ConfigKey<Duration> MISP_CACHE_NEGATIVE_TTL = new ConfigKey<>("MISP_CACHE_NEGATIVE_TTL", "5m",
            Parsers.DURATION_PARSER, "How long a value MISP does not know is answered from the cache.");
    public static final ConfigKey<Integer> MISP_BREAKER_FAILURES = new ConfigKey<>("MISP_BREAKER_FAILURES", "5",
            Parsers.intBetween(1, 1000), "Consecutive failed requests that open the circuit breaker.");
    public static final ConfigKey<Duration> MISP_BREAKER_OPEN = new ConfigKey<>("MISP_BREAKER_OPEN", "30s", Parsers.DURATION_PARSER,
            "While open, the longest wait between probes of /servers/getVersion.json (the first comes after 1 s, then "
                    + "doubling); a success closes the breaker, but not before a 429's X-Rate-Limit-Reset has passed.");
    public static final ConfigKey<Long> MISP_RECHECK_MAX = new ConfigKey<>("MISP_RECHECK_MAX", "100000",
            Parsers.longBetween(0, 100_000_000), "Alerts kept for a re-check while MISP fails; beyond, the oldest are dropped.");
    public static final ConfigKey<Duration> MISP_RECHECK_INTERVAL = new ConfigKey<>("MISP_RECHECK_INTERVAL", "30s",
            Parsers.DURATION_PARSER, "How often waiting alerts are re-checked (also right after MISP recovers).");
    public static final ConfigKey<Boolean> MISP_SIGHTINGS = new ConfigKey<>("MISP_SIGHTINGS", "false", Parsers.BOOLEAN,
            "Report each hit to the MISP that matched as a sighting (POST /sightings/add), batched.");
    public static final ConfigKey<String> MISP_SIGHTINGS_SOURCE = new ConfigKey<>("MISP_SIGHTINGS_SOURCE",
            "wazuh:misp-correlator", Parsers.TEXT, "The sighting's source as MISP shows it.");
    public static final ConfigKey<Duration> MISP_SIGHTINGS_INTERVAL = new ConfigKey<>("MISP_SIGHTINGS_INTERVAL", "5s",
            Parsers.DURATION_PARSER, "How often collected sightings are sent.");
    public static final ConfigKey<Boolean> MISP_MIRROR = new ConfigKey<>("MISP_MIRROR", "false", Parsers.BOOLEAN,
            "Keep a local mirror of each MISP's detection attributes (in memory and PostgreSQL): lookups make no network call.");
    public static final ConfigKey<Duration> MISP_MIRROR_INTERVAL = new ConfigKey<>("MISP_MIRROR_INTERVAL", "5m",
            Parsers.DURATION_PARSER, "How often the mirror pulls the attributes that changed since its last pull.");
    public static final ConfigKey<Duration> MISP_MIRROR_REBUILD = new ConfigKey<>("MISP_MIRROR_REBUILD", "24h", Parsers.AGE,
            "How often the mirror pulls everything again (deletions and unpublishing move no timestamp).");
    public static final ConfigKey<Integer> MISP_MIRROR_PAGE = new ConfigKey<>("MISP_MIRROR_PAGE", "5000",
            Parsers.intBetween(10, 100_000), "Attributes per restSearch page when the mirror pulls; at most MISP's PHP "
                    + "memory_limit in MB x 50 (6,400 for 128M), beyond which MISP counts pages wrongly.");
    public static final ConfigKey<Duration> MISP_MIRROR_TIMEOUT = new ConfigKey<>("MISP_MIRROR_TIMEOUT", "2m",
            Parsers.DURATION_PARSER, "Longest wait for one page of a mirror pull.");
    public static final ConfigKey<Duration> MISP_MIRROR_FOLLOW_POLL = new ConfigKey<>("MISP_MIRROR_FOLLOW_POLL", "5s",
            Parsers.DURATION_PARSER, "Several instances on one database: how often one that does not pull MISP checks "
                    + "the shared mirror tables for changes, in case a notification (LISTEN/NOTIFY) was lost.");
    public static final ConfigKey<Path> FEED_DIR = new ConfigKey<>("FEED_DIR", "config/demo-feed", Parsers.EXISTING_DIR,
            "MISP feed directory (manifest.json + one event file per event) used when MISP_URL is unset.");
    public static final ConfigKey<Path> FEED_WARNINGLISTS = new ConfigKey<>("FEED_WARNINGLISTS", null, Parsers.EXISTING_DIR,
            "A copy of the misp-warninglists repository (or its lists/ directory): with MISP_ENFORCE_WARNINGLIST, feed "
                    + "attributes on these lists are left out, as MISP would drop them.");
    public static final ConfigKey<String> DB_URL = new ConfigKey<>("DB_URL", null, Parsers.JDBC_URL,
            "PostgreSQL JDBC URL. Unset: an embedded PostgreSQL keeps its data under DATA_DIR.");
    public static final ConfigKey<String> DB_USER = new ConfigKey<>("DB_USER", null, Parsers.TEXT,
            "PostgreSQL user (with DB_URL).");
    public static final ConfigKey<String> DB_PASSWORD = new ConfigKey<>("DB_PASSWORD", null, Parsers.TEXT,
            "PostgreSQL password (with DB_URL).");
    public static final ConfigKey<Integer> DB_POOL_SIZE = new ConfigKey<>("DB_POOL_SIZE", "4", Parsers.intBetween(2, 64),
            "Connections in the pool; the JDBC worker pool has the same size.");
    public static final ConfigKey<Path> DATA_DIR = new ConfigKey<>("DATA_DIR", "./data", Parsers.PATH,
            "Where the embedded PostgreSQL keeps its data (kept across restarts).");
    public static final ConfigKey<Path> DRL_DIR = new ConfigKey<>("DRL_DIR", "./drl", Parsers.EXISTING_DIR,
            "Directory of the Drools rules (*.drl) that extract and score indicators.");

    public static final ConfigKey<Boolean> DRL_WATCH = new ConfigKey<>("DRL_WATCH", "true", Parsers.BOOLEAN,
            "Reload the rules when a file under DRL_DIR changes.");
    public static final ConfigKey<Duration> DRL_RELOAD_DEBOUNCE = new ConfigKey<>("DRL_RELOAD_DEBOUNCE", "500ms",
            Parsers.DURATION_PARSER, "Quiet time after the last file change before reloading.");
    public static final ConfigKey<Integer> COVERAGE_RECENT_ALERTS = new ConfigKey<>("COVERAGE_RECENT_ALERTS", "2000",
            Parsers.intBetween(0, 100_000), "Recent alerts kept in memory for GET /v1/coverage (the blind-spot report); 0 turns it off.");

    public static final ConfigKey<Path> TAIL_FILE = new ConfigKey<>("TAIL_FILE", null, Parsers.PATH,
            "An alerts.json to follow (tail ingest, on the manager host). Unset: off.");
    public static final ConfigKey<String> TAIL_START = new ConfigKey<>("TAIL_START", "end", Parsers.oneOf("end", "beginning"),
            "Where to start a file the tailer has never read: its end (new alerts only) or its beginning.");
    public static final ConfigKey<Duration> TAIL_POLL = new ConfigKey<>("TAIL_POLL", "250ms", Parsers.DURATION_PARSER,
            "How often the tailer looks for new lines when it has caught up.");
    public static final ConfigKey<Path> ANALYSISD_SOCKET = new ConfigKey<>("ANALYSISD_SOCKET", null, Parsers.PATH,
            "analysisd's queue socket (/var/ossec/queue/sockets/queue): where the tailer sends events. Unset: none sent.");

    // ---- several instances, Kafka ingest (see README, Wazuh cluster) ----
    public static final ConfigKey<String> INSTANCE_ID = new ConfigKey<>("INSTANCE_ID", null, CorrelatorConfig::instanceName,
            "This correlator's name among those sharing the database (letters, digits, . _ - :); unset: the host name.");
    public static final ConfigKey<Duration> CLUSTER_HEARTBEAT = new ConfigKey<>("CLUSTER_HEARTBEAT", "5s",
            Parsers.DURATION_PARSER, "How often this instance records that it is alive and renews the singletons it holds.");
    public static final ConfigKey<Duration> CLUSTER_LEASE_TTL = new ConfigKey<>("CLUSTER_LEASE_TTL", "30s",
            Parsers.DURATION_PARSER, "How long a singleton (retention, a mirror's pulls) and a claimed re-check stay with an instance that stopped renewing.");
    public static final ConfigKey<String> KAFKA_BOOTSTRAP = new ConfigKey<>("KAFKA_BOOTSTRAP", null, Parsers.TEXT,
            "Kafka brokers (host:port, comma-separated): consume Wazuh alerts as a member of KAFKA_GROUP. Unset: off.");
    public static final ConfigKey<List<String>> KAFKA_TOPICS = new ConfigKey<>("KAFKA_TOPICS", "wazuh-alerts", Parsers.LIST,
            "Topics of Wazuh alerts (comma-separated), one alert JSON a record, Filebeat/Logstash/Fluent Bit/Vector envelopes accepted.");
    public static final ConfigKey<String> KAFKA_GROUP = new ConfigKey<>("KAFKA_GROUP", "misp-correlator", Parsers.TEXT,
            "Consumer group the instances share: Kafka spreads the partitions over them.");
    public static final ConfigKey<String> KAFKA_START = new ConfigKey<>("KAFKA_START", "earliest", Parsers.oneOf("earliest", "latest"),
            "Where a group without committed offsets starts (auto.offset.reset).");
    public static final ConfigKey<Integer> KAFKA_MAX_IN_FLIGHT = new ConfigKey<>("KAFKA_MAX_IN_FLIGHT", "2000",
            Parsers.intBetween(1, 1_000_000), "Records being correlated at once; beyond, the partitions are paused.");
    public static final ConfigKey<String> KAFKA_EVENTS_TOPIC = new ConfigKey<>("KAFKA_EVENTS_TOPIC", null, Parsers.TEXT,
            "Topic the events for Wazuh are produced to (keyed by agent id), for a pipeline to the indexer or analysisd. Unset: none.");
    public static final ConfigKey<String> KAFKA_DEAD_LETTER_TOPIC = new ConfigKey<>("KAFKA_DEAD_LETTER_TOPIC",
            "misp-correlator-dead-letter", Parsers.TEXT, "Topic unparsable records go to, with the reason in header x-error.");
    public static final ConfigKey<String> KAFKA_SECURITY_PROTOCOL = new ConfigKey<>("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT",
            Parsers.oneOf("plaintext", "ssl", "sasl_plaintext", "sasl_ssl"), "Kafka security.protocol (any case).");
    public static final ConfigKey<String> KAFKA_SASL_MECHANISM = new ConfigKey<>("KAFKA_SASL_MECHANISM", "PLAIN",
            Parsers.oneOf("plain", "scram-sha-256", "scram-sha-512"), "SASL mechanism with KAFKA_SASL_USERNAME (others: KAFKA_PROPERTIES_FILE).");
    public static final ConfigKey<String> KAFKA_SASL_USERNAME = new ConfigKey<>("KAFKA_SASL_USERNAME", null, Parsers.TEXT,
            "SASL user name (with SASL_PLAINTEXT or SASL_SSL).");
    public static final ConfigKey<String> KAFKA_SASL_PASSWORD = new ConfigKey<>("KAFKA_SASL_PASSWORD", null, Parsers.TEXT,
            "SASL password.");
    public static final ConfigKey<Path> KAFKA_SSL_TRUSTSTORE_FILE = new ConfigKey<>("KAFKA_SSL_TRUSTSTORE_FILE", null,
            Parsers.READABLE_FILE, "Trust store (PKCS12, JKS or PEM) with the brokers' CA, for SSL and SASL_SSL.");
    public static final ConfigKey<String> KAFKA_SSL_TRUSTSTORE_PASSWORD = new ConfigKey<>("KAFKA_SSL_TRUSTSTORE_PASSWORD", null,
            Parsers.TEXT, "Password of KAFKA_SSL_TRUSTSTORE_FILE.");
    public static final ConfigKey<Path> KAFKA_PROPERTIES_FILE = new ConfigKey<>("KAFKA_PROPERTIES_FILE", null,
            Parsers.READABLE_FILE, "Kafka client properties (as for the Kafka tools' --command-config) applied last: mTLS, OAUTHBEARER, Kerberos, tuning.");

    // ---- access, TLS, retention (see README, Auditing) ----
    public static final ConfigKey<List<ApiTokens.Digest>> INGEST_TOKEN = new ConfigKey<>("INGEST_TOKEN", null,
            ApiTokens::parse, "API tokens (comma-separated; each the token or sha256:<hex digest>) that may send alerts.");
    public static final ConfigKey<List<ApiTokens.Digest>> READ_TOKEN = new ConfigKey<>("READ_TOKEN", null,
            ApiTokens::parse, "API tokens that may read hits and rule status, test rules and open /ui/.");
    public static final ConfigKey<List<ApiTokens.Digest>> ADMIN_TOKEN = new ConfigKey<>("ADMIN_TOKEN", null,
            ApiTokens::parse, "API tokens that may do everything, including reloading the rules.");
    public static final ConfigKey<Path> HTTP_TLS_CERT_FILE = new ConfigKey<>("HTTP_TLS_CERT_FILE", null,
            Parsers.READABLE_FILE, "PEM certificate (chain) of the HTTP API; with HTTP_TLS_KEY_FILE the API speaks HTTPS.");
    public static final ConfigKey<Path> HTTP_TLS_KEY_FILE = new ConfigKey<>("HTTP_TLS_KEY_FILE", null,
            Parsers.READABLE_FILE, "PEM private key (PKCS#8 or PKCS#1) of HTTP_TLS_CERT_FILE.");
    public static final ConfigKey<Integer> RETENTION_DAYS = new ConfigKey<>("RETENTION_DAYS", "400",
            Parsers.intBetween(0, 36500), "Days hits are kept (whole months are dropped once past it); 0 keeps them forever.");

    // ---- logs ----
    public static final ConfigKey<String> LOG_FORMAT = new ConfigKey<>("LOG_FORMAT", "text", Parsers.oneOf("text", "json"),
            "Log lines on standard output: text, or json (one object a line, alert_id and misp_instance as fields) for a log shipper.");

    // ---- look-back: the observation index (see README, Look-back) ----
    public static final ConfigKey<Boolean> LOOKBACK_ENABLED = new ConfigKey<>("LOOKBACK_ENABLED", "true", Parsers.BOOLEAN,
            "Keep every extracted indicator in the observation index and look back at it when MISP learns a value.");
    public static final ConfigKey<Integer> LOOKBACK_DAYS = new ConfigKey<>("LOOKBACK_DAYS", "90", Parsers.intBetween(1, 3660),
            "Days of observations kept (whole days are dropped once past it) and looked back at.");
    public static final ConfigKey<Duration> LOOKBACK_INTERVAL = new ConfigKey<>("LOOKBACK_INTERVAL", "5m", Parsers.DURATION_PARSER,
            "Without MISP_MIRROR: how often each MISP is asked for the attributes changed since the last time.");
    public static final ConfigKey<Duration> LOOKBACK_FLUSH_INTERVAL = new ConfigKey<>("LOOKBACK_FLUSH_INTERVAL", "5s",
            Parsers.DURATION_PARSER, "How often the observations aggregated in memory are written (a crash loses at most this much).");
    public static final ConfigKey<Integer> LOOKBACK_BUFFER_MAX = new ConfigKey<>("LOOKBACK_BUFFER_MAX", "50000",
            Parsers.intBetween(100, 10_000_000), "Observations aggregated in memory before an early write; beyond twice as many (a slow database) new ones are dropped.");

    /**
     * Every key: the {@code ConfigKey} constants above, in the order they are declared (docs/configuration.md follows
     * it), found here rather than listed by hand so that a new key cannot be left out. It must come after them.
     */
    public static final List<ConfigKey<?>> KEYS = declaredKeys();

    public static final String CONFIG_FILE_ENV = "CORRELATOR_CONFIG";
    public static final Path DEFAULT_CONFIG_FILE = Path.of("config/correlator.yaml");

    /** System property naming the install directory; see {@link #home()}. */
    public static final String HOME_PROPERTY = "correlator.home";

    private final Map<ConfigKey<?>, Object> values;
    private final Path file;

    private CorrelatorConfig(Map<ConfigKey<?>, Object> values, Path file) {
        this.values = values;
        this.file = file;
    }

    /** Loads from the default file (if present) and the process environment. */
    public static CorrelatorConfig load() {
        return load(System.getenv());
    }

    public static CorrelatorConfig load(Map<String, String> env) {
        String explicit = env.get(CONFIG_FILE_ENV);
        Path file = explicit != null ? Path.of(explicit) : home().map(h -> h.resolve(DEFAULT_CONFIG_FILE)).orElse(DEFAULT_CONFIG_FILE);
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
        // relative paths: a configured value (file or environment) against the configuration file's directory, a
        // default against the install directory; with neither, as given (the jar run by hand from a checkout)
        Path home = home().orElse(null);
        Path fileDir = file == null ? home : file.toAbsolutePath().normalize().getParent();
        Map<ConfigKey<?>, Object> values = new HashMap<>();
        for (ConfigKey<?> key : KEYS) {
            String source;
            String raw;
            Path base;
            if (env.containsKey(key.envVar())) {
                raw = env.get(key.envVar());
                source = key.envVar();
                base = fileDir;
            } else if (fromFile.containsKey(key.yamlKey())) {
                raw = fromFile.get(key.yamlKey());
                source = key.yamlKey() + " in " + file;
                base = fileDir;
            } else {
                raw = key.defaultValue();
                source = key.yamlKey() + " (default)";
                base = home;
            }
            if (raw == null || raw.isBlank()) {
                continue;
            }
            if (base != null && key.parser() instanceof Parsers.PathParser) {
                raw = base.resolve(raw.strip()).normalize().toString();
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
        if (problems.isEmpty()) {
            problems.addAll(accessProblems(values));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new CorrelatorConfig(values, file == null ? null : file.toAbsolutePath().normalize());
    }

    /**
     * The install directory, when a launcher named it ({@code -Dcorrelator.home=…}, as {@code bin/misp-correlator}
     * of the package and the tarball does): the default configuration file and relative defaults are found there.
     */
    public static Optional<Path> home() {
        String h = System.getProperty(HOME_PROPERTY);
        return h == null || h.isBlank() ? Optional.empty() : Optional.of(Path.of(h).toAbsolutePath().normalize());
    }

    /** The configuration file the values were read from, if any. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** TLS needs both files; without any API token the API may listen on loopback only. */
    private static List<String> accessProblems(Map<ConfigKey<?>, Object> values) {
        List<String> problems = new ArrayList<>();
        if (values.containsKey(HTTP_TLS_CERT_FILE) != values.containsKey(HTTP_TLS_KEY_FILE)) {
            problems.add(HTTP_TLS_CERT_FILE.envVar() + " and " + HTTP_TLS_KEY_FILE.envVar() + ": set both or neither");
        }
        boolean tokens = Stream.of(INGEST_TOKEN, READ_TOKEN, ADMIN_TOKEN)
                .anyMatch(k -> values.get(k) instanceof List<?> l && !l.isEmpty());
        String host = (String) values.get(HTTP_HOST);
        if (!tokens && !ApiTokens.isLoopback(host)) {
            problems.add(HTTP_HOST.envVar() + " = '" + host + "' is not a loopback address, and no API token is set: "
                    + "without tokens anyone who reaches the port could use the API. Set " + INGEST_TOKEN.envVar() + ", "
                    + READ_TOKEN.envVar() + " and/or " + ADMIN_TOKEN.envVar() + ", or listen on 127.0.0.1");
        }
        return problems;
    }

    /** Instance names go into SQL settings and Kafka client ids: a short name of safe characters. */
    private static String instanceName(String s) {
        String v = s.trim();
        if (!v.matches("[A-Za-z0-9._:-]{1,100}")) {
            throw new IllegalArgumentException("expected 1 to 100 letters, digits, '.', '_', '-' or ':'");
        }
        return v;
    }

    /** {@code INSTANCE_ID}, or the host name (made safe) when it is unset. */
    public String instanceId() {
        String id = get(INSTANCE_ID);
        if (id != null) {
            return id;
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "correlator");
        }
        String safe = host.replaceAll("[^A-Za-z0-9._:-]", "-");
        return safe.isEmpty() ? "correlator" : safe.substring(0, Math.min(100, safe.length()));
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
                    out.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue().asText());
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
        return new CorrelatorConfig(copy, file);
    }

    /**
     * A URL without what may carry a secret: user info ({@code user:pass@}) and the query string
     * ({@code ?password=…}); other text is returned as it is.
     */
    public static String redactUrl(String value) {
        String v = value.replaceAll("(?<=://)[^/@?#]*@", "****@");
        int q = v.indexOf('?');
        return v.startsWith("jdbc:") || v.contains("://") ? (q >= 0 ? v.substring(0, q) + "?****" : v) : v;
    }

    /** Values for a start-up log line, secrets masked. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigKey<?> key : KEYS) {
            Object v = values.get(key);
            out.put(key.yamlKey(), v == null ? "(unset)" : key.secret() ? "****" : redactUrl(String.valueOf(v)));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The static {@code ConfigKey} fields of this class, in declaration order (the order reflection gives them). */
    private static List<ConfigKey<?>> declaredKeys() {
        List<ConfigKey<?>> keys = new ArrayList<>();
        for (Field field : CorrelatorConfig.class.getDeclaredFields()) {
            if (field.getType() != ConfigKey.class || !Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            try {
                ConfigKey<?> key = (ConfigKey<?>) field.get(null);
                if (key == null) {
                    throw new IllegalStateException("CorrelatorConfig.KEYS is initialised before " + field.getName());
                }
                keys.add(key);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        return List.copyOf(keys);
    }
}
