package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.alert.Alert;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Tells MISP that its indicators were seen ({@code POST /sightings/add}), so analysts there see which intelligence
 * fires. Optional, off by default. Hits are collected and sent in batches every {@code interval}, after the hits are
 * stored: a slow or failing MISP never delays or fails a hit; a failed batch is logged and counted, not retried.
 * <p>A sighting names the attributes that matched, not their values: by {@code values} MISP marks every attribute
 * holding the value in any event, whatever its {@code to_ids}, either half of a composite
 * (app/Model/Sighting.php:822-838). {@code id} takes a {@code |}-separated list of numeric ids
 * (Sighting.php:815-821, 929-941), so one request carries up to {@value #MAX_VALUES} attributes sighted at the same
 * second, with that second — the alert's time — as {@code timestamp} (SightingsController.php:52); an attribute
 * without a numeric id goes alone by uuid. MISP answers a failed add with HTTP 200 and a {@code message}
 * (SightingsController.php:83-87): only an answer carrying the {@code Sighting} counts as sent.
 */
public final class SightingReporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SightingReporter.class);
    static final int MAX_VALUES = 500;
    /** Requests per instance and flush at most; the rest waits for the next flush. */
    static final int MAX_REQUESTS = 100;

    private final Vertx vertx;
    private final WebClient client;
    private final Map<String, MispSettings> instances;
    private final String source;
    private final long timer;
    private final Counter sent;
    private final Counter failed;
    // guarded by this: per MISP instance, per second sighted, the attribute ids (or uuids) seen since the last batch
    private final Map<String, TreeMap<Long, Set<String>>> pending = new HashMap<>();

    /** @param instances the MISP instances by name ({@link MispSource#name()}), each with its URL and key */
    public SightingReporter(Vertx vertx, Map<String, MispSettings> instances, String source, Duration interval,
                            MeterRegistry registry) {
        this.vertx = vertx;
        this.instances = Map.copyOf(instances);
        this.source = source;
        boolean verify = instances.values().stream().allMatch(MispSettings::verifyTls);
        this.client = WebClient.create(vertx, new WebClientOptions().setUserAgent("misp-correlator")
                .setTrustAll(!verify).setVerifyHost(verify));
        this.sent = Counter.builder("misp_sightings").tag("outcome", "sent").description("Sightings reported to MISP")
                .register(registry);
        this.failed = Counter.builder("misp_sightings").tag("outcome", "failed").register(registry);
        this.timer = vertx.setPeriodic(Math.max(10, interval.toMillis()), id -> flush());
    }

    /** Notes the attributes of an alert's stored hits, at the alert's time; never blocks, never fails. */
    public void report(Alert alert, List<MispAttribute> attributes) {
        long now = System.currentTimeMillis() / 1000;
        long at = alert.getEpochSecond().orElse(now);
        synchronized (this) {
            for (MispAttribute a : attributes) {
                if (!instances.containsKey(a.instance())) {
                    continue;
                }
                String ref = a.id().matches("\\d+") ? a.id() : a.uuid().length() == 36 ? UUID + a.uuid() : null;
                if (ref == null) {
                    continue;
                }
                pending.computeIfAbsent(a.instance(), k -> new TreeMap<>())
                        .computeIfAbsent(at, k -> new LinkedHashSet<>()).add(ref);
            }
        }
    }

    private static final String UUID = "uuid:";

    /** One request to send: the instance, the second sighted, and attribute ids ({@code |}-joined) or one uuid. */
    private record Batch(String instance, long timestamp, List<String> refs) {
    }

    /** Sends what has been collected, per instance one request per second sighted and {@value #MAX_VALUES} ids. */
    public void flush() {
        List<Batch> batches = new ArrayList<>();
        synchronized (this) {
            if (pending.isEmpty()) {
                return;
            }
            for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
                var byInstance = it.next();
                var bySecond = byInstance.getValue();
                int requests = 0;
                while (!bySecond.isEmpty() && requests < MAX_REQUESTS) {
                    var first = bySecond.pollFirstEntry();
                    List<String> ids = new ArrayList<>();
                    for (String ref : first.getValue()) {
                        if (ref.startsWith(UUID)) {
                            batches.add(new Batch(byInstance.getKey(), first.getKey(), List.of(ref)));
                            requests++;
                        } else {
                            ids.add(ref);
                        }
                    }
                    for (int from = 0; from < ids.size(); from += MAX_VALUES) {
                        batches.add(new Batch(byInstance.getKey(), first.getKey(),
                                List.copyOf(ids.subList(from, Math.min(ids.size(), from + MAX_VALUES)))));
                        requests++;
                    }
                }
                if (bySecond.isEmpty()) {
                    it.remove();
                }
            }
        }
        for (Batch b : batches) {
            MispSettings misp = instances.get(b.instance());
            JsonObject body = new JsonObject().put("source", source).put("type", "0")
                    .put("timestamp", Long.toString(b.timestamp()));
            if (b.refs().size() == 1 && b.refs().get(0).startsWith(UUID)) {
                body.put("uuid", b.refs().get(0).substring(UUID.length()));
            } else {
                body.put("id", String.join("|", b.refs()));
            }
            var request = client.postAbs(misp.url() + "/sightings/add")
                    .timeout(misp.timeout().toMillis())
                    .putHeader(HttpHeaders.ACCEPT.toString(), "application/json");
            if (misp.key() != null) {
                request.putHeader(HttpHeaders.AUTHORIZATION.toString(), misp.key());
            }
            int n = b.refs().size();
            request.sendJsonObject(body).onComplete(ar -> {
                String problem = null;
                if (ar.failed()) {
                    problem = ar.cause().getMessage();
                } else if (ar.result().statusCode() != 200) {
                    problem = "HTTP " + ar.result().statusCode();
                } else {
                    problem = refusal(ar.result().bodyAsString());
                }
                if (problem == null) {
                    sent.increment(n);
                } else {
                    failed.increment(n);
                    LOG.atWarn().addKeyValue("misp_instance", b.instance())
                            .log("{} sighting(s) not reported to {}: {}", n, b.instance(), problem);
                }
            });
        }
    }

    /** Why MISP's 200 answer is no sighting ({@code {"message": "Could not add the Sighting. Reason: ..."}}), or null. */
    static String refusal(String body) {
        try {
            JsonObject o = new JsonObject(body == null ? "" : body);
            if (o.containsKey("Sighting")) {
                return null;
            }
            Object why = o.getValue("message", o.getValue("errors"));
            return why == null ? "MISP's answer holds no Sighting" : String.valueOf(why);
        } catch (RuntimeException e) {
            return "MISP answered 200 with a body that is not JSON";
        }
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        flush();
    }
}
