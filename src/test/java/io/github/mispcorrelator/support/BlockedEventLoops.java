package io.github.mispcorrelator.support;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a blocked event loop fail the test. Test Vert.x instances ({@link #options()}, {@link #vertx()}) warn when an
 * event-loop task runs longer than {@link #MAX_EVENT_LOOP_MILLIS}; this logback appender (on Vert.x's
 * {@code BlockedThreadChecker} logger, see logback-test.xml) collects those warnings, and this JUnit extension
 * (registered for every test through META-INF/services) fails the test — or the class, for set-up — that saw one.
 */
public final class BlockedEventLoops extends AppenderBase<ILoggingEvent> implements AfterEachCallback, AfterAllCallback {
    /**
     * Half of Vert.x's default 2 s. Lower would catch more, but on two cores shared by several builds a short
     * task can wait that long for a CPU, and a flaky alarm would be ignored.
     */
    public static final long MAX_EVENT_LOOP_MILLIS = 1000;

    private static final List<String> SEEN = new ArrayList<>();

    /** Options for every Vert.x a test creates. */
    public static VertxOptions options() {
        return new VertxOptions()
                .setMaxEventLoopExecuteTime(MAX_EVENT_LOOP_MILLIS).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                .setBlockedThreadCheckInterval(100).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
                // with the blocked thread's stack: the failure says where it was stuck
                .setWarningExceptionTime(MAX_EVENT_LOOP_MILLIS).setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS);
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

    private static boolean loadingClasses(ch.qos.logback.classic.spi.StackTraceElementProxy[] frames) {
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
