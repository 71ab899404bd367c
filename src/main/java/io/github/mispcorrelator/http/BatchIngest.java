package io.github.mispcorrelator.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Many alerts in one request, as log shippers send them: NDJSON (Fluent Bit {@code json_lines}, Vector, curl) or a
 * JSON array (Logstash {@code json_batch}). Lines are processed concurrently, a bounded number at a time, and each
 * gets its own result, in order; a bad line never fails the others.
 */
public final class BatchIngest {
    /** Alerts in flight per batch: enough to overlap MISP round trips, few enough not to flood the JDBC pool. */
    static final int CONCURRENCY = 64;
    /** Alerts launched in one event-loop turn at most. */
    static final int SLICE = 16;

    private final Correlator correlator;
    private final int maxLines;

    public BatchIngest(Correlator correlator) {
        this(correlator, 20_000);
    }

    /** @param maxLines alerts one batch may carry ({@code HTTP_BATCH_MAX_LINES}); a longer batch is refused whole */
    public BatchIngest(Correlator correlator, int maxLines) {
        this.correlator = correlator;
        this.maxLines = maxLines;
    }

    /**
     * The alerts of a batch, each with its line in the body (NDJSON) or its position in the array (from 1), as bytes:
     * the body is never decoded to text (issue 16: decoding 1.6 MB to a {@code String} and each line back to bytes was
     * an eighth of the hot path).
     */
    public record Lines(List<Line> lines, int blank) {
    }

    /** One alert's bytes, {@code length} of them from {@code offset} in {@code bytes} (shared by the batch's lines). */
    public record Line(byte[] bytes, int offset, int length, int number) {
    }

    /** A batch refused whole: its status (400, 413) and why. */
    public static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * The answer to a batch: its HTTP status (503 when any line could not be stored: send the batch again, stored
     * lines are not duplicated; 400 or 413 for a batch refused whole; else 200) and its body, written when asked for
     * ({@link #encoded()}: straight into the buffer, off the event loop, issue 16).
     */
    public static final class Answer {
        private final int status;
        private final String error;
        private final List<LineResult> results;
        private final JsonObject summary;

        private Answer(int status, String error, List<LineResult> results, JsonObject summary) {
            this.status = status;
            this.error = error;
            this.results = results;
            this.summary = summary;
        }

        public int status() {
            return status;
        }

        /** Why the batch was refused whole (400, 413), or null. */
        public String error() {
            return error;
        }

        /**
         * {@code {"summary":{…},"results":[…]}}, or {@code {"error":…}} for a batch refused whole: each line's
         * result written from its correlation as it comes, no tree of the answer built.
         */
        public Buffer encoded() {
            if (error != null) {
                return new JsonObject().put("error", error).toBuffer();
            }
            AlertAnswer.BufferStream out = new AlertAnswer.BufferStream(Buffer.buffer(256 + 256 * results.size()));
            try (JsonGenerator g = AlertAnswer.generator(out)) {
                g.writeStartObject();
                g.writeFieldName("summary");
                JacksonCodec.encodeJson(summary, g);
                g.writeFieldName("results");
                g.writeStartArray();
                for (LineResult r : results) {
                    r.write(g);
                }
                g.writeEndArray();
                g.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.buffer();
        }

        /** The body as JSON: {@link #encoded()} read back (for tests and tools; the service sends the bytes). */
        public JsonObject body() {
            return new JsonObject(encoded());
        }
    }

    /**
     * One line's outcome: {@code status} as {@code POST /v1/alerts} would answer it ({@link IngestFailure}), with what
     * its answer names (200: indicators, hits, events; the events built as the line completes) or its error and, when
     * it parsed, its alert's id. Not the correlation: a batch of 20,000 would hold all its alerts to the end; only
     * lines with hits hold theirs (a hit names its alert).
     */
    record LineResult(int line, int status, String alertId, List<Indicator> indicators, List<Hit> hits,
                      List<JsonObject> events, String error) {
        /** {@code {alert_id, indicators, hits, events, line, status}} or {@code {[alert_id,] error, line, status}}. */
        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            if (error == null) {
                AlertAnswer.writeFields(g, alertId, indicators, hits, events);
            } else {
                if (alertId != null) {
                    g.writeStringField("alert_id", alertId);
                }
                g.writeStringField("error", error);
            }
            g.writeNumberField("line", line);
            g.writeNumberField("status", status);
            g.writeEndObject();
        }
    }

    /** Processes the batch; the body of the answer is {@code {"results":[…], "summary":{…}}}. */
    public Future<Answer> process(Buffer body) {
        Lines lines;
        try {
            lines = split(body);
        } catch (Refused r) {
            return Future.succeededFuture(refusedAnswer(r));
        }
        return process(lines);
    }

    /** The answer to a batch refused whole (400, 413). */
    public static Answer refusedAnswer(Refused r) {
        return new Answer(r.status, r.getMessage(), List.of(), null);
    }

    /**
     * Splits the body as {@link #split(Buffer, int)} with this batch's line limit; may run on a worker thread (a 16 MiB
     * body takes a while). A body refused whole becomes a failed future with {@link Refused}.
     */
    public Lines split(Buffer body) {
        return split(body, maxLines);
    }

    /** Processes the alerts of a split body; the answer is as {@link #process(Buffer)}'s. */
    public Future<Answer> process(Lines lines) {
        List<LineResult> results = new ArrayList<>(lines.lines().size());
        for (int i = 0; i < lines.lines().size(); i++) {
            results.add(null);
        }
        Promise<Void> done = Promise.promise();
        new Runner(lines, results, done).start();
        return done.future().map(v -> summarise(results, lines.blank()));
    }


    /**
     * Splits NDJSON into its non-blank lines, or a JSON array into its elements (each re-encoded). Blank lines are
     * counted, not kept: a body of a million blank lines must not become a million results. The array is read with
     * the same parser as single alerts ({@link Json#MAPPER}: duplicate keys refused, nesting bounded).
     * NDJSON is split on the bytes: lines end at {@code \n}, {@code \r\n} or a lone {@code \r} (as
     * {@link String#lines()} splits them), and a line of whitespace only is blank.
     *
     * @throws Refused when the body holds no alert (400), more than {@code maxLines} (413), or a broken array (400)
     */
    static Lines split(Buffer body, int maxLines) {
        byte[] bytes = body.getBytes();
        int first = 0;
        while (first < bytes.length && asciiSpace(bytes[first])) {
            first++;
        }
        if (first < bytes.length && bytes[first] < 0) {
            // a non-ASCII character first: whether it is white space is the decoder's call (rare; never a shipper)
            String text = new String(bytes, StandardCharsets.UTF_8).stripLeading();
            return text.startsWith("[") ? array(text.getBytes(StandardCharsets.UTF_8), 0, maxLines)
                    : ndjson(bytes, maxLines);
        }
        return first < bytes.length && bytes[first] == '[' ? array(bytes, first, maxLines) : ndjson(bytes, maxLines);
    }

    private static Lines array(byte[] bytes, int from, int maxLines) {
        JsonNode array;
        try {
            array = Json.MAPPER.readTree(bytes, from, bytes.length - from);
        } catch (JsonProcessingException e) {
            throw new Refused(400, "malformed JSON array batch: " + Json.problem(e)
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() : ""));
        } catch (IOException e) {
            throw new Refused(400, "unreadable JSON array batch: " + e.getMessage());
        }
        if (array.size() > maxLines) {
            throw tooMany(array.size(), maxLines);
        }
        List<Line> out = new ArrayList<>(array.size());
        int n = 0;
        for (JsonNode element : array) {
            n++;
            try {
                byte[] encoded = Json.MAPPER.writeValueAsBytes(element);
                out.add(new Line(encoded, 0, encoded.length, n));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        if (out.isEmpty()) {
            throw emptyBatch();
        }
        return new Lines(out, 0);
    }

    private static Lines ndjson(byte[] bytes, int maxLines) {
        List<Line> out = new ArrayList<>();
        int blank = 0;
        int number = 0;
        int start = 0;
        int length = bytes.length;
        while (start < length) {
            int end = start;
            while (end < length && bytes[end] != '\n' && bytes[end] != '\r') {
                end++;
            }
            number++;
            if (blank(bytes, start, end)) {
                blank++;
            } else {
                if (out.size() >= maxLines) {
                    throw tooMany(out.size() + 1, maxLines);
                }
                out.add(new Line(bytes, start, end - start, number));
            }
            start = end < length && bytes[end] == '\r' && end + 1 < length && bytes[end + 1] == '\n' ? end + 2 : end + 1;
        }
        if (out.isEmpty()) {
            throw emptyBatch();
        }
        return new Lines(out, blank);
    }

    /** Whether the line holds white space only ({@link String#isBlank()}'s meaning, decoded only when not ASCII). */
    private static boolean blank(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!asciiSpace(bytes[i])) {
                return bytes[i] < 0 && new String(bytes, i, to - i, StandardCharsets.UTF_8).isBlank();
            }
        }
        return true;
    }

    /** {@link Character#isWhitespace} for the ASCII range. */
    private static boolean asciiSpace(byte b) {
        return b == ' ' || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F);
    }

    private static Refused emptyBatch() {
        return new Refused(400, "empty batch: no alert in the body (send NDJSON, one alert a line, or a JSON array)");
    }

    private static Refused tooMany(int lines, int max) {
        return new Refused(413, "batch too long: " + (lines > max ? "more than " + max : lines)
                + " alerts (limit set by CORRELATOR_HTTP_BATCH_MAX_LINES); split it");
    }

    /**
     * Keeps up to {@link #CONCURRENCY} alerts in flight. Completions may arrive synchronously (a feed lookup with no
     * hit completes at once), so {@link #pump} is a trampoline: a nested call only asks the running loop to go on,
     * and a batch of any size never deepens the stack.
     */
    private final class Runner {
        private final List<Line> lines;
        private final List<LineResult> results;
        /** Each line's number, kept when its bytes are let go. */
        private final int[] numbers;
        private final Promise<Void> done;
        private int next;
        private int inFlight;
        private boolean pumping;
        private boolean again;

        Runner(Lines lines, List<LineResult> results, Promise<Void> done) {
            this.lines = new ArrayList<>(lines.lines());
            this.numbers = this.lines.stream().mapToInt(Line::number).toArray();
            this.results = results;
            this.done = done;
        }

        void start() {
            pump();
        }

        private void pump() {
            synchronized (this) {
                if (pumping) {
                    again = true;
                    return;
                }
                pumping = true;
            }
            Context context = Vertx.currentContext();
            int launched = 0;
            while (true) {
                int index;
                synchronized (this) {
                    if (context != null && launched >= SLICE && next < lines.size() && inFlight < CONCURRENCY) {
                        // alerts that complete at once (a feed lookup) would run the whole batch in one event-loop
                        // turn: hand the loop back now and then, so other requests are served in between
                        pumping = false;
                        context.runOnContext(v -> pump());
                        return;
                    }
                    if (inFlight >= CONCURRENCY || next >= lines.size()) {
                        if (again) {
                            again = false;
                            continue;
                        }
                        pumping = false;
                        if (inFlight == 0 && next >= lines.size()) {
                            done.tryComplete();
                        }
                        return;
                    }
                    index = next++;
                    inFlight++;
                }
                launched++;
                try {
                    launch(index);
                } catch (RuntimeException | StackOverflowError e) {
                    // a line must never stall the batch: it fails alone
                    finish(index, failed(numbers[index], null, e));
                }
            }
        }

        private void launch(int index) {
            Line text = lines.get(index);
            // an array element's bytes are not needed once parsed: the batch holds less as it goes
            lines.set(index, null);
            int line = text.number();
            Alert alert;
            try {
                alert = AlertParser.parse(text.bytes(), text.offset(), text.length());
            } catch (InvalidAlertException e) {
                finish(index, failed(line, null, e));
                return;
            }
            correlator.process(alert).onComplete(ar -> finish(index, ar.succeeded()
                    ? ok(line, ar.result())
                    : failed(line, alert, ar.cause())));
        }

        private void finish(int index, LineResult result) {
            synchronized (this) {
                results.set(index, result);
                inFlight--;
            }
            pump();
        }
    }

    /** The single alert's answer without {@code ruleset} (the batch's lines share it), written at the end. */
    static LineResult ok(int line, Correlation c) {
        return new LineResult(line, 200, c.alert().getId(), c.indicators(), c.hits(), WazuhEvents.of(c), null);
    }

    /** @param alert the line's alert, or null when it did not parse */
    private static LineResult failed(int line, Alert alert, Throwable e) {
        IngestFailure f = IngestFailure.of(e, true);
        return failed(line, f.status(), alert == null ? null : alert.getId(), f.error());
    }

    static LineResult failed(int line, int status, String alertId, String error) {
        return new LineResult(line, status, alertId, null, null, null, error);
    }

    static Answer summarise(List<LineResult> results, int blank) {
        int ok = 0;
        int bad = 0;
        int unavailable = 0;
        int hits = 0;
        for (LineResult r : results) {
            switch (r.status()) {
                case 200 -> {
                    ok++;
                    hits += r.hits().size();
                }
                case 204 -> { }
                case 503 -> unavailable++;
                default -> bad++;
            }
        }
        return new Answer(unavailable > 0 ? 503 : 200, null, results, new JsonObject().put("lines", results.size())
                .put("blank", blank).put("ok", ok).put("failed", bad).put("unavailable", unavailable).put("hits", hits));
    }
}
