package io.github.mispcorrelator.audit;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Carries an export from the JDBC worker that reads it to the HTTP response on the event loop, a chunk at a time.
 * At most {@link #IN_FLIGHT} chunks are on their way: when the client reads slowly, writes stop completing, the
 * worker waits, and the database cursor waits with it; memory stays at a few chunks whatever the size of the result.
 * The status and headers go with the first chunk, so a query that fails before any row still gets a JSON error.
 */
final class ExportStream {
    static final int CHUNK_BYTES = 64 * 1024;
    static final int IN_FLIGHT = 4;

    /** The client went away, or a write failed: the worker stops reading. */
    static final class Aborted extends RuntimeException {
        Aborted() {
            super("export aborted: the client closed the connection", null, false, false);
        }
    }

    private final Context context;
    private final HttpServerResponse response;
    private final Consumer<HttpServerResponse> start;
    private final Semaphore permits = new Semaphore(IN_FLIGHT);
    private final StringBuilder pending = new StringBuilder(CHUNK_BYTES + 4096);
    private volatile boolean closed;
    private boolean started;

    /**
     * Call on the event loop that owns the response.
     *
     * @param start sets the status and headers; runs on the event loop before the first chunk
     */
    ExportStream(Context context, HttpServerResponse response, Consumer<HttpServerResponse> start) {
        this.context = context;
        this.response = response;
        this.start = start;
        response.closeHandler(v -> closed = true);
    }

    /** Worker thread: adds text, sending a chunk whenever enough has gathered. */
    void append(String text) {
        pending.append(text);
        if (pending.length() >= CHUNK_BYTES) {
            flush();
        }
    }

    private void flush() {
        if (pending.isEmpty()) {
            return;
        }
        Buffer chunk = Buffer.buffer(pending.toString());
        pending.setLength(0);
        try {
            while (!permits.tryAcquire(1, TimeUnit.SECONDS)) {
                if (closed) {
                    throw new Aborted();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Aborted();
        }
        if (closed) {
            throw new Aborted();
        }
        boolean first = !started;
        started = true;
        context.runOnContext(v -> {
            if (first) {
                start.accept(response);
            }
            response.write(chunk).onComplete(ar -> {
                permits.release();
                if (ar.failed()) {
                    closed = true;
                }
            });
        });
    }

    /** Worker thread: whether anything reached the response yet (after that, a failure can only cut it short). */
    boolean started() {
        return started;
    }

    /** Worker thread: the rest, and the end of the response. */
    void finish() {
        flush();
        boolean nothingSent = !started;
        started = true;
        context.runOnContext(v -> {
            if (nothingSent) {
                start.accept(response);
            }
            if (!response.ended() && !response.closed()) {
                response.end();
            }
        });
    }

    /** Event loop: a failure after the first chunk; resetting the connection tells the client the body is incomplete. */
    void cutShort() {
        if (!response.ended() && !response.closed()) {
            response.reset();
        }
    }
}
