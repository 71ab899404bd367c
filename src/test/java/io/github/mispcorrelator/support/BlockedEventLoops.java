package io.github.mispcorrelator.support;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a blocked event loop fail the test. Every Vert.x a test runs — the one {@code VertxExtension} injects, the
 * service's ({@link ServiceUnderTest}), those tests build with {@link #vertx()} — has the options of
 * {@code vertx-test-options.json}: an event-loop task running longer than {@link #MAX_EVENT_LOOP_MILLIS} is reported
 * by Vert.x's blocked-thread checker, which looks every 100 ms. This logback appender (on the checker's logger, see
 * logback-test.xml) collects those reports, and this JUnit extension (registered for every test through
 * META-INF/services) fails the test — or the class, for set-up — that saw one. {@code BlockedEventLoopsTest} shows
 * that it does.
 */
public final class BlockedEventLoops extends AppenderBase<ILoggingEvent> implements AfterEachCallback, AfterAllCallback {
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
            if (event.getThrowableProxy() != null) {
                if (loadingClasses(event.getThrowableProxy().getStackTraceElementProxyArray())) {
                    // the JVM loading Drools' or Netty's classes on first use: warm-up, once per JVM, not a defect
                    // of the code under test (which would show its own frames at the top)
                    return;
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
