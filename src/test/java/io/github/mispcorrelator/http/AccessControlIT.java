package io.github.mispcorrelator.http;

import io.github.mispcorrelator.config.ApiTokens;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.ServiceUnderTest;
import io.github.mispcorrelator.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The service with API tokens and HTTPS, listening on every address: who may call what, over TLS only, and no token
 * in any log line.
 */
class AccessControlIT {
    static final String READ = "read-" + "a".repeat(40);
    static final String INGEST = "ingest-" + "b".repeat(40);
    static final String ADMIN = "admin-" + "c".repeat(40);
    static ServiceUnderTest app;
    static HttpClient https;
    static ListAppender<ILoggingEvent> logs;

    @BeforeAll
    static void start() throws Exception {
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        Path dir = Fixtures.workDir("tls");
        Path[] pem = selfSignedPem(dir);
        Map<String, String> env = new HashMap<>(TestDatabase.env());
        env.put("CORRELATOR_HTTP_HOST", "0.0.0.0");
        env.put("CORRELATOR_HTTP_TLS_CERT_FILE", pem[0].toString());
        env.put("CORRELATOR_HTTP_TLS_KEY_FILE", pem[1].toString());
        env.put("CORRELATOR_READ_TOKEN", READ);
        env.put("CORRELATOR_INGEST_TOKEN", INGEST);
        // the admin token as its digest only: the configuration need not hold it
        env.put("CORRELATOR_ADMIN_TOKEN", ApiTokens.digestOf(ADMIN));
        app = new ServiceUnderTest(env);
        https = HttpClient.newBuilder().sslContext(trusting(dir.resolve("server.p12"))).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterAll
    static void stop() {
        app.close();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }

    /** A key pair and self-signed certificate for localhost by the JDK's keytool, written as PEM. */
    static Path[] selfSignedPem(Path dir) throws Exception {
        Path p12 = dir.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", p12.toString(), "-storepass", "changeit").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(p12.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey("server", "changeit".toCharArray());
        Certificate cert = ks.getCertificate("server");
        Path certPem = dir.resolve("cert.pem");
        Path keyPem = dir.resolve("key.pem");
        Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
        return new Path[] {certPem, keyPem};
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    static SSLContext trusting(Path p12) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(p12.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", ks.getCertificate("server"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    static HttpResponse<String> call(String method, String path, String authorization, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + app.service().httpPort() + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return https.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static int status(String method, String path, String token) throws Exception {
        byte[] body = method.equals("POST") ? sample() : null;
        return call(method, path, token == null ? null : "Bearer " + token, body).statusCode();
    }

    static byte[] sample() throws IOException {
        return Files.readAllBytes(Path.of("config/samples/sysmon-eid1-eicar.json"));
    }

    static String basic(String token) {
        return "Basic " + Base64.getEncoder().encodeToString(("auditor:" + token).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void eachRoleReachesItsEndpointsAndNoOther() throws Exception {
        record Case(String method, String path, int none, int read, int ingest, int admin) {
        }
        List<Case> cases = List.of(
                new Case("POST", "/v1/alerts", 401, 403, 200, 200),
                new Case("POST", "/v1/alerts/batch", 401, 403, 200, 200),
                new Case("GET", "/v1/hits", 401, 200, 403, 200),
                new Case("GET", "/v1/hits/stats", 401, 200, 403, 200),
                new Case("GET", "/v1/rules", 401, 200, 403, 200),
                new Case("POST", "/v1/rules/test", 401, 200, 403, 200),
                new Case("GET", "/ui/", 401, 200, 403, 200),
                new Case("POST", "/v1/rules/reload", 401, 403, 403, 200),
                new Case("GET", "/health/live", 200, 200, 200, 200),
                new Case("GET", "/health/ready", 200, 200, 200, 200),
                new Case("GET", "/no/such/thing", 401, 403, 403, 404));
        for (Case c : cases) {
            String what = c.method() + " " + c.path();
            assertThat(status(c.method(), c.path(), null)).as(what + " without token").isEqualTo(c.none());
            assertThat(status(c.method(), c.path(), READ)).as(what + " as read").isEqualTo(c.read());
            assertThat(status(c.method(), c.path(), INGEST)).as(what + " as ingest").isEqualTo(c.ingest());
            assertThat(status(c.method(), c.path(), ADMIN)).as(what + " as admin").isEqualTo(c.admin());
        }
    }

    @Test
    void refusalsSayWhatIsMissing() throws Exception {
        HttpResponse<String> none = call("GET", "/v1/hits", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().allValues("WWW-Authenticate")).anyMatch(v -> v.startsWith("Basic realm="))
                .anyMatch(v -> v.startsWith("Bearer realm="));
        assertThat(none.body()).contains("\"error\"").contains("Bearer");
        assertThat(call("GET", "/v1/hits", "Bearer wrong-token-0123456789abcdef", null).statusCode()).isEqualTo(401);
        HttpResponse<String> role = call("POST", "/v1/rules/reload", "Bearer " + READ, null);
        assertThat(role.statusCode()).isEqualTo(403);
        assertThat(role.body()).contains("needs the admin role").contains("this token has read");
    }

    @Test
    void browsersMayUseBasicForReadingOnly() throws Exception {
        assertThat(call("GET", "/v1/hits?limit=1", basic(READ), null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/ui/app.js", basic(READ), null).statusCode()).isEqualTo(200);
        // a browser resends Basic credentials by itself, so they must not change anything (no CSRF)
        assertThat(call("POST", "/v1/rules/reload", basic(ADMIN), null).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/v1/alerts", basic(INGEST), sample()).statusCode()).isEqualTo(401);
    }

    /** The page in a browser given the read token as password: it loads, and its own requests are let in too. */
    @Test
    void aBrowserWithTheReadTokenSeesThePage() throws Exception {
        io.github.mispcorrelator.audit.Chromium.assumeInstalled();
        String dom = io.github.mispcorrelator.audit.Chromium.dumpDom("https://auditor:" + READ + "@localhost:"
                + app.service().httpPort() + "/ui/", "--ignore-certificate-errors");
        assertThat(dom).contains("<table id=\"hits\"").containsPattern("<p id=\"error\" class=\"error\" hidden=\"\"")
                .contains("https://localhost:" + app.service().httpPort() + "/v1/hits?format=csv");
        String refused = io.github.mispcorrelator.audit.Chromium.dumpDom("https://auditor:" + INGEST + "@localhost:"
                + app.service().httpPort() + "/ui/", "--ignore-certificate-errors");
        assertThat(refused).doesNotContain("<table id=\"hits\"").contains("needs the read role");
    }

    @Test
    void plainHttpGetsNothing() {
        HttpClient plain = HttpClient.newHttpClient();
        assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.service().httpPort()
                + "/health/live")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }

    @Test
    void withoutTokensOnlyLoopbackIsAllowed() {
        assertThatThrownBy(() -> new ServiceUnderTest(Map.of("CORRELATOR_HTTP_HOST", "0.0.0.0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("CORRELATOR_HTTP_HOST")
                .hasMessageContaining("CORRELATOR_READ_TOKEN");
    }

    @Test
    void noTokenEverReachesTheLogs() throws Exception {
        call("GET", "/v1/hits", "Bearer " + READ, null);
        call("GET", "/v1/hits", "Bearer not-a-configured-token-000000", null);
        call("POST", "/v1/rules/reload", "Bearer " + INGEST, null);
        assertThat(logs.list).isNotEmpty();
        for (ILoggingEvent e : logs.list) {
            assertThat(e.getFormattedMessage()).doesNotContain(READ).doesNotContain(INGEST).doesNotContain(ADMIN)
                    .doesNotContain("not-a-configured-token");
        }
    }
}
