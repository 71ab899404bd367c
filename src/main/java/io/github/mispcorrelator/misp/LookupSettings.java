package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.config.CorrelatorConfig;

import java.time.Duration;

/** How the lookup layer asks MISP: batching, concurrency, retries, cache and circuit breaker. */
public record LookupSettings(int batchSize, Duration batchLinger, int maxConcurrent, int retries,
                             long cacheSize, Duration cacheTtl, Duration negativeCacheTtl,
                             int breakerFailures, Duration breakerOpen) {

    public static LookupSettings from(CorrelatorConfig c) {
        return new LookupSettings(c.get(CorrelatorConfig.MISP_BATCH_SIZE), c.get(CorrelatorConfig.MISP_BATCH_LINGER),
                c.get(CorrelatorConfig.MISP_MAX_CONCURRENT), c.get(CorrelatorConfig.MISP_RETRIES),
                c.get(CorrelatorConfig.MISP_CACHE_SIZE), c.get(CorrelatorConfig.MISP_CACHE_TTL),
                c.get(CorrelatorConfig.MISP_CACHE_NEGATIVE_TTL), c.get(CorrelatorConfig.MISP_BREAKER_FAILURES),
                c.get(CorrelatorConfig.MISP_BREAKER_OPEN));
    }

    public static LookupSettings defaults() {
        return new LookupSettings(100, Duration.ofMillis(2), 4, 2, 500_000, Duration.ofMinutes(15), Duration.ofMinutes(5),
                5, Duration.ofSeconds(30));
    }
}
