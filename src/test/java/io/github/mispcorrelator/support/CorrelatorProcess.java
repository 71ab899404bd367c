package io.github.mispcorrelator.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One correlator instance as its own JVM ({@code Main serve}, configured by CORRELATOR_* variables, from the project
 * directory), so that a test can kill it as an operator's {@code kill -9} or the OOM killer would: SIGKILL, no
 * shutdown hook, no last commit.
 */
public final class CorrelatorProcess implements AutoCloseable {
    private final Process process;
    private final String instance;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private CorrelatorProcess(Process process, String instance, int port, Path log) {
        this.process = process;
        this.instance = instance;
        this.port = port;
        this.log = log;
    }

    /** Starts {@code instance} (its CORRELATOR_INSTANCE_ID) with {@code env} added to a test configuration. */
    public static CorrelatorProcess start(String instance, Map<String, String> env, Path logDir) throws Exception {
        Files.createDirectories(logDir);
        int port = KafkaBroker.freePort();
        Path log = logDir.resolve(instance + ".log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.github.mispcorrelator.Main", "serve")
                .directory(Fixtures.project(".").toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("CORRELATOR_"));
        e.put("CORRELATOR_INSTANCE_ID", instance);
        e.put("CORRELATOR_HTTP_PORT", String.valueOf(port));
        e.put("CORRELATOR_HTTP_INSTANCES", "1");
        e.put("CORRELATOR_DRL_WATCH", "false");
        e.putAll(env);
        return new CorrelatorProcess(pb.start(), instance, port, log);
    }

    /** Waits until the instance answers /health/ready. */
    public CorrelatorProcess awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(instance + " exited with " + process.exitValue() + ":\n" + KafkaBroker.tail(log));
            }
            try {
                if (get("/health/ready").statusCode() == 200) {
                    return this;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(instance + " not ready within " + timeout + ":\n" + KafkaBroker.tail(log));
    }

    public HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public String instance() {
        return instance;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: the JVM gets no chance to commit, release or say goodbye. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    public String logTail() {
        return KafkaBroker.tail(log);
    }

    public List<String> logLines() throws java.io.IOException {
        return Files.readAllLines(log);
    }

    /** SIGTERM: the service's own clean stop. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
