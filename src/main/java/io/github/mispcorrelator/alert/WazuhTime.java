package io.github.mispcorrelator.alert;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Reads an alert's {@code timestamp}. Wazuh writes {@code 2025-08-13T08:45:06.785+0000} (no colon in the offset);
 * other producers write ISO-8601 ({@code …+00:00}). Every alert is read at least once (the parser refuses a year
 * outside {@link Alert#EARLIEST} .. {@link Alert#LATEST}), and {@link DateTimeFormatter} took about a tenth of the
 * service's CPU in a warm-batch profile, so the common shape is read by hand. The hand path is a strict subset of
 * the formatters: anything it is not sure of (a day past the 28th, hour 24, a leap second, an odd fraction width, a
 * colon offset, {@code -0000}) goes to them, so the answer is always theirs ({@code WazuhTimeTest} compares both on
 * many strings).
 */
final class WazuhTime {
    /** The format Wazuh writes. */
    static final DateTimeFormatter WAZUH =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss[.SSSSSS][.SSS][.SS][.S]XX");

    private WazuhTime() {
    }

    /** The timestamp as written, parsed, whatever its year; empty when absent or unreadable. */
    static Optional<Instant> parse(String text) {
        String t = text.strip();
        if (t.isEmpty() || t.length() > 64) {
            return Optional.empty();
        }
        Instant fast = fast(t);
        return fast != null ? Optional.of(fast) : slow(t);
    }

    static Optional<Instant> slow(String t) {
        try {
            return Optional.of(OffsetDateTime.parse(t, WAZUH).toInstant());
        } catch (DateTimeException e) {
            try {
                return Optional.of(OffsetDateTime.parse(t).toInstant());
            } catch (DateTimeException e2) {
                return Optional.empty();
            }
        }
    }

    /**
     * {@code yyyy-MM-ddTHH:mm:ss[.f{1,2,3,6}](Z|±HHMM)} with every field in its plain range, else null (ask the
     * formatters).
     */
    static Instant fast(String t) {
        int n = t.length();
        if (n < 20 || t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != 'T' || t.charAt(13) != ':'
                || t.charAt(16) != ':') {
            return null;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        if (year < 1 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0
                || minute > 59 || second < 0 || second > 59) {
            return null;
        }
        int i = 19;
        long nanos = 0;
        if (t.charAt(i) == '.') {
            int start = ++i;
            while (i < n && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
                i++;
            }
            int width = i - start;
            if (width != 1 && width != 2 && width != 3 && width != 6) {
                return null;
            }
            nanos = digits(t, start, width);
            for (int w = width; w < 9; w++) {
                nanos *= 10;
            }
        }
        int offsetSeconds;
        if (i == n - 1 && t.charAt(i) == 'Z') {
            offsetSeconds = 0;
        } else if (i == n - 5 && (t.charAt(i) == '+' || t.charAt(i) == '-')) {
            int oh = digits(t, i + 1, 2);
            int om = digits(t, i + 3, 2);
            if (oh < 0 || om < 0 || oh > 17 || om > 59) {
                return null;
            }
            offsetSeconds = (oh * 3600 + om * 60) * (t.charAt(i) == '-' ? -1 : 1);
            if (offsetSeconds == 0 && t.charAt(i) == '-') {
                return null;
            }
        } else {
            return null;
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        long seconds = epochDay * 86_400 + hour * 3600L + minute * 60L + second - offsetSeconds;
        return Instant.ofEpochSecond(seconds, nanos);
    }

    /** The non-negative number written in {@code width} ASCII digits at {@code from}, or -1. */
    private static int digits(String t, int from, int width) {
        int v = 0;
        for (int i = from; i < from + width; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
