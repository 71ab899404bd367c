package io.github.mispcorrelator.coverage;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.rules.RuleSet;

import java.util.ArrayList;
import java.util.List;

/**
 * The last N live alerts, for {@code GET /v1/coverage}: a fixed ring of references to alerts already parsed, so the
 * hot path only stores a pointer and memory stays bounded (N alerts, a few KB each). The report is computed on
 * demand, off the event loop, with the rules in force then.
 */
public final class RecentAlerts {
    private final Alert[] ring;
    private long next;

    public RecentAlerts(int capacity) {
        this.ring = new Alert[Math.max(0, capacity)];
    }

    public void add(Alert alert) {
        if (ring.length == 0) {
            return;
        }
        synchronized (this) {
            ring[(int) (next++ % ring.length)] = alert;
        }
    }

    public synchronized List<Alert> snapshot() {
        List<Alert> out = new ArrayList<>(ring.length);
        long from = Math.max(0, next - ring.length);
        for (long i = from; i < next; i++) {
            out.add(ring[(int) (i % ring.length)]);
        }
        return out;
    }

    public int capacity() {
        return ring.length;
    }

    /** The blind-spot report over the alerts held now (blocking: CPU-bound, call it on a worker). */
    public CoverageReport report(RuleSet rules) {
        CoverageReport report = new CoverageReport();
        for (Alert a : snapshot()) {
            report.add(a, rules);
        }
        return report;
    }
}
