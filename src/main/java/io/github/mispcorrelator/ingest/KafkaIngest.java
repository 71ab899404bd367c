package io.github.mispcorrelator.ingest;

import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Correlator;
import io.github.mispcorrelator.correlate.EventSink;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.store.StoreUnavailableException;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Kafka ingest: this instance is one member of a consumer group reading Wazuh alerts, so Kafka spreads the partitions
 * over the instances and hands a dead one's partitions to the others. The consumer lives on its own thread (it blocks
 * and is not thread-safe); each record is correlated on an event loop, and an offset is committed only once every
 * record before it has its hits committed, its events produced to {@code KAFKA_EVENTS_TOPIC} (when set) or, if it
 * cannot be read, itself produced to the dead-letter topic with the reason. At least once into an idempotent store: a
 * record read again after a crash or a rebalance adds no hit (the hits' unique key), its events may be produced twice.
 * At most {@code KAFKA_MAX_IN_FLIGHT} records are in flight: beyond, the partitions are paused, and resumed at half.
 */
public final class KafkaIngest implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaIngest.class);
    static final String ERROR_HEADER = "x-error";
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long COMMIT_EVERY_MS = 500;
    /** On revocation, how long records of the revoked partitions may take to finish before the rest is given up. */
    private static final long REVOKE_WAIT_MS = 5_000;

    /** Settings from the configuration, in Kafka's own names. */
    public record Settings(Map<String, Object> client, List<String> topics, String group, String eventsTopic,
                           String deadLetterTopic, int maxInFlight, String instance) {
        public static Settings from(CorrelatorConfig config) {
            Map<String, Object> client = new HashMap<>();
            client.put("bootstrap.servers", config.get(CorrelatorConfig.KAFKA_BOOTSTRAP));
            client.put("security.protocol", config.get(CorrelatorConfig.KAFKA_SECURITY_PROTOCOL).toUpperCase(Locale.ROOT));
            String user = config.get(CorrelatorConfig.KAFKA_SASL_USERNAME);
            if (user != null) {
                String mechanism = config.get(CorrelatorConfig.KAFKA_SASL_MECHANISM).toUpperCase(Locale.ROOT);
                client.put("sasl.mechanism", mechanism);
                String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                        : "org.apache.kafka.common.security.scram.ScramLoginModule";
                client.put("sasl.jaas.config", module + " required username=\"" + jaas(user) + "\" password=\""
                        + jaas(config.find(CorrelatorConfig.KAFKA_SASL_PASSWORD).orElse("")) + "\";");
            }
            Path trust = config.get(CorrelatorConfig.KAFKA_SSL_TRUSTSTORE_FILE);
            if (trust != null) {
                client.put("ssl.truststore.location", trust.toAbsolutePath().toString());
                String name = trust.getFileName().toString().toLowerCase(Locale.ROOT);
                client.put("ssl.truststore.type", name.endsWith(".jks") ? "JKS"
                        : name.endsWith(".pem") || name.endsWith(".crt") ? "PEM" : "PKCS12");
                config.find(CorrelatorConfig.KAFKA_SSL_TRUSTSTORE_PASSWORD).ifPresent(p -> client.put("ssl.truststore.password", p));
            }
            Path extra = config.get(CorrelatorConfig.KAFKA_PROPERTIES_FILE);
            if (extra != null) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(extra, StandardCharsets.UTF_8)) {
                    p.load(r);
                } catch (IOException e) {
                    throw new IllegalArgumentException("CORRELATOR_KAFKA_PROPERTIES_FILE: cannot read " + extra + ": "
                            + e.getMessage(), e);
                }
                p.forEach((k, v) -> client.put(String.valueOf(k), v));
            }
            return new Settings(client, config.get(CorrelatorConfig.KAFKA_TOPICS), config.get(CorrelatorConfig.KAFKA_GROUP),
                    config.get(CorrelatorConfig.KAFKA_EVENTS_TOPIC), config.get(CorrelatorConfig.KAFKA_DEAD_LETTER_TOPIC),
                    config.get(CorrelatorConfig.KAFKA_MAX_IN_FLIGHT), config.instanceId())
                    .withStart(config.get(CorrelatorConfig.KAFKA_START));
        }

        private Settings withStart(String start) {
            client.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, start);
            return this;
        }

        private static String jaas(String s) {
            return s.replace("\\", "\\\\").replace("\"", "\\\"");
        }
    }

    /** What the event loops tell the poll thread; only the poll thread touches the consumer and the trackers. */
    private sealed interface Outcome permits Correlated, Unreadable, Retry, Done {
        Work work();
    }

    private record Correlated(Work work, Correlation correlation) implements Outcome {
    }

    private record Unreadable(Work work, String reason) implements Outcome {
    }

    private record Retry(Work work, String reason) implements Outcome {
    }

    private record Done(Work work) implements Outcome {
    }

    /** One record in flight, with the tracker of the partition assignment it was read under. */
    private static final class Work {
        final ConsumerRecord<byte[], byte[]> record;
        final OffsetTracker tracker;
        int attempts;
        long dueNanos;

        Work(ConsumerRecord<byte[], byte[]> record, OffsetTracker tracker) {
            this.record = record;
            this.tracker = tracker;
        }
    }

    private final Vertx vertx;
    private final Correlator correlator;
    private final Settings settings;
    private final List<Context> contexts = new ArrayList<>();
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Work> retries = new ArrayDeque<>();
    private final Map<TopicPartition, OffsetTracker> trackers = new HashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong eventsProduced = new AtomicLong();
    private final EventSink eventSink = this::produce;
    private final AtomicLong commits = new AtomicLong();
    private volatile List<String> assigned = List.of();
    private volatile boolean closing;
    private final Promise<Void> stopped = Promise.promise();
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private Thread thread;
    private boolean paused;
    private long lastCommit;

    public KafkaIngest(Vertx vertx, Correlator correlator, Settings settings) {
        this.vertx = vertx;
        this.correlator = correlator;
        this.settings = settings;
        // the correlation of records spreads over the event loops, a partition always on the same one
        int loops = Math.max(1, Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < loops; i++) {
            contexts.add(((VertxInternal) vertx).createEventLoopContext());
        }
    }

    /** Creates the clients (a wrong setting fails here, clearly) and starts the poll thread. */
    public KafkaIngest start() {
        Map<String, Object> c = new HashMap<>(settings.client());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.group());
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "misp-correlator-" + settings.instance());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        c.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(500, settings.maxInFlight()));
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Map<String, Object> p = new HashMap<>(settings.client());
        p.remove(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "misp-correlator-" + settings.instance() + "-events");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try {
            consumer = new KafkaConsumer<>(c);
            producer = new KafkaProducer<>(p);
        } catch (RuntimeException e) {
            if (consumer != null) {
                consumer.close(Duration.ZERO);
            }
            throw new IllegalStateException("cannot create the Kafka clients (CORRELATOR_KAFKA_*): " + rootMessage(e), e);
        }
        thread = new Thread(this::run, "kafka-ingest");
        thread.setDaemon(true);
        thread.start();
        LOG.info("Kafka ingest: member of group {} on {} reading {}", settings.group(),
                settings.client().get("bootstrap.servers"), settings.topics());
        return this;
    }

    private void run() {
        try {
            consumer.subscribe(settings.topics(), new Rebalance());
            long failures = 0;
            while (!closing) {
                try {
                    pollOnce();
                    failures = 0;
                } catch (WakeupException e) {
                    throw e;
                } catch (KafkaException e) {
                    // brokers unreachable, a topic not (yet) readable, credentials refused: keep trying, say so
                    if (failures++ % 30 == 0) {
                        LOG.warn("Kafka ingest: {} (retrying every second)", rootMessage(e));
                    }
                    sleep(1_000);
                }
            }
            // a clean stop: let what is in flight finish for a moment, commit it, leave the group
            long deadline = System.currentTimeMillis() + REVOKE_WAIT_MS;
            while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
                handleOutcomes();
                sleep(10);
            }
            handleOutcomes();
            commit(trackers.keySet(), true);
        } catch (WakeupException e) {
            // close() while polling
        } catch (RuntimeException e) {
            LOG.error("Kafka ingest stopped: {}", rootMessage(e), e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("Kafka consumer did not close cleanly: {}", e.getMessage());
            }
            producer.close(Duration.ofSeconds(10));
            stopped.tryComplete();
        }
    }

    private void pollOnce() {
        handleOutcomes();
        redispatchDue();
        flowControl();
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(POLL);
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            OffsetTracker t = trackers.computeIfAbsent(new TopicPartition(r.topic(), r.partition()),
                    k -> new OffsetTracker());
            t.started(r.offset());
            records.incrementAndGet();
            dispatch(new Work(r, t));
        }
        if (System.currentTimeMillis() - lastCommit >= COMMIT_EVERY_MS) {
            commit(trackers.keySet(), false);
        }
        assigned = consumer.assignment().stream().map(TopicPartition::toString).sorted().toList();
    }

    /** Correlation on the record's event loop; the outcome goes back to the poll thread. */
    private void dispatch(Work w) {
        inFlight.incrementAndGet();
        Context ctx = contexts.get(Math.floorMod(w.record.partition(), contexts.size()));
        ctx.runOnContext(v -> {
            Alert alert;
            try {
                alert = KafkaRecords.alert(w.record.value());
            } catch (InvalidAlertException e) {
                outcomes.add(new Unreadable(w, e.getMessage()));
                return;
            }
            Future<Correlation> f;
            try {
                f = correlator.process(alert);
            } catch (RuntimeException e) {
                f = Future.failedFuture(e);
            }
            f.onComplete(ar -> {
                if (ar.succeeded()) {
                    outcomes.add(new Correlated(w, ar.result()));
                } else if (ar.cause() instanceof StoreUnavailableException) {
                    // PostgreSQL down: nothing stored; the record waits (and holds its partition's offset) until it is back
                    outcomes.add(new Retry(w, ar.cause().getMessage()));
                } else {
                    outcomes.add(new Unreadable(w, "correlation failed: " + rootMessage(ar.cause())));
                }
            });
        });
    }

    private void handleOutcomes() {
        Outcome o;
        while ((o = outcomes.poll()) != null) {
            Work w = o.work();
            if (o instanceof Correlated c) {
                hits.addAndGet(c.correlation().hits().size());
                produceEvents(w, c.correlation());
            } else if (o instanceof Unreadable u) {
                deadLetter(w, u.reason());
            } else if (o instanceof Retry r) {
                w.attempts++;
                long delayMs = Math.min(30_000, 500L << Math.min(6, w.attempts));
                w.dueNanos = System.nanoTime() + delayMs * 1_000_000;
                retries.add(w);
                if (w.attempts == 1 || w.attempts % 10 == 0) {
                    LOG.warn("Kafka record {}-{}@{} waits (attempt {}): {}", w.record.topic(), w.record.partition(),
                            w.record.offset(), w.attempts, r.reason());
                }
            } else {
                inFlight.decrementAndGet();
                w.tracker.done(w.record.offset());
            }
        }
    }

    private void redispatchDue() {
        long now = System.nanoTime();
        for (int n = retries.size(); n > 0; n--) {
            Work w = retries.poll();
            inFlight.decrementAndGet();
            if (!isCurrent(w)) {
                continue; // the partition went to another instance, which reads the record again
            }
            if (now - w.dueNanos >= 0) {
                dispatch(w);
            } else {
                inFlight.incrementAndGet();
                retries.add(w);
            }
        }
    }

    private boolean isCurrent(Work w) {
        return trackers.get(new TopicPartition(w.record.topic(), w.record.partition())) == w.tracker;
    }

    /** The record is done once its events are on KAFKA_EVENTS_TOPIC; one the broker did not take retries it. */
    private void produceEvents(Work w, Correlation c) {
        eventSink.deliver(c).onComplete(ar -> outcomes.add(ar.succeeded() ? new Done(w)
                // correlate the record again (no hit twice) and send again
                : new Retry(w, "events not produced: " + rootMessage(ar.cause()))));
    }

    /**
     * The events topic as the {@link EventSink}: the alert's events keyed by agent, done once the broker has all of
     * them (completed on the producer's thread; nothing blocks).
     */
    private Future<Void> produce(Correlation c) {
        List<JsonObject> events = settings.eventsTopic() == null ? List.of() : WazuhEvents.of(c);
        if (events.isEmpty()) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        AtomicInteger left = new AtomicInteger(events.size());
        AtomicReference<Exception> failed = new AtomicReference<>();
        String key = c.alert().getAgentId();
        for (JsonObject e : events) {
            producer.send(new ProducerRecord<>(settings.eventsTopic(), key, e.encode().getBytes(StandardCharsets.UTF_8)),
                    (meta, err) -> {
                        if (err != null) {
                            failed.compareAndSet(null, err);
                        } else {
                            eventsProduced.incrementAndGet();
                        }
                        if (left.decrementAndGet() == 0) {
                            if (failed.get() == null) {
                                done.complete();
                            } else {
                                done.fail(failed.get());
                            }
                        }
                    });
        }
        return done.future();
    }

    /** The record as it came, with the reason and where it came from in headers; never blocks the partition. */
    private void deadLetter(Work w, String reason) {
        ConsumerRecord<byte[], byte[]> r = w.record;
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(settings.deadLetterTopic(), null,
                r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), r.value());
        out.headers().add(ERROR_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        out.headers().add("x-source", (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
        out.headers().add("x-instance", settings.instance().getBytes(StandardCharsets.UTF_8));
        producer.send(out, (meta, err) -> {
            if (err == null) {
                deadLettered.incrementAndGet();
                outcomes.add(new Done(w));
            } else {
                outcomes.add(new Retry(w, "dead-letter topic " + settings.deadLetterTopic() + ": " + rootMessage(err)));
            }
        });
        LOG.warn("Kafka record {}-{}@{} to {}: {}", r.topic(), r.partition(), r.offset(), settings.deadLetterTopic(), reason);
    }

    /** Bounded in flight: pause every assigned partition at the bound, resume at half of it. */
    private void flowControl() {
        int n = inFlight.get();
        if (!paused && n >= settings.maxInFlight()) {
            consumer.pause(consumer.assignment());
            paused = true;
        } else if (paused && n <= settings.maxInFlight() / 2) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    private void commit(Collection<TopicPartition> partitions, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetTracker t = trackers.get(tp);
            long at = t == null ? -1 : t.toCommit();
            if (at >= 0) {
                offsets.put(tp, new OffsetAndMetadata(at, settings.instance()));
            }
        }
        lastCommit = System.currentTimeMillis();
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(offsets);
            committed(offsets);
        } else {
            consumer.commitAsync(offsets, (done, err) -> {
                if (err == null) {
                    committed(done);
                } else {
                    LOG.debug("Kafka commit failed (the next one covers it): {}", err.getMessage());
                }
            });
        }
    }

    private void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        commits.incrementAndGet();
        offsets.forEach((tp, om) -> {
            OffsetTracker t = trackers.get(tp);
            if (t != null) {
                t.committed(om.offset());
            }
        });
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            // what finishes soon is committed: the next owner reads less again
            long deadline = System.currentTimeMillis() + REVOKE_WAIT_MS;
            while (System.currentTimeMillis() < deadline && partitions.stream()
                    .anyMatch(tp -> trackers.containsKey(tp) && trackers.get(tp).inFlight() > 0)) {
                handleOutcomes();
                sleep(10);
            }
            handleOutcomes();
            try {
                commit(partitions, true);
            } catch (RuntimeException e) {
                LOG.warn("Kafka: could not commit revoked partitions {} (they are read again): {}", partitions,
                        e.getMessage());
            }
            partitions.forEach(trackers::remove);
            LOG.info("Kafka: partitions {} revoked", partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            partitions.forEach(trackers::remove);
            LOG.warn("Kafka: partitions {} lost (another member owns them now)", partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                LOG.info("Kafka: partitions {} assigned", partitions);
                if (paused) {
                    consumer.pause(partitions);
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t != null && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == null ? "unknown" : t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** The partitions this instance reads now. */
    public List<String> partitions() {
        return assigned;
    }

    public JsonObject status() {
        return new JsonObject().put("group", settings.group()).put("topics", new JsonArray(settings.topics()))
                .put("partitions", new JsonArray(assigned)).put("records", records.get())
                .put("in_flight", inFlight.get()).put("hits", hits.get()).put("events_produced", eventsProduced.get())
                .put("dead_lettered", deadLettered.get()).put("commits", commits.get());
    }

    /** Finishes what is in flight (briefly), commits it and leaves the group; blocking, call off the event loop. */
    @Override
    public void close() {
        closing = true;
        if (thread != null) {
            try {
                thread.join(REVOKE_WAIT_MS + 15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
