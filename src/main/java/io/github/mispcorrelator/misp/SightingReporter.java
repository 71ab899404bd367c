package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Hit;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tells MISP that its indicators were seen ({@code POST /sightings/add}), so analysts there see which intelligence
 * fires. Optional, off by default. Hits are collected and sent in batches ({@code {"values": [...], "source": ...}})
 * every {@code interval}, after the hits are stored: a slow or failing MISP never delays or fails a hit; a failed
 * batch is logged and counted, not retried.
 */
public final class SightingReporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SightingReporter.class);
    static final int MAX_VALUES = 500;

    private final Vertx vertx;
    private final WebClient client;
    private final Map<String, MispSettings> instances;
    private final String source;
    private final long timer;
    private final Counter sent;
    private final Counter failed;
    // guarded by this: per MISP instance, the values seen since the last batch
    private final Map<String, Set<String>> pending = new java.util.HashMap<>();

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

    /** Notes the values of stored hits; never blocks, never fails. */
    public void report(List<Hit> hits) {
        synchronized (this) {
            for (Hit h : hits) {
                String instance = h.attribute().instance();
                if (instances.containsKey(instance)) {
                    pending.computeIfAbsent(instance, k -> new LinkedHashSet<>()).add(h.getValue());
                }
            }
        }
    }

    /** Sends what has been collected, one request per instance and per {@value #MAX_VALUES} values. */
    public void flush() {
        Map<String, Set<String>> batch;
        synchronized (this) {
            if (pending.isEmpty()) {
                return;
            }
            batch = new java.util.HashMap<>(pending);
            pending.clear();
        }
        batch.forEach((instance, values) -> {
            MispSettings misp = instances.get(instance);
            List<String> all = new ArrayList<>(values);
            for (int from = 0; from < all.size(); from += MAX_VALUES) {
                List<String> part = all.subList(from, Math.min(all.size(), from + MAX_VALUES));
                JsonObject body = new JsonObject().put("values", new JsonArray(new ArrayList<>(part)))
                        .put("source", source).put("type", "0");
                var request = client.postAbs(misp.url() + "/sightings/add")
                        .timeout(misp.timeout().toMillis())
                        .putHeader(HttpHeaders.ACCEPT.toString(), "application/json");
                if (misp.key() != null) {
                    request.putHeader(HttpHeaders.AUTHORIZATION.toString(), misp.key());
                }
                int n = part.size();
                request.sendJsonObject(body).onComplete(ar -> {
                    if (ar.succeeded() && ar.result().statusCode() == 200) {
                        sent.increment(n);
                    } else {
                        failed.increment(n);
                        LOG.atWarn().addKeyValue("misp_instance", instance).log("{} sighting(s) not reported to {}: {}", n, instance, ar.succeeded()
                                ? "HTTP " + ar.result().statusCode() : ar.cause().getMessage());
                    }
                });
            }
        });
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        flush();
    }
}
