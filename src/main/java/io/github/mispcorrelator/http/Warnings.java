package io.github.mispcorrelator.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Warnings about what callers send (unknown tokens, bad alerts, full service, too many connections): each reason is
 * counted in {@code /metrics} ({@code http_rejected_requests_total{reason}}) and logged at most once per period,
 * with how many were not logged since. A flood of bad requests must not become a flood of log lines.
 */
public final class Warnings {
    private final long periodNanos;
    private final MeterRegistry registry;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    private static final class State {
        final AtomicLong lastLogged = new AtomicLong();
        final AtomicLong suppressed = new AtomicLong();
        volatile boolean logged;
        Counter counter;
    }

    /** @param registry where the counters go, or null for none */
    public Warnings(MeterRegistry registry, Duration period) {
        this.registry = registry;
        this.periodNanos = period.toNanos();
    }

    /** Counts one rejection of {@code reason} and logs it at WARN unless one was logged within the period. */
    public void warn(Logger log, String reason, String format, Object... args) {
        State s = states.computeIfAbsent(reason, r -> {
            State n = new State();
            if (registry != null) {
                n.counter = Counter.builder("http_rejected_requests").tag("reason", r)
                        .description("Requests refused, by reason (each logged at most once a minute)").register(registry);
            }
            return n;
        });
        if (s.counter != null) {
            s.counter.increment();
        }
        long now = System.nanoTime();
        long last = s.lastLogged.get();
        if (s.logged && now - last < periodNanos || !s.lastLogged.compareAndSet(last, now)) {
            s.suppressed.incrementAndGet();
            return;
        }
        s.logged = true;
        long skipped = s.suppressed.getAndSet(0);
        if (log.isWarnEnabled()) {
            String line = org.slf4j.helpers.MessageFormatter.arrayFormat(format, args).getMessage();
            log.warn("{}{}", line, skipped > 0 ? " (" + skipped + " more like it not logged since the last)" : "");
        }
    }
}
