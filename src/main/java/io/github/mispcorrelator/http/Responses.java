package io.github.mispcorrelator.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/** JSON answers and errors, one shape everywhere: {@code {"error": "..."}}; never cached (they carry hit data). */
public final class Responses {
    private static final Logger LOG = LoggerFactory.getLogger(Responses.class);

    /** The routing-context key under which a route names the configuration key of its body limit. */
    static final String LIMIT_KEY = "body.limit.key";

    private Responses() {
    }

    public static void json(RoutingContext ctx, int status, JsonObject body) {
        json(ctx, status, body.toBuffer());
    }

    /** A JSON answer already encoded (a large one is encoded off the event loop). */
    public static void json(RoutingContext ctx, int status, Buffer encoded) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        ctx.response()
                .setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .putHeader("Cache-Control", "no-store")
                .end(encoded);
    }

    public static void error(RoutingContext ctx, int status, String message) {
        json(ctx, status, new JsonObject().put("error", message));
    }

    /** Failures raised by handlers, e.g. the body handler's 413. */
    static void failure(RoutingContext ctx) {
        int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        String message = switch (status) {
            case 413 -> "request body too large (limit set by CORRELATOR_"
                    + Objects.requireNonNullElse(ctx.<String>get(LIMIT_KEY), "HTTP_BODY_LIMIT") + ")";
            case 400 -> "bad request" + (ctx.failure() != null ? ": " + ctx.failure().getMessage() : "");
            default -> status >= 500 ? "internal error" : "request failed";
        };
        if (status >= 500) {
            LOG.error("Request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
        }
        error(ctx, status, message);
    }
}
