package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.Correlation;
import io.github.mispcorrelator.Correlator;
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

    private final Correlator correlator;

    public BatchIngest(Correlator correlator) {
        this.correlator = correlator;
    }

    /** One line's outcome: {@code status} as {@code POST /v1/alerts} would answer it. */
    record LineResult(int line, int status, JsonObject body) {
        JsonObject toJson() {
            return body.copy().put("line", line).put("status", status);
        }
    }

    /**
     * Processes the batch. The future's JSON is {@code {"results":[…], "summary":{…}}}; {@code status} is 503 when any
     * line could not be stored (the shipper should send the batch again: stored lines are not duplicated), else 200.
     */
    public Future<JsonObject> process(Buffer body) {
        List<String> lines = split(body);
        List<LineResult> results = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            results.add(null);
        }
        Promise<Void> done = Promise.promise();
        new Runner(lines, results, done).start();
        return done.future().map(v -> summarise(results));
    }

    /** Splits NDJSON into lines, or a JSON array into its elements (each re-encoded). Blank lines are skipped. */
    static List<String> split(Buffer body) {
        String text = body.toString(StandardCharsets.UTF_8);
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("[")) {
            try {
                JsonArray array = new JsonArray(trimmed);
                List<String> out = new ArrayList<>(array.size());
                for (Object o : array) {
                    out.add(io.vertx.core.json.Json.encode(o));
                }
                return out;
            } catch (RuntimeException e) {
                // not a JSON array after all: treat as lines, each reports its own error
            }
        }
        List<String> out = new ArrayList<>();
        text.lines().forEach(out::add);
        return out;
    }

    /**
     * Keeps up to {@link #CONCURRENCY} alerts in flight. Completions may arrive synchronously (a feed lookup with no
     * hit completes at once), so {@link #pump} is a trampoline: a nested call only asks the running loop to go on,
     * and a batch of any size never deepens the stack.
     */
    private final class Runner {
        private final List<String> lines;
        private final List<LineResult> results;
        private final Promise<Void> done;
        private int next;
        private int inFlight;
        private boolean pumping;
        private boolean again;

        Runner(List<String> lines, List<LineResult> results, Promise<Void> done) {
            this.lines = lines;
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
            while (true) {
                int index;
                synchronized (this) {
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
                try {
                    launch(index);
                } catch (RuntimeException | StackOverflowError e) {
                    // a line must never stall the batch: it fails alone
                    finish(index, new LineResult(index + 1, 500, new JsonObject().put("error",
                            "internal error: " + e.getClass().getSimpleName())));
                }
            }
        }

        private void launch(int index) {
            String text = lines.get(index);
            if (text.isBlank()) {
                finish(index, new LineResult(index + 1, 204, new JsonObject().put("skipped", "blank line")));
                return;
            }
            Alert alert;
            try {
                alert = AlertParser.parse(text);
            } catch (InvalidAlertException e) {
                finish(index, new LineResult(index + 1, 400, new JsonObject().put("error", e.getMessage())));
                return;
            }
            correlator.process(alert).onComplete(ar -> finish(index, ar.succeeded()
                    ? ok(index, ar.result())
                    : failed(index, alert, ar.cause())));
        }

        private void finish(int index, LineResult result) {
            synchronized (this) {
                results.set(index, result);
                inFlight--;
            }
            pump();
        }
    }

    private static LineResult ok(int index, Correlation c) {
        JsonObject j = c.toJson();
        return new LineResult(index + 1, 200, new JsonObject().put("alert_id", j.getString("alert_id"))
                .put("indicators", j.getJsonArray("indicators")).put("hits", j.getJsonArray("hits"))
                .put("events", j.getJsonArray("events")));
    }

    private static LineResult failed(int index, Alert alert, Throwable e) {
        int status = e instanceof StoreUnavailableException ? 503 : 500;
        String message = e instanceof StoreUnavailableException
                ? "hit store unavailable; nothing was stored for this line, send it again"
                : e instanceof RuleExecutionException ? e.getMessage() : "internal error: " + e.getClass().getSimpleName();
        return new LineResult(index + 1, status, new JsonObject().put("alert_id", alert.getId()).put("error", message));
    }

    private static JsonObject summarise(List<LineResult> results) {
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
                .put("summary", new JsonObject().put("lines", results.size()).put("ok", ok).put("failed", bad)
                        .put("unavailable", unavailable).put("hits", hits))
                .put("results", out);
    }
}
