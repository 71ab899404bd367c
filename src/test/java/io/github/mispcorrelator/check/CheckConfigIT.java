package io.github.mispcorrelator.check;

import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.FakeMisp.Answer;
import io.github.mispcorrelator.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code check-config} against a real database, a fake MISP answering as MISP 2.5 does, and real DRL compiled by
 * Drools: a wrong key and a DRL error each give a clear [FAIL] line and exit status 1.
 */
class CheckConfigIT {
    static final String GOOD_KEY = "GoodKey0123456789abcdefGoodKey0123456789";
    static final String WRONG_KEY = "WrongKey0123456789abcdefWrongKey01234567";
    /** MISP's answer to an unknown key, or to a user whose role lacks perm_auth (AppController.php, beforeFilter). */
    static final String AUTH_FAILED = "Authentication failed. Please make sure you pass the API key of an API enabled"
            + " user along in the Authorization header.";

    static FakeMisp misp;
    static volatile boolean permSighting = true;

    @TempDir
    Path dir;

    @BeforeAll
    static void fakeMisp() {
        misp = new FakeMisp();
        misp.answer(r -> {
            if (!GOOD_KEY.equals(r.headers().get("Authorization"))) {
                return Answer.json(403, "{\"name\":\"" + AUTH_FAILED + "\",\"message\":\"" + AUTH_FAILED
                        + "\",\"url\":\"" + r.path() + "\"}");
            }
            // ServersController::getVersion and UsersController::view('me') (__massageUserObject), MISP 2.5
            return switch (r.path()) {
                case "/servers/getVersion.json" -> Answer.json(200, "{\"version\":\"2.5.1\",\"pymisp_recommended_version\":"
                        + "\"2.5.1\",\"perm_sync\":false,\"perm_sighting\":" + permSighting + ",\"perm_galaxy_editor\":false,"
                        + "\"perm_analyst_data\":false,\"uuid\":\"-\",\"request_encoding\":[\"gzip\"],\"filter_sightings\":true}");
                case "/users/view/me.json" -> Answer.json(200, "{\"User\":{\"id\":\"7\",\"email\":\"wazuh@example.org\","
                        + "\"password\":\"*****\",\"totp\":\"*****\"},\"Role\":{\"id\":\"3\",\"name\":\"User\",\"perm_auth\":true,"
                        + "\"perm_sighting\":" + permSighting + "},\"UserSetting\":[],\"Organisation\":{\"id\":\"1\",\"name\":\"ORG\"}}");
                default -> Answer.json(404, "{\"name\":\"Not Found\",\"message\":\"Not Found\",\"url\":\"" + r.path() + "\"}");
            };
        });
    }

    @AfterAll
    static void stop() {
        misp.close();
    }

    record Result(int status, String output) {
        List<String> failures() {
            return output.lines().filter(l -> l.startsWith("[FAIL]")).toList();
        }
    }

    Result run(Map<String, String> settings) throws Exception {
        Path yaml = Files.writeString(dir.resolve("correlator.yaml"), "http_port: 0\n");
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_CONFIG", yaml.toString());
        env.put("CORRELATOR_DRL_DIR", Path.of("drl").toAbsolutePath().toString());
        env.put("CORRELATOR_FEED_DIR", Path.of("config/demo-feed").toAbsolutePath().toString());
        env.putAll(settings);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = new CheckConfigCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8), env).run(List.of());
        return new Result(status, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aGoodConfigurationPassesEveryCheck() throws Exception {
        Result r = run(Map.of("CORRELATOR_MISP_URL", misp.url(), "CORRELATOR_MISP_KEY", GOOD_KEY));
        assertThat(r.failures()).isEmpty();
        assertThat(r.status()).isZero();
        assertThat(r.output())
                .contains("[ OK ] configuration: " + dir.resolve("correlator.yaml"))
                .containsPattern("\\[ OK ] rules: .*drl: \\d+ files, \\d+ rules compiled \\(sha256:")
                .containsPattern("\\[ OK ] database: .*PostgreSQL \\d+.*schema at version \\d")
                .contains("[ OK ] MISP " + misp.url() + ": MISP 2.5.1, key accepted (role User, perm_auth)")
                .contains("check-config: all checks passed")
                .doesNotContain(GOOD_KEY);
    }

    @Test
    void aWrongMispKeyIsCaughtWithAClearLine() throws Exception {
        Result r = run(Map.of("CORRELATOR_MISP_URL", misp.url(), "CORRELATOR_MISP_KEY", WRONG_KEY));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.failures()).containsExactly("[FAIL] MISP " + misp.url() + ": the key was refused (403 \""
                + AUTH_FAILED + "\"): check CORRELATOR_MISP_KEY, and that its user's role has \"Auth key access\" (perm_auth)");
        assertThat(r.output()).doesNotContain(WRONG_KEY).contains("1 problem found");
    }

    @Test
    void sightingsNeedTheKeysRoleToHavePermSighting() throws Exception {
        permSighting = false;
        try {
            Result r = run(Map.of("CORRELATOR_MISP_URL", misp.url(), "CORRELATOR_MISP_KEY", GOOD_KEY,
                    "CORRELATOR_MISP_SIGHTINGS", "true"));
            assertThat(r.status()).isEqualTo(1);
            assertThat(r.failures()).singleElement().asString()
                    .startsWith("[FAIL] MISP " + misp.url() + " sightings: CORRELATOR_MISP_SIGHTINGS is on, but the key's role lacks perm_sighting");
        } finally {
            permSighting = true;
        }
    }

    @Test
    void aMispThatCannotBeReachedIsAProblem() throws Exception {
        Result r = run(Map.of("CORRELATOR_MISP_URL", "http://127.0.0.1:9", "CORRELATOR_MISP_KEY", GOOD_KEY,
                "CORRELATOR_MISP_TIMEOUT", "2s"));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.failures()).singleElement().asString().startsWith("[FAIL] MISP http://127.0.0.1:9: cannot reach it: ");
    }

    @Test
    void aDrlErrorIsCaughtWithFileAndLine() throws Exception {
        Path drl = Files.createDirectories(dir.resolve("drl"));
        try (Stream<Path> files = Files.walk(Path.of("drl"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = drl.resolve(Path.of("drl").relativize(f).toString());
                Files.createDirectories(to.getParent());
                Files.copy(f, to);
            }
        }
        Path score = drl.resolve("score.drl");
        int brokenLine = Files.readAllLines(score).size() + 2;
        Files.writeString(score, Files.readString(score) + "\nrule \"broken\"\nwhen\n    $h : NoSuchFact( )\nthen\nend\n");
        Result r = run(Map.of("CORRELATOR_DRL_DIR", drl.toString()));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.failures()).isNotEmpty().allSatisfy(l -> assertThat(l).startsWith("[FAIL] rules: " + score + ":"));
        assertThat(r.failures().get(0)).containsPattern(":" + "\\d+: .*NoSuchFact");
        assertThat(r.output()).contains("[ OK ] MISP feed: ");
    }

    @Test
    void everyBadKeyIsListedAndNothingElseIsTried() throws Exception {
        Result r = run(Map.of("CORRELATOR_MISP_TIMEOUT", "soon", "CORRELATOR_HTTP_PORT", "99999"));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.failures()).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("[FAIL] configuration: CORRELATOR_"));
        assertThat(r.output()).doesNotContain("[ OK ] rules");
    }

    @Test
    void wazuhPathsTheServiceCannotUseAreProblems() throws Exception {
        Path alerts = Files.writeString(dir.resolve("alerts.json"), "");
        Result r = run(Map.of("CORRELATOR_ANALYSISD_SOCKET", dir.resolve("no-socket").toString(),
                "CORRELATOR_TAIL_FILE", alerts.toString()));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.failures()).containsExactly("[FAIL] analysisd socket: " + dir.resolve("no-socket")
                + " does not exist (is wazuh-analysisd running? CORRELATOR_ANALYSISD_SOCKET)");
        assertThat(r.output()).contains("[ OK ] tail file: " + alerts + ": readable");
    }
}
