package io.github.mispcorrelator.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** The service's meters, exposed as Prometheus text at {@code GET /metrics}. One registry per service. */
public final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus exposition text. */
    public String scrape() {
        return registry.scrape();
    }
}
