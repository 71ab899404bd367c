package io.github.mispcorrelator.support;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A real HTTP server standing in for MISP. It records every request and answers with whatever the test scripts:
 * by default a restSearch answer built from the attributes it was given, filtered by the request's values.
 */
public final class FakeMisp implements AutoCloseable {
    public record Request(String method, String path, MultiMap headers, String body) {
        public JsonObject json() {
            return new JsonObject(body);
        }
    }

    public record Answer(int status, Map<String, String> headers, String body, long delayMs) {
        public static Answer json(int status, String body) {
            return new Answer(status, Map.of("Content-Type", "application/json"), body, 0);
        }

        /** Never answers (a hung MISP). */
        public static Answer hang() {
            return new Answer(0, Map.of(), "", -1);
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Function<Request, Answer>> script = new AtomicReference<>();

    public FakeMisp() {
        this.vertx = BlockedEventLoops.vertx();
        try {
            this.server = vertx.createHttpServer()
                    .requestHandler(req -> req.body().onSuccess(body -> {
                        Request r = new Request(req.method().name(), req.path(), req.headers(), body.toString());
                        requests.add(r);
                        Answer a = script.get().apply(r);
                        if (a.delayMs() < 0) {
                            return;
                        }
                        Runnable send = () -> {
                            req.response().setStatusCode(a.status());
                            a.headers().forEach(req.response()::putHeader);
                            if (a.status() == 200 && r.path().endsWith("/restSearch")
                                    && !a.headers().containsKey("X-Result-Count")) {
                                // MISP counts every restSearch page (app/Controller/AppController.php:1442): a scripted
                                // answer gets the header too, so that its page is no longer read as cut short
                                req.response().putHeader("X-Result-Count", String.valueOf(resultCount(r.body(), a.body())));
                            }
                            req.response().end(Buffer.buffer(a.body()));
                        };
                        if (a.delayMs() > 0) {
                            vertx.setTimer(a.delayMs(), t -> send.run());
                        } else {
                            send.run();
                        }
                    }))
                    .listen(0, "127.0.0.1")
                    .await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        answerWithAttributes(List.of());
    }

    /** MISP's X-Result-Count for a page: its rows, plus one when it came back full (MispAttribute.php:3336-3386). */
    private static int resultCount(String request, String answer) {
        try {
            io.vertx.core.json.JsonObject body = new io.vertx.core.json.JsonObject(answer);
            Object response = body.getValue("response");
            int rows = response instanceof io.vertx.core.json.JsonArray a ? a.size()
                    : response instanceof io.vertx.core.json.JsonObject o && o.getJsonArray("Attribute") != null
                    ? o.getJsonArray("Attribute").size() : 0;
            int limit = request.isBlank() ? Integer.MAX_VALUE
                    : new io.vertx.core.json.JsonObject(request).getInteger("limit", Integer.MAX_VALUE);
            return rows >= limit ? rows + 1 : rows;
        } catch (RuntimeException notJson) {
            return 0;
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    public void answer(Function<Request, Answer> answer) {
        script.set(answer);
    }

    public void answer(Answer answer) {
        script.set(r -> answer);
    }

    /**
     * Answers restSearch like MISP: every given attribute whose value (or a half of a composite value) passes the
     * request's {@code value} filter with MISP's semantics ({@link StrictMisp#filter}: {@code !} negates in a plain
     * list, {@code %} at either end is a LIKE), with {@code X-Result-Count}.
     */
    public void answerWithAttributes(List<JsonObject> attributes) {
        script.set(r -> {
            if (r.path().equals("/servers/getVersion.json")) {
                return Answer.json(200, "{\"version\":\"2.5.1\",\"perm_sync\":false}");
            }
            if (!r.path().equals("/attributes/restSearch")) {
                return Answer.json(404, "{\"name\":\"Not Found\",\"message\":\"Not Found\",\"url\":\"" + r.path() + "\"}");
            }
            Object values = r.json().getValue("value");
            io.vertx.core.json.JsonArray found = new io.vertx.core.json.JsonArray();
            for (JsonObject a : attributes) {
                String v = a.getString("value");
                int bar = v.indexOf('|');
                if (StrictMisp.filter(values, bar < 0 ? List.of(v, "") : List.of(v.substring(0, bar), v.substring(bar + 1)), true)) {
                    found.add(a);
                }
            }
            return new Answer(200, Map.of("Content-Type", "application/json", "X-Result-Count",
                    Integer.toString(found.size())),
                    new JsonObject().put("response", new JsonObject().put("Attribute", found)).encode(), 0);
        });
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** restSearch requests only (not breaker probes). */
    public List<Request> searches() {
        return requests.stream().filter(r -> r.path().equals("/attributes/restSearch")).toList();
    }

    /** A restSearch attribute of a threat-level-2 event, as MISP returns it with includeContext. */
    public static JsonObject attribute(String uuid, String type, String value) {
        return new JsonObject().put("id", "1").put("event_id", "7").put("uuid", uuid).put("type", type)
                .put("category", "Network activity").put("to_ids", true).put("timestamp", "1756800000").put("value", value)
                .put("Event", new JsonObject().put("id", "7").put("uuid", "e7").put("info", "test event").put("threat_level_id", "2"));
    }

    public void reset() {
        requests.clear();
    }

    @Override
    public void close() {
        vertx.close();
    }
}
