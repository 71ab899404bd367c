package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The observations of the last few seconds, aggregated in memory per value, manager, agent and UTC day, until they
 * are written in one batch ({@link ObservationStore#write}). Bounded: at {@code capacity} entries the caller is told
 * to flush early; entries that do not fit while a flush is still writing are dropped and counted, never queued, so
 * the pipeline never waits for the database and memory stays at most two buffers. Thread-safe (alerts arrive on every
 * event loop); each call holds the lock for one alert's few indicators only.
 */
public final class ObservationBuffer {

    /** One row of {@code observation_days}. */
    public record Key(String type, String value, String manager, String agentId, LocalDate day) {
    }

    /** What is known of one key so far. Times in epoch milliseconds. */
    public static final class Entry {
        String agentName;
        long firstSeen;
        long lastSeen;
        long alerts;
        String firstAlertId;
        String lastAlertId;

        public String agentName() {
            return agentName;
        }

        public Instant firstSeen() {
            return Instant.ofEpochMilli(firstSeen);
        }

        public Instant lastSeen() {
            return Instant.ofEpochMilli(lastSeen);
        }

        public long alerts() {
            return alerts;
        }

        public String firstAlertId() {
            return firstAlertId;
        }

        public String lastAlertId() {
            return lastAlertId;
        }
    }

    /** One row of {@code observations}: a value over all agents and days of a batch. */
    public record Total(String type, String value, Instant firstSeen, Instant lastSeen, long alerts) {
    }

    /**
     * What one flush writes: the day rows and the per-value totals, each sorted by key so that two writers (two
     * instances of the service) lock rows in the same order and cannot deadlock.
     */
    public record Batch(List<Map.Entry<Key, Entry>> days, List<Total> totals) {
        public boolean isEmpty() {
            return days.isEmpty();
        }
    }

    private static final Comparator<Key> KEY_ORDER = Comparator.comparing(Key::value).thenComparing(Key::type)
            .thenComparing(Key::manager).thenComparing(Key::agentId).thenComparing(Key::day);

    private final int capacity;
    private final Duration lookBack;
    private HashMap<Key, Entry> current = new HashMap<>();
    private long dropped;

    /**
     * @param capacity entries held before a flush is asked for (and, while one writes, the most held besides it)
     * @param lookBack how far back an alert may be and still be recorded (older: its day is already dropped)
     */
    public ObservationBuffer(int capacity, Duration lookBack) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be 1 or more");
        }
        this.capacity = capacity;
        this.lookBack = lookBack;
    }

    /**
     * Adds one alert's indicators, at the alert's own time (its timestamp; now when it has none or one in the future,
     * a clock that runs ahead). An alert older than the look-back window is not recorded.
     *
     * @return true when the buffer is full: flush now
     */
    public boolean record(Alert alert, List<Indicator> indicators, Instant now) {
        if (indicators.isEmpty()) {
            return false;
        }
        long nowMs = now.toEpochMilli();
        long at = alert.getEpochMilli().orElse(nowMs);
        if (at > nowMs) {
            at = nowMs;
        }
        if (at < nowMs - lookBack.toMillis()) {
            return false;
        }
        LocalDate day = Instant.ofEpochMilli(at).atOffset(ZoneOffset.UTC).toLocalDate();
        String manager = ObservationStore.clean(alert.getManager());
        String agentId = ObservationStore.clean(alert.getAgentId());
        String agentName = ObservationStore.clean(alert.getAgentName());
        String alertId = ObservationStore.clean(alert.getId());
        synchronized (this) {
            for (Indicator i : indicators) {
                Key key = new Key(i.type().id(), i.value(), manager, agentId, day);
                Entry e = current.get(key);
                if (e == null) {
                    if (current.size() >= capacity * 2) {
                        // a flush is writing and this buffer filled up again: the database is slower than the alerts
                        dropped++;
                        continue;
                    }
                    e = new Entry();
                    e.firstSeen = at;
                    e.lastSeen = at;
                    e.firstAlertId = alertId;
                    e.lastAlertId = alertId;
                    current.put(key, e);
                } else {
                    if (at < e.firstSeen) {
                        e.firstSeen = at;
                        e.firstAlertId = alertId;
                    }
                    if (at >= e.lastSeen) {
                        e.lastSeen = at;
                        e.lastAlertId = alertId;
                    }
                }
                e.agentName = agentName;
                e.alerts++;
            }
            return current.size() >= capacity;
        }
    }

    /** Takes everything held, leaving the buffer empty: the batch a flush writes. */
    public Batch drain() {
        HashMap<Key, Entry> taken;
        synchronized (this) {
            if (current.isEmpty()) {
                return new Batch(List.of(), List.of());
            }
            taken = current;
            current = new HashMap<>(Math.min(capacity, taken.size() * 2));
        }
        List<Map.Entry<Key, Entry>> days = new ArrayList<>(taken.entrySet());
        days.sort(Map.Entry.comparingByKey(KEY_ORDER));
        Map<String, Total> totals = new LinkedHashMap<>();
        for (Map.Entry<Key, Entry> d : days) {
            Key k = d.getKey();
            Entry e = d.getValue();
            // sorted by value, then type: each value's rows are adjacent, so the totals come out sorted too
            totals.merge(k.type() + ":" + k.value(),
                    new Total(k.type(), k.value(), e.firstSeen(), e.lastSeen(), e.alerts),
                    (a, b) -> new Total(a.type(), a.value(), min(a.firstSeen(), b.firstSeen()),
                            max(a.lastSeen(), b.lastSeen()), a.alerts() + b.alerts()));
        }
        return new Batch(days, List.copyOf(totals.values()));
    }

    /** Entries held now. */
    public synchronized int size() {
        return current.size();
    }

    /** Entries dropped so far because the buffer was full (alerts faster than the database). */
    public synchronized long dropped() {
        return dropped;
    }

    public int capacity() {
        return capacity;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
