package io.github.mispcorrelator.bench;

import java.nio.charset.StandardCharsets;

/**
 * One generated alert: its JSON with a placeholder id, and what the correlator must find in it.
 *
 * @param planted    every value put into an indicator field ({@code type:value}, as the correlator reports it)
 * @param bad        the planted values MISP knows
 * @param attributes for each bad value, how many MISP attributes match it (each is one hit)
 */
record BenchAlert(byte[] body, int idOffset, Workload.Kind kind, String[] planted, String[] bad, int[] attributes) {

    /** The hits the answer must list: one per matching attribute of each bad value. */
    int expectedHits() {
        int n = 0;
        for (int a : attributes) {
            n += a;
        }
        return n;
    }

    /** The alert id for a sequence number, as written into the body. */
    static String id(long sequence) {
        String digits = Long.toString(sequence);
        return Workload.ID_PREFIX + "0".repeat(Workload.ID_DIGITS - digits.length()) + digits;
    }

    /** A copy of the body carrying the alert id of {@code sequence}: every alert sent is a new alert. */
    byte[] withId(long sequence) {
        byte[] copy = body.clone();
        writeId(copy, idOffset, sequence);
        return copy;
    }

    /** Writes the id digits of {@code sequence} at {@code offset} of {@code target} (which holds the marker). */
    static void writeId(byte[] target, int offset, long sequence) {
        int end = offset + Workload.ID_PREFIX.length() + Workload.ID_DIGITS;
        long s = sequence;
        for (int i = end - 1; i >= end - Workload.ID_DIGITS; i--) {
            target[i] = (byte) ('0' + (s % 10));
            s /= 10;
        }
    }

    String text() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
