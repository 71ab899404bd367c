package io.github.mispcorrelator.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * The body of a request as the handlers read it: decoded of its {@code Content-Encoding} here rather than by the
 * HTTP server, so that a corrupt compressed body is answered 400 (the server's decoder closed the connection with no
 * answer), at most one level of encoding is undone, and the decoded size is capped by the route's limit (a 2 GiB
 * compression bomb stops at the limit: 413). Inflating runs on a worker thread, never on the event loop.
 */
final class RequestBodies {
    /** Why a body was refused: the status and the message of the answer. */
    static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private RequestBodies() {
    }

    /**
     * @param limit    the most bytes the decoded body may have
     * @param limitKey the configuration key that sets {@code limit}, named in the 413
     */
    static Future<Buffer> decoded(Vertx vertx, RoutingContext ctx, long limit, String limitKey) {
        Buffer raw = ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
        List<String> headers = ctx.request().headers().getAll("Content-Encoding");
        String encoding = headers.isEmpty() ? "identity" : String.join(",", headers).strip().toLowerCase(Locale.ROOT);
        if (encoding.isEmpty() || encoding.equals("identity")) {
            return Future.succeededFuture(raw);
        }
        if (encoding.contains(",")) {
            return Future.failedFuture(new Refused(415, "Content-Encoding '" + abbreviated(encoding)
                    + "': at most one encoding (gzip or deflate) is accepted"));
        }
        if (!encoding.equals("gzip") && !encoding.equals("x-gzip") && !encoding.equals("deflate")) {
            return Future.failedFuture(new Refused(415, "Content-Encoding '" + abbreviated(encoding)
                    + "' is not supported; send gzip, deflate or no encoding"));
        }
        byte[] bytes = raw.getBytes();
        return vertx.executeBlocking(() -> Buffer.buffer(inflate(bytes, encoding, limit, limitKey)), false);
    }

    private static byte[] inflate(byte[] body, String encoding, long limit, String limitKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(body.length * 4, 1 << 20));
        try (InputStream in = encoding.equals("deflate") ? new InflaterInputStream(new ByteArrayInputStream(body))
                : new GZIPInputStream(new ByteArrayInputStream(body))) {
            byte[] buf = new byte[1 << 16];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > limit) {
                    throw new Refused(413, "request body too large once decompressed (limit " + limit
                            + " bytes, set by CORRELATOR_" + limitKey + ")");
                }
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw new Refused(400, "Content-Encoding " + encoding + ": the body is not valid " + encoding
                    + " data (" + e.getMessage() + ")");
        }
        return out.toByteArray();
    }

    private static String abbreviated(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
