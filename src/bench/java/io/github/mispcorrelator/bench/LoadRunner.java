package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Sends alerts to the service over HTTP and checks every answer: NDJSON batches ({@code POST /v1/alerts/batch}),
 * single alerts over keep-alive connections in a closed loop ({@code POST /v1/alerts}), and single alerts at a fixed
 * rate (open loop: latency counted from when the alert was due, so a stall is not hidden). Every loop stops at its
 * deadline or its alert count, whichever comes first; only 127.0.0.1 is ever addressed.
 */
final class LoadRunner implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Past the phase's deadline, how long answers still in flight are awaited before they count as lost. */
    /** Before the paced phase: time for the service to finish what the saturating phases left queued. */
    private static final Duration SETTLE = Duration.ofSeconds(2);
    /** A paced answer slower than this counts in the phase's slow-answer timeline. */
    private static final long SLOW_NANOS = 5_000_000;
    private static final Duration DRAIN = Duration.ofSeconds(Long.getLong("bench.drain.seconds", 60));

    /** Where the alerts of a phase come from; thread-safe; null when exhausted. */
    interface Source {
        BenchAlert next();
    }

    /** What one phase measured. */
    record PhaseRun(String name, String mode, long alerts, double seconds, Latencies.Summary latency, Outcome outcome,
                    String detail, Latencies.Summary latencyWithHits) {
        double alertsPerSecond() {
            return seconds > 0 ? alerts / seconds : 0;
        }
    }

    private record Answer(int status, Buffer body) {
    }

    private final Vertx vertx;
    private final int port;
    private final Path outDir;
    private final AtomicLong sequence = new AtomicLong();

    /** @param outDir where alerts that got no answer are written ({@code lost-<phase>.ndjson}), to replay them */
    LoadRunner(int port, Path outDir) {
        this.port = port;
        this.outDir = outDir;
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(2));
    }

    static Source ring(List<BenchAlert> alerts) {
        AtomicLong next = new AtomicLong();
        return () -> alerts.get((int) (next.getAndIncrement() % alerts.size()));
    }

    /** Alerts made by a producer thread ahead of the senders (the cold pass), at most {@code total}. */
    static Produced produced(Supplier<BenchAlert> make, long total, int buffer) {
        return new Produced(make, total, buffer);
    }

    /**
     * A producer thread's alerts. Close it when the phase is over: a producer left blocked on its full queue would
     * keep the queue's alerts alive (the sweep runs one per point).
     */
    static final class Produced implements Source, AutoCloseable {
        private final BlockingQueue<BenchAlert> queue;
        private final long total;
        private final AtomicLong taken = new AtomicLong();
        private final Thread producer;

        private Produced(Supplier<BenchAlert> make, long total, int buffer) {
            this.total = total;
            this.queue = new ArrayBlockingQueue<>(Math.max(1, buffer));
            AtomicLong made = new AtomicLong();
            this.producer = new Thread(() -> {
                try {
                    while (made.get() < total) {
                        queue.put(make.get());
                        made.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-alert-producer");
            producer.setDaemon(true);
            producer.start();
            // let the queue fill (or the producer finish) before the clock starts
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (queue.remainingCapacity() > 0 && made.get() < total && System.nanoTime() < until) {
                LockSupport.parkNanos(5_000_000);
            }
        }

        @Override
        public BenchAlert next() {
            if (taken.getAndIncrement() >= total) {
                return null;
            }
            try {
                return queue.poll(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        @Override
        public void close() {
            producer.interrupt();
            queue.clear();
        }
    }

    private HttpClientAgent client(int connections) {
        return vertx.createHttpClient(new HttpClientOptions()
                        .setDefaultHost("127.0.0.1").setDefaultPort(port)
                        .setKeepAlive(true).setTcpNoDelay(true).setIdleTimeout(0)
                        .setMaxInitialLineLength(8192),
                new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
    }

    private static Future<Answer> post(HttpClientAgent client, String uri, String contentType, Buffer body,
                                       long timeoutMs) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI(uri)
                        .setIdleTimeout(timeoutMs).putHeader("Content-Type", contentType))
                .compose(req -> req.send(body))
                .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b)));
    }

    /**
     * NDJSON batches, {@code concurrency} in flight, each of {@code batchSize} alerts. Latency is per batch: an alert's
     * end-to-end time in this mode is its batch's.
     */
    PhaseRun batch(String name, Source source, int batchSize, int concurrency, Duration duration, long maxAlerts)
            throws InterruptedException {
        HttpClientAgent client = client(concurrency);
        Outcome outcome = new Outcome();
        Latencies latencies = new Latencies((int) Math.min(Integer.MAX_VALUE - 8, maxAlerts / batchSize + concurrency + 1));
        AtomicLong issued = new AtomicLong();
        AtomicLong completed = new AtomicLong();
        AtomicLong lastDone = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            // each sender's requests go out from one event loop: a foreign thread would get a new context each time
            Context context = vertx.getOrCreateContext();
            Thread thread = new Thread(() -> {
                while (System.nanoTime() < deadline) {
                    long n = issued.getAndAdd(batchSize);
                    if (n >= maxAlerts) {
                        return;
                    }
                    int size = (int) Math.min(batchSize, maxAlerts - n);
                    List<BenchAlert> alerts = new ArrayList<>(size);
                    List<String> ids = new ArrayList<>(size);
                    Buffer body = Buffer.buffer(size * 3000);
                    for (int i = 0; i < size; i++) {
                        BenchAlert a = source.next();
                        if (a == null) {
                            break;
                        }
                        long seq = sequence.incrementAndGet();
                        alerts.add(a);
                        ids.add(BenchAlert.id(seq));
                        body.appendBytes(a.withId(seq)).appendByte((byte) '\n');
                    }
                    if (alerts.isEmpty()) {
                        return;
                    }
                    long t0 = System.nanoTime();
                    try {
                        Promise<Answer> sent = Promise.promise();
                        context.runOnContext(v -> post(client, "/v1/alerts/batch", "application/x-ndjson", body,
                                300_000).onComplete(sent));
                        Answer answer = sent.future().await(DRAIN.toSeconds() + duration.toSeconds(), TimeUnit.SECONDS);
                        latencies.record(System.nanoTime() - t0);
                        checkBatch(answer, alerts, ids, outcome);
                    } catch (Exception e) {
                        outcome.lost(alerts, "batch request failed: " + e);
                    }
                    completed.addAndGet(alerts.size());
                    lastDone.accumulateAndGet(System.nanoTime(), Math::max);
                }
            }, "bench-batch-" + t);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join(duration.toMillis() + DRAIN.toMillis() + 300_000);
        }
        client.close();
        double seconds = (Math.max(lastDone.get(), start + 1) - start) / 1e9;
        return new PhaseRun(name, "batch", completed.get(), seconds, latencies.summary(), outcome,
                batchSize + " alerts a batch, " + concurrency + " batches in flight", Latencies.Summary.NONE);
    }

    private static void checkBatch(Answer answer, List<BenchAlert> alerts, List<String> ids, Outcome outcome) {
        if (answer.status() != 200 && answer.status() != 503) {
            outcome.lost(alerts, "batch answered HTTP " + answer.status() + ": " + snippet(answer.body()));
            return;
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(answer.body().getBytes());
        } catch (Exception e) {
            outcome.lost(alerts, "batch answer is not JSON: " + snippet(answer.body()));
            return;
        }
        JsonNode results = root.path("results");
        if (!results.isArray() || results.size() != alerts.size()) {
            outcome.lost(alerts, "batch answer has " + results.size() + " results for " + alerts.size() + " lines");
            return;
        }
        for (int i = 0; i < alerts.size(); i++) {
            JsonNode line = results.get(i);
            outcome.check(alerts.get(i), line.path("status").asInt(0), line, ids.get(i));
        }
    }

    /** Single alerts, {@code connections} keep-alive connections each with one alert in flight (closed loop). */
    PhaseRun single(String name, Source source, int connections, Duration duration, long maxAlerts)
            throws InterruptedException {
        HttpClientAgent client = client(connections);
        Outcome outcome = new Outcome();
        Latencies latencies = new Latencies((int) Math.min(Integer.MAX_VALUE - 8, maxAlerts + connections));
        Latencies withHits = new Latencies((int) Math.min(Integer.MAX_VALUE - 8, maxAlerts / 4 + connections));
        AtomicLong issued = new AtomicLong();
        AtomicLong completed = new AtomicLong();
        AtomicLong lastDone = new AtomicLong();
        AtomicInteger active = new AtomicInteger(connections);
        CountDownLatch done = new CountDownLatch(1);
        Map<Long, BenchAlert> inFlight = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        Runnable[] loop = new Runnable[1];
        loop[0] = () -> {
            BenchAlert a = System.nanoTime() < deadline && issued.getAndIncrement() < maxAlerts ? source.next() : null;
            if (a == null) {
                if (active.decrementAndGet() == 0) {
                    done.countDown();
                }
                return;
            }
            long seq = sequence.incrementAndGet();
            long t0 = System.nanoTime();
            inFlight.put(seq, a);
            post(client, "/v1/alerts", "application/json", Buffer.buffer(a.withId(seq)), 120_000)
                    .onComplete(ar -> {
                        long end = System.nanoTime();
                        if (inFlight.remove(seq) == null) {
                            return; // already counted as lost
                        }
                        latencies.record(end - t0);
                        if (a.expectedHits() > 0) {
                            withHits.record(end - t0);
                        }
                        checkSingle(ar.succeeded() ? ar.result() : null, ar.cause(), a, BenchAlert.id(seq), outcome);
                        completed.incrementAndGet();
                        lastDone.accumulateAndGet(end, Math::max);
                        loop[0].run();
                    });
        };
        Context[] contexts = {vertx.getOrCreateContext(), vertx.getOrCreateContext()};
        for (int i = 0; i < connections; i++) {
            contexts[i & 1].runOnContext(v -> loop[0].run());
        }
        done.await(duration.toMillis() + DRAIN.toMillis(), TimeUnit.MILLISECONDS);
        lostInFlight(name, inFlight, outcome);
        client.close();
        double seconds = (Math.max(lastDone.get(), start + 1) - start) / 1e9;
        return new PhaseRun(name, "single", completed.get(), seconds, latencies.summary(), outcome,
                connections + " keep-alive connections, one alert in flight each", withHits.summary());
    }

    /**
     * Single alerts due at a fixed rate (open loop); latency from when each was due. The service first gets a pause
     * to finish what earlier phases left queued, and the first second (new connections) is sent but not timed.
     */
    PhaseRun paced(String name, Source source, int connections, double rate, Duration duration)
            throws InterruptedException {
        Thread.sleep(SETTLE.toMillis());
        HttpClientAgent client = client(connections);
        warmConnections(client, source, connections, rate);
        Outcome outcome = new Outcome();
        long planned = (long) Math.ceil(rate * duration.toNanos() / 1e9);
        Latencies latencies = new Latencies((int) Math.min(Integer.MAX_VALUE - 8, planned + 1));
        Latencies withHits = new Latencies((int) Math.min(Integer.MAX_VALUE - 8, planned + 1));
        // when the slow answers were due, by second of the phase: a burst points at a stall, a spread at load
        AtomicIntegerArray slowBySecond =
                new AtomicIntegerArray((int) duration.toSeconds() + 2);
        Map<Long, BenchAlert> inFlight = new ConcurrentHashMap<>();
        AtomicLong completed = new AtomicLong();
        AtomicLong lastDone = new AtomicLong();
        long period = (long) (1e9 / rate);
        // requests go out from event loops, never from this pacing thread (a foreign thread gets a new context each time)
        Context[] contexts = {vertx.getOrCreateContext(), vertx.getOrCreateContext()};
        long start = System.nanoTime();
        for (long i = 0; i < planned; i++) {
            long due = start + i * period;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            BenchAlert a = source.next();
            if (a == null) {
                break;
            }
            long seq = sequence.incrementAndGet();
            inFlight.put(seq, a);
            contexts[(int) (i & 1)].runOnContext(v -> post(client, "/v1/alerts", "application/json",
                    Buffer.buffer(a.withId(seq)), 120_000)
                    .onComplete(ar -> {
                        long end = System.nanoTime();
                        if (inFlight.remove(seq) == null) {
                            return; // already counted as lost
                        }
                        latencies.record(end - due);
                        if (a.expectedHits() > 0) {
                            withHits.record(end - due);
                        }
                        if (end - due > SLOW_NANOS) {
                            int second = (int) Math.min(slowBySecond.length() - 1, (due - start) / 1_000_000_000L);
                            slowBySecond.incrementAndGet(second);
                        }
                        checkSingle(ar.succeeded() ? ar.result() : null, ar.cause(), a, BenchAlert.id(seq), outcome);
                        completed.incrementAndGet();
                        lastDone.accumulateAndGet(end, Math::max);
                    }));
        }
        long until = System.nanoTime() + DRAIN.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        lostInFlight(name, inFlight, outcome);
        client.close();
        double seconds = (Math.max(lastDone.get(), start + 1) - start) / 1e9;
        return new PhaseRun(name, "paced", completed.get(), seconds, latencies.summary(), outcome,
                String.format(Locale.ROOT, "%.0f alerts/s offered after a %d s pause and 1 s untimed, latency "
                        + "from when each alert was due; answers over %d ms by second of the phase: %s", rate,
                        SETTLE.toSeconds(), SLOW_NANOS / 1_000_000,
                        slowBySecond.toString()), withHits.summary());
    }

    /** A second of paced traffic whose answers are not kept: the connections and the service settle. */
    private void warmConnections(HttpClientAgent client, Source source, int connections, double rate)
            throws InterruptedException {
        Context context = vertx.getOrCreateContext();
        int n = (int) Math.min(rate, 10_000);
        CountDownLatch done = new CountDownLatch(n);
        long period = (long) (1e9 / Math.max(1, rate));
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long due = start + i * period;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            BenchAlert a = source.next();
            long seq = sequence.incrementAndGet();
            context.runOnContext(v -> post(client, "/v1/alerts", "application/json", Buffer.buffer(a.withId(seq)),
                    120_000).onComplete(ar -> done.countDown()));
        }
        done.await(DRAIN.toSeconds(), TimeUnit.SECONDS);
    }

    /** Requests with no answer by the end of the drain: their alerts failed. */
    private void lostInFlight(String phase, Map<Long, BenchAlert> inFlight, Outcome outcome) {
        List<Long> left = new ArrayList<>(inFlight.keySet());
        Collections.sort(left);
        List<BenchAlert> lost = new ArrayList<>();
        StringBuilder ndjson = new StringBuilder();
        for (Long seq : left) {
            BenchAlert a = inFlight.remove(seq);
            if (a != null) {
                lost.add(a);
                ndjson.append(new String(a.withId(seq), StandardCharsets.UTF_8)).append('\n');
            }
        }
        if (!lost.isEmpty()) {
            Path file = outDir.resolve("lost-" + phase + ".ndjson");
            try {
                Files.writeString(file, ndjson);
            } catch (IOException e) {
                // the count is what matters
            }
            outcome.lost(lost, "no answer within " + DRAIN.toSeconds() + " s after the phase ended (first alert id "
                    + BenchAlert.id(left.get(0)) + "; all in " + file + ")");
        }
    }

    private static void checkSingle(Answer answer, Throwable failure, BenchAlert alert, String id, Outcome outcome) {
        if (answer == null) {
            outcome.lost(List.of(alert), "request failed: " + failure);
            return;
        }
        JsonNode root = null;
        try {
            root = MAPPER.readTree(answer.body().getBytes());
        } catch (Exception e) {
            // checked below as a failed alert
        }
        outcome.check(alert, answer.status(), root, id);
    }

    private static String snippet(Buffer body) {
        String s = body == null ? "" : body.toString();
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    @Override
    public void close() {
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // ending anyway
        }
    }
}
