package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.rules.RuleExecutionException;
import io.github.mispcorrelator.store.StoreUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

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

    /** The alerts of a batch, each with its line in the body (NDJSON) or its position in the array (from 1). */
    public record Lines(List<String> texts, List<Integer> numbers, int blank) {
    }

    /** A batch refused whole: its status (400, 413) and why. */
    public static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** One line's outcome: {@code status} as {@code POST /v1/alerts} would answer it. */
    record LineResult(int line, int status, JsonObject body) {
        JsonObject toJson() {
            // the body is this result's own: no copy (a batch of thousands would copy them all on the event loop)
            return body.put("line", line).put("status", status);
        }
    }

    /**
     * Processes the batch. The future's JSON is {@code {"results":[…], "summary":{…}}}; {@code status} is 503 when any
     * line could not be stored (the shipper should send the batch again: stored lines are not duplicated), else 200.
     */
    public Future<JsonObject> process(Buffer body) {
        Lines lines;
        try {
            lines = split(body);
        } catch (Refused r) {
            return Future.succeededFuture(refusedAnswer(r));
        }
        return process(lines);
    }

    /** The answer to a batch refused whole (400, 413). */
    public static JsonObject refusedAnswer(Refused r) {
        return new JsonObject().put("status", r.status).put("error", r.getMessage());
    }

    /**
     * Splits the body as {@link #split(Buffer, int)} with this batch's line limit; may run on a worker thread (a 16 MiB
     * body takes a while). A body refused whole becomes a failed future with {@link Refused}.
     */
    public Lines split(Buffer body) {
        return split(body, maxLines);
    }

    /** Processes the alerts of a split body; the future's JSON is as {@link #process(Buffer)}'s. */
    public Future<JsonObject> process(Lines lines) {
        List<LineResult> results = new ArrayList<>(lines.texts().size());
        for (int i = 0; i < lines.texts().size(); i++) {
            results.add(null);
        }
        Promise<Void> done = Promise.promise();
        new Runner(lines, results, done).start();
        return done.future().map(v -> summarise(results, lines.blank()));
    }


    /**
     * Splits NDJSON into its non-blank lines, or a JSON array into its elements (each re-encoded). Blank lines are
     * counted, not kept: a body of a million blank lines must not become a million results. The array is read with
     * the same parser as single alerts ({@link AlertParser#MAPPER}: duplicate keys refused, nesting bounded).
     *
     * @throws Refused when the body holds no alert (400), more than {@code maxLines} (413), or a broken array (400)
     */
    static Lines split(Buffer body, int maxLines) {
        String text = body.toString(StandardCharsets.UTF_8);
        String trimmed = text.stripLeading();
        List<String> out = new ArrayList<>();
        List<Integer> numbers = new ArrayList<>();
        int[] blank = {0};
        if (trimmed.startsWith("[")) {
            com.fasterxml.jackson.databind.JsonNode array;
            try {
                array = AlertParser.MAPPER.readTree(trimmed);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new Refused(400, "malformed JSON array batch: " + e.getOriginalMessage()
                        + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() : ""));
            }
            if (array.size() > maxLines) {
                throw tooMany(array.size(), maxLines);
            }
            int n = 0;
            for (com.fasterxml.jackson.databind.JsonNode element : array) {
                n++;
                try {
                    out.add(AlertParser.MAPPER.writeValueAsString(element));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
                numbers.add(n);
            }
        } else {
            int[] n = {0};
            text.lines().forEach(line -> {
                n[0]++;
                if (line.isBlank()) {
                    blank[0]++;
                    return;
                }
                if (out.size() >= maxLines) {
                    throw tooMany(out.size() + 1, maxLines);
                }
                out.add(line);
                numbers.add(n[0]);
            });
        }
        if (out.isEmpty()) {
            throw new Refused(400, "empty batch: no alert in the body (send NDJSON, one alert a line, or a JSON array)");
        }
        return new Lines(out, numbers, blank[0]);
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
        private final List<String> lines;
        private final List<Integer> numbers;
        private final List<LineResult> results;
        private final Promise<Void> done;
        private int next;
        private int inFlight;
        private boolean pumping;
        private boolean again;

        Runner(Lines lines, List<LineResult> results, Promise<Void> done) {
            this.lines = lines.texts();
            this.numbers = lines.numbers();
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
            io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
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
                    finish(index, new LineResult(numbers.get(index), 500, new JsonObject().put("error",
                            "internal error: " + e.getClass().getSimpleName())));
                }
            }
        }

        private void launch(int index) {
            String text = lines.get(index);
            // the text is not needed once parsed: the batch holds less as it goes
            lines.set(index, null);
            int line = numbers.get(index);
            Alert alert;
            try {
                alert = AlertParser.parse(text);
            } catch (InvalidAlertException e) {
                finish(index, new LineResult(line, 400, new JsonObject().put("error", e.getMessage())));
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

    private static LineResult ok(int line, Correlation c) {
        JsonObject j = c.toJson();
        return new LineResult(line, 200, new JsonObject().put("alert_id", j.getString("alert_id"))
                .put("indicators", j.getJsonArray("indicators")).put("hits", j.getJsonArray("hits"))
                .put("events", j.getJsonArray("events")));
    }

    private static LineResult failed(int line, Alert alert, Throwable e) {
        int status = e instanceof StoreUnavailableException ? 503 : 500;
        String message = e instanceof StoreUnavailableException
                ? "hit store unavailable; nothing was stored for this line, send it again"
                : e instanceof RuleExecutionException ? e.getMessage() : "internal error: " + e.getClass().getSimpleName();
        return new LineResult(line, status, new JsonObject().put("alert_id", alert.getId()).put("error", message));
    }

    private static JsonObject summarise(List<LineResult> results, int blank) {
        JsonArray out = new JsonArray();
        int ok = 0;
        int bad = 0;
        int unavailable = 0;
        int hits = 0;
        for (LineResult r : results) {
            out.add(r.toJson());
            switch (r.status()) {
                case 200 -> {
                    ok++;
                    hits += r.body().getJsonArray("hits").size();
                }
                case 204 -> { }
                case 503 -> unavailable++;
                default -> bad++;
            }
        }
        return new JsonObject()
                .put("status", unavailable > 0 ? 503 : 200)
                .put("summary", new JsonObject().put("lines", results.size()).put("blank", blank).put("ok", ok).put("failed", bad)
                        .put("unavailable", unavailable).put("hits", hits))
                .put("results", out);
    }
}
