package io.github.mispcorrelator.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mispcorrelator.cli.Cli;
import io.github.mispcorrelator.config.Version;
import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispInstances;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.rules.RuleCompilationException;
import io.github.mispcorrelator.rules.RuleProblem;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleSetLoader;
import io.github.mispcorrelator.store.EmbeddedPostgresServer;
import io.github.mispcorrelator.wazuh.AnalysisdSocket;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code misp-correlator check-config}: what start-up would check, and what it would meet, before the service is
 * (re)started — the configuration (every key, as start-up validates it), the rules (compiled), the database
 * (reached, schema version), each MISP (reached, key accepted, the key's permissions), the feed or the mirror, the
 * HTTP port, the analysisd socket and the tail file. One line per check; exit status 1 when any failed.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = {"Check the configuration, rules, database, MISP and Wazuh paths; exit 1 on a problem.", "",
                "Checks the configuration as start-up does (file named by CORRELATOR_CONFIG, else the default, and "
                + "CORRELATOR_* variables), compiles the rules, and reaches the database, each MISP, the analysisd "
                + "socket and the tail file, as the user it runs as. It takes no arguments."},
        footer = "Exit status 0: all passed; 1: a check failed; 2: bad usage.")
public final class CheckConfigCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;
    private final Map<String, String> env;
    private int failures;
    private int warnings;

    public CheckConfigCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    /** Prints to {@code out} only, usage errors too: one stream an administrator reads top to bottom. */
    public int run(List<String> args) {
        return Cli.run(this, args, out, out);
    }

    @Override
    public Integer call() {
        out.println("misp-correlator " + Version.CORRELATOR + " check-config, as user " + System.getProperty("user.name"));
        CorrelatorConfig config;
        try {
            config = CorrelatorConfig.load(env);
        } catch (ConfigException e) {
            e.problems().forEach(p -> fail("configuration", p));
            return summary();
        }
        ok("configuration", config.file().map(f -> f.toString()).orElse("no file: defaults and environment")
                + ", " + CorrelatorConfig.KEYS.size() + " keys valid");
        checkRules(config);
        checkHttpPort(config);
        Optional<Connection> db = checkDatabase(config);
        try {
            checkMisp(config, db.orElse(null));
        } finally {
            db.ifPresent(CheckConfigCommand::closeQuietly);
            stopEmbedded();
        }
        checkAnalysisd(config);
        checkTail(config);
        return summary();
    }

    private int summary() {
        out.println(failures == 0
                ? "check-config: all checks passed" + (warnings > 0 ? " (" + warnings + " warning" + (warnings > 1 ? "s" : "") + ")" : "")
                : "check-config: " + failures + " problem" + (failures > 1 ? "s" : "") + " found; the service would not work as configured");
        return failures == 0 ? 0 : 1;
    }

    private void ok(String what, String detail) {
        out.println("[ OK ] " + what + ": " + detail);
    }

    private void fail(String what, String detail) {
        failures++;
        out.println("[FAIL] " + what + ": " + detail);
    }

    private void warn(String what, String detail) {
        warnings++;
        out.println("[WARN] " + what + ": " + detail);
    }

    // ---- rules -----------------------------------------------------------------------------------------------

    private void checkRules(CorrelatorConfig config) {
        Path dir = config.get(CorrelatorConfig.DRL_DIR);
        try {
            RuleSet rules = RuleSetLoader.load(dir);
            ok("rules", dir + ": " + rules.files().size() + " files, " + rules.ruleNames().size() + " rules compiled ("
                    + rules.version() + ")");
            rules.dispose();
        } catch (RuleCompilationException e) {
            if (e.problems().isEmpty()) {
                fail("rules", e.getMessage());
            }
            for (RuleProblem p : e.problems()) {
                fail("rules", dir.resolve(p.file()) + (p.line() > 0 ? ":" + p.line() : "") + ": " + p.message());
            }
        } catch (RuntimeException e) {
            fail("rules", dir + ": " + e.getMessage());
        }
    }

    // ---- HTTP ------------------------------------------------------------------------------------------------

    private void checkHttpPort(CorrelatorConfig config) {
        String host = config.get(CorrelatorConfig.HTTP_HOST);
        int port = config.get(CorrelatorConfig.HTTP_PORT);
        if (port == 0) {
            ok("HTTP", host + ": a free port is picked at start");
            return;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(host, port));
            ok("HTTP", host + ":" + port + " is free to listen on"
                    + (config.find(CorrelatorConfig.HTTP_TLS_CERT_FILE).isPresent() ? " (HTTPS)" : ""));
        } catch (IOException e) {
            warn("HTTP", host + ":" + port + " cannot be listened on now (" + e.getMessage()
                    + "): is the service already running? Otherwise change CORRELATOR_HTTP_PORT / CORRELATOR_HTTP_HOST");
        }
    }

    // ---- database --------------------------------------------------------------------------------------------

    private EmbeddedPostgresServer embedded;

    /** A connection to the configured database or the embedded one, reporting where and the schema version. */
    private Optional<Connection> checkDatabase(CorrelatorConfig config) {
        String url = config.get(CorrelatorConfig.DB_URL);
        String user = config.get(CorrelatorConfig.DB_USER);
        String password = config.get(CorrelatorConfig.DB_PASSWORD);
        String where;
        if (url == null) {
            Path dir = config.get(CorrelatorConfig.DATA_DIR).resolve("postgres").toAbsolutePath().normalize();
            Optional<Integer> runningPort = runningPostgresPort(dir);
            if (runningPort.isPresent()) {
                url = "jdbc:postgresql://localhost:" + runningPort.get() + "/correlator";
                where = "embedded PostgreSQL of the running service, data in " + dir;
            } else {
                try {
                    embedded = EmbeddedPostgresServer.start(dir);
                } catch (RuntimeException e) {
                    fail("database", e.getMessage());
                    return Optional.empty();
                }
                url = embedded.jdbcUrl();
                where = "embedded PostgreSQL, data in " + dir + " (started for this check, stopped again)";
            }
            user = "postgres";
            password = null;
        } else {
            where = CorrelatorConfig.redactUrl(url) + " as " + user;
        }
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        props.setProperty("ApplicationName", "misp-correlator check-config");
        Connection c;
        try {
            c = DriverManager.getConnection(url, props);
        } catch (SQLException e) {
            fail("database", "cannot connect to " + where + " (CORRELATOR_DB_URL / CORRELATOR_DB_USER / "
                    + "CORRELATOR_DB_PASSWORD): " + e.getMessage());
            return Optional.empty();
        }
        try {
            String version = c.getMetaData().getDatabaseProductVersion();
            String finalUrl = url;
            String finalUser = user;
            String finalPassword = password;
            MigrationInfoService info = Flyway.configure()
                    .dataSource(finalUrl, finalUser, finalPassword)
                    .locations("classpath:db/migration")
                    .load()
                    .info();
            MigrationInfo current = info.current();
            int pending = info.pending().length;
            ok("database", where + ": PostgreSQL " + version + ", schema "
                    + (current == null ? "not created yet" : "at version " + current.getVersion())
                    + (pending > 0 ? ", " + pending + " migration(s) to apply at start" : ", up to date"));
            return Optional.of(c);
        } catch (SQLException | RuntimeException e) {
            fail("database", where + ": connected, but cannot read the schema history: " + e.getMessage());
            closeQuietly(c);
            return Optional.empty();
        }
    }

    /**
     * The port of a PostgreSQL already running on this data directory (the service's own), from its
     * {@code postmaster.pid}: starting a second one would fail on the lock.
     */
    static Optional<Integer> runningPostgresPort(Path dataDir) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        try {
            if (!Files.isReadable(pidFile)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.size() < 4) {
                return Optional.empty();
            }
            long pid = Long.parseLong(lines.get(0).strip());
            if (ProcessHandle.of(pid).isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(Integer.parseInt(lines.get(3).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private void stopEmbedded() {
        if (embedded != null) {
            embedded.close();
            embedded = null;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // nothing to do: the check is over
        }
    }

    // ---- MISP, feed, mirror ----------------------------------------------------------------------------------

    private void checkMisp(CorrelatorConfig config, Connection db) {
        List<MispSettings> instances;
        try {
            instances = MispInstances.from(config);
        } catch (IllegalArgumentException e) {
            fail("MISP", e.getMessage());
            return;
        }
        if (instances.isEmpty()) {
            Path dir = config.get(CorrelatorConfig.FEED_DIR);
            try {
                FeedSource feed = FeedSource.load(dir, MispSettings.from(config));
                ok("MISP feed", dir + ": " + feed.attributeCount() + " attributes (no CORRELATOR_MISP_URL: lookups use this feed)");
            } catch (RuntimeException e) {
                fail("MISP feed", dir + ": " + e.getMessage());
            }
            return;
        }
        boolean sightings = config.get(CorrelatorConfig.MISP_SIGHTINGS);
        Vertx vertx = Vertx.vertx();
        try {
            for (MispSettings misp : instances) {
                checkOneMisp(vertx, misp, sightings);
            }
        } finally {
            vertx.close();
        }
        if (config.get(CorrelatorConfig.MISP_MIRROR)) {
            checkMirror(instances, db);
        }
    }

    private void checkOneMisp(Vertx vertx, MispSettings misp, boolean sightings) {
        String name = "MISP " + CorrelatorConfig.redactUrl(misp.url());
        if (misp.key() == null || misp.key().isBlank()) {
            fail(name, "no key: set CORRELATOR_MISP_KEY (an automation key of a MISP user)");
            return;
        }
        WebClientOptions options = new WebClientOptions().setUserAgent("misp-correlator check-config")
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, misp.timeout().toMillis()));
        if (misp.url().startsWith("https:")) {
            options.setSsl(true);
            if (!misp.verifyTls()) {
                options.setTrustAll(true).setVerifyHost(false);
            }
        }
        WebClient client = WebClient.create(vertx, options);
        try {
            HttpResponse<Buffer> version;
            try {
                version = get(client, misp, "/servers/getVersion.json");
            } catch (Exception e) {
                fail(name, "cannot reach it: " + message(e) + (misp.verifyTls() && message(e).toLowerCase().contains("certificate")
                        ? " (a self-signed certificate? CORRELATOR_MISP_VERIFY_TLS=false for a lab MISP)" : ""));
                return;
            }
            if (version.statusCode() == 403 || version.statusCode() == 401) {
                // MISP answers 403 both for an unknown key and for a user whose role lacks perm_auth
                // (app/Controller/AppController.php, __loginByAuthKey and the REST authentication in beforeFilter)
                fail(name, "the key was refused (" + version.statusCode() + " " + mispMessage(version)
                        + "): check CORRELATOR_MISP_KEY, and that its user's role has \"Auth key access\" (perm_auth)");
                return;
            }
            if (version.statusCode() != 200) {
                fail(name, "/servers/getVersion.json answered " + version.statusCode() + " " + mispMessage(version));
                return;
            }
            JsonNode v = json(version);
            String mispVersion = v.path("version").asText("?");
            JsonNode role = null;
            try {
                HttpResponse<Buffer> me = get(client, misp, "/users/view/me.json");
                if (me.statusCode() == 200) {
                    role = json(me).path("Role");
                }
            } catch (Exception e) {
                // reported below as unknown permissions
            }
            if (role == null || role.isMissingNode()) {
                warn(name, "MISP " + mispVersion + ", key accepted; its permissions could not be read from /users/view/me.json");
            } else if (!flag(role.path("perm_auth"))) {
                fail(name, "MISP " + mispVersion + ": the key's role (" + role.path("name").asText("?")
                        + ") lacks perm_auth (Auth key access)");
                return;
            } else {
                ok(name, "MISP " + mispVersion + ", key accepted (role " + role.path("name").asText("?") + ", perm_auth)");
            }
            if (sightings) {
                boolean may = role != null && !role.isMissingNode() ? flag(role.path("perm_sighting")) : flag(v.path("perm_sighting"));
                if (may) {
                    ok(name + " sightings", "the key's role may add sightings (perm_sighting)");
                } else {
                    fail(name + " sightings", "CORRELATOR_MISP_SIGHTINGS is on, but the key's role lacks perm_sighting:"
                            + " give the role \"Sighting creator\" or turn sightings off");
                }
            }
        } finally {
            client.close();
        }
    }

    private static HttpResponse<Buffer> get(WebClient client, MispSettings misp, String path) throws TimeoutException {
        long timeoutMs = Math.max(1, misp.timeout().toMillis());
        return client.getAbs(misp.url() + path)
                .timeout(timeoutMs)
                .putHeader("Accept", "application/json")
                .putHeader("Authorization", misp.key())
                .send()
                .await(timeoutMs + 1000, TimeUnit.MILLISECONDS);
    }

    private static JsonNode json(HttpResponse<Buffer> r) {
        try {
            return r.body() == null ? JSON.missingNode() : JSON.readTree(r.body().getBytes());
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    /** MISP's error body ({@code {"name": …, "message": …, "url": …}}) as one short phrase. */
    private static String mispMessage(HttpResponse<Buffer> r) {
        JsonNode body = json(r);
        String text = body.path("message").asText(body.path("name").asText(""));
        if (text.isBlank() && r.body() != null) {
            text = r.body().toString();
        }
        text = text.strip().replaceAll("\\s+", " ");
        return text.isEmpty() ? "" : "\"" + (text.length() > 160 ? text.substring(0, 160) + "…" : text) + "\"";
    }

    /** MISP's role flags are JSON booleans, or "0"/"1" from older versions. */
    private static boolean flag(JsonNode n) {
        return n.isBoolean() ? n.asBoolean() : n.asText("").equals("1") || n.asText("").equalsIgnoreCase("true");
    }

    private static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
    }

    private void checkMirror(List<MispSettings> instances, Connection db) {
        if (db == null) {
            warn("MISP mirror", "state unknown: the database could not be read");
            return;
        }
        for (MispSettings misp : instances) {
            String name = "MISP mirror " + CorrelatorConfig.redactUrl(misp.url());
            try (var ps = db.prepareStatement("SELECT attributes, last_sync, last_full_sync FROM misp_mirror_state WHERE instance = ?")) {
                ps.setString(1, misp.url());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getTimestamp("last_full_sync") == null) {
                        warn(name, "no complete copy yet: the first start pulls every attribute (lookups go to MISP live meanwhile)");
                    } else {
                        Instant last = rs.getTimestamp("last_sync").toInstant();
                        ok(name, rs.getLong("attributes") + " attributes held, last pull " + last + " ("
                                + Duration.between(last, Instant.now()).toMinutes() + " min ago)");
                    }
                }
            } catch (SQLException e) {
                // a schema not migrated yet has no mirror table: the first start creates it
                warn(name, "no mirror state in the database yet (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
        }
    }

    // ---- Wazuh: analysisd socket, tail file ------------------------------------------------------------------

    private void checkAnalysisd(CorrelatorConfig config) {
        Path socket = config.get(CorrelatorConfig.ANALYSISD_SOCKET);
        if (socket == null) {
            return;
        }
        if (!Files.exists(socket)) {
            fail("analysisd socket", socket + " does not exist (is wazuh-analysisd running? CORRELATOR_ANALYSISD_SOCKET)");
            return;
        }
        if (Files.isRegularFile(socket) || Files.isDirectory(socket)) {
            fail("analysisd socket", socket + " is not a socket");
            return;
        }
        if (!Files.isWritable(socket)) {
            fail("analysisd socket", socket + " is not writable by user " + System.getProperty("user.name")
                    + " (on a Wazuh manager: add it to the wazuh group)");
            return;
        }
        try (AnalysisdSocket s = AnalysisdSocket.open(socket)) {
            ok("analysisd socket", socket + ": connected");
        } catch (RuntimeException e) {
            fail("analysisd socket", socket + ": " + e.getMessage());
        }
    }

    private void checkTail(CorrelatorConfig config) {
        Path file = config.get(CorrelatorConfig.TAIL_FILE);
        if (file == null) {
            return;
        }
        String user = System.getProperty("user.name");
        if (Files.isRegularFile(file)) {
            if (Files.isReadable(file)) {
                ok("tail file", file + ": readable");
            } else {
                fail("tail file", file + " is not readable by user " + user + " (on a Wazuh manager: add it to the wazuh group)");
            }
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        if (Files.exists(file)) {
            fail("tail file", file + " is not a regular file");
        } else if (dir != null && Files.isDirectory(dir) && Files.isReadable(dir) && Files.isExecutable(dir)) {
            warn("tail file", file + " does not exist yet; it is followed once Wazuh writes it");
        } else {
            fail("tail file", file + ": its directory " + dir + " cannot be read by user " + user);
        }
    }
}
