package io.github.mispcorrelator.support;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes a blocked event loop fail the test. Every Vert.x a test runs — the one {@code VertxExtension} injects, the
 * service's ({@link ServiceUnderTest}), those tests build with {@link #vertx()} — has the options of
 * {@code vertx-test-options.json}: an event-loop task running longer than {@link #MAX_EVENT_LOOP_MILLIS} is reported
 * by Vert.x's blocked-thread checker, which looks every 100 ms. This logback appender (on the checker's logger, see
 * logback-test.xml) collects those reports, and this JUnit extension (registered for every test through
 * META-INF/services) fails the test — or the class, for set-up — that saw one. {@code BlockedEventLoopsTest} shows
 * that it does.
 */
public final class BlockedEventLoops extends AppenderBase<ILoggingEvent>
        implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    /** The options file, on the test class path; the build also names it to VertxExtension (pom.xml). */
    static final String OPTIONS = "vertx-test-options.json";
    private static final JsonObject OPTIONS_JSON = readOptions();
    /**
     * A quarter of Vert.x's default 2 s: a request's work on the event loop is well under a millisecond, so anything
     * near this is a blocking call. Not lower: on two cores shared by several builds a short task can wait a few
     * hundred milliseconds for a CPU, and an alarm that goes off for that would be ignored.
     */
    public static final long MAX_EVENT_LOOP_MILLIS = new VertxOptions(OPTIONS_JSON).getMaxEventLoopExecuteTime();

    private static final List<String> SEEN = new ArrayList<>();
    /** Vert.x's report: "Thread vert.x-eventloop-thread-1 has been blocked for 724 ms, time limit is 500 ms". */
    private static final Pattern REPORT = Pattern.compile("Thread (\\S+) has been blocked for (\\d+) ms");
    /** Per event-loop thread, when its last warm-up block began (epoch ms). */
    private static final Map<String, Long> WARM_UP = new HashMap<>();
    /** Two reports whose blocks began this close together are of one block (the checker's clock is coarse). */
    private static final long SAME_BLOCK_MILLIS = 250;

    private static JsonObject readOptions() {
        try (InputStream in = BlockedEventLoops.class.getClassLoader().getResourceAsStream(OPTIONS)) {
            if (in == null) {
                throw new IllegalStateException(OPTIONS + " is not on the test class path");
            }
            return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Options for every Vert.x a test creates (with the blocked thread's stack in the report: it says where). */
    public static VertxOptions options() {
        return new VertxOptions(OPTIONS_JSON);
    }

    public static Vertx vertx() {
        return Vertx.vertx(options());
    }

    @Override
    protected void append(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        // workers may block (JDBC); only event loops must not
        if (message != null && message.contains("eventloop")) {
            Matcher report = REPORT.matcher(message);
            String thread = report.find() ? report.group(1) : "";
            // when the block began: the checker's reports of one block (every 100 ms) all give the same start
            long since = event.getTimeStamp() - (thread.isEmpty() ? 0 : Long.parseLong(report.group(2)));
            if (event.getThrowableProxy() != null) {
                synchronized (WARM_UP) {
                    Long warmUpSince = WARM_UP.get(thread);
                    // once the class is loaded the stack has moved on, but it is still the same block
                    boolean stillWarmingUp = warmUpSince != null && Math.abs(since - warmUpSince) < SAME_BLOCK_MILLIS;
                    if (stillWarmingUp || loadingClasses(event.getThrowableProxy().getStackTraceElementProxyArray())) {
                        // the JVM loading (and initialising) Drools', Netty's or JFR's classes on first use: warm-up,
                        // once per JVM, not a defect of the code under test (which would show its own frames)
                        WARM_UP.put(thread, stillWarmingUp ? warmUpSince : since);
                        return;
                    }
                    WARM_UP.remove(thread);
                }
                StringBuilder where = new StringBuilder(message).append(" at");
                var frames = event.getThrowableProxy().getStackTraceElementProxyArray();
                for (int i = 0; i < Math.min(25, frames.length); i++) {
                    where.append("\n    ").append(frames[i].getSTEAsString());
                }
                message = where.toString();
            }
            synchronized (SEEN) {
                SEEN.add(message);
            }
        }
    }

    private static boolean loadingClasses(StackTraceElementProxy[] frames) {
        for (int i = 0; i < Math.min(25, frames.length); i++) {
            String f = frames[i].getSTEAsString();
            if (f.contains("java.lang.ClassLoader.") || f.contains("<clinit>") || f.contains("java.lang.invoke.")) {
                return true;
            }
        }
        return false;
    }

    /** Warnings seen since the last call. */
    public static List<String> drain() {
        synchronized (SEEN) {
            List<String> out = List.copyOf(SEEN);
            SEEN.clear();
            return out;
        }
    }

    private static final AtomicBoolean WARMED_UP = new AtomicBoolean();

    /**
     * Before the JVM's first test class: Vert.x's HTTP server and client, JSON and Netty's buffers once, on a Vert.x
     * of their own. Their first use loads and links classes (Netty even registers its JFR events) and, on a loaded
     * machine, takes longer than the limit; that is the JVM starting, not the code under test.
     */
    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (!WARMED_UP.compareAndSet(false, true)) {
            return;
        }
        Vertx v = vertx();
        try {
            HttpServer server = v.createHttpServer()
                    .requestHandler(r -> r.body().onSuccess(b -> r.response().putHeader("Content-Type", "application/json")
                            .end(new JsonObject().put("echo", b.toJsonObject()).toBuffer())))
                    .listen(0, "127.0.0.1").await(60, TimeUnit.SECONDS);
            WebClient client = WebClient.create(v);
            for (int i = 0; i < 20; i++) {
                client.post(server.actualPort(), "127.0.0.1", "/warm-up")
                        .sendJsonObject(new JsonObject().put("i", i)).await(60, TimeUnit.SECONDS).bodyAsJsonObject();
            }
            client.close();
        } catch (Exception e) {
            // a test that needs these shows what is wrong itself
        } finally {
            v.close().await(30, TimeUnit.SECONDS);
        }
        Thread.sleep(300); // the checker's last report of a warm-up block
        drain();
        synchronized (WARM_UP) {
            WARM_UP.clear();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        check();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        check();
    }

    private static void check() {
        List<String> seen = drain();
        if (!seen.isEmpty()) {
            throw new AssertionError("an event loop was blocked longer than " + MAX_EVENT_LOOP_MILLIS + " ms: "
                    + seen.get(0) + (seen.size() > 1 ? " (and " + (seen.size() - 1) + " more)" : ""));
        }
    }
}
