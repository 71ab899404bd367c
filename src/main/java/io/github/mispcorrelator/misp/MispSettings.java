package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.config.CorrelatorConfig;

import java.time.Duration;

/** What the MISP client needs from the configuration. */
public record MispSettings(String url, String key, boolean verifyTls, Duration timeout, boolean toIds,
                           boolean published, boolean enforceWarninglist, AttributeFilter filter) {

    /** Without warning lists or filters. */
    public MispSettings(String url, String key, boolean verifyTls, Duration timeout, boolean toIds, boolean published) {
        this(url, key, verifyTls, timeout, toIds, published, false, AttributeFilter.NONE);
    }

    public static MispSettings from(CorrelatorConfig config) {
        return from(config, config.get(CorrelatorConfig.MISP_URL), config.get(CorrelatorConfig.MISP_KEY));
    }

    /** The settings of one MISP instance (with several, each has its URL and key). */
    public static MispSettings from(CorrelatorConfig config, String url, String key) {
        java.util.Map<io.github.mispcorrelator.indicator.IndicatorType, Duration> byType = new java.util.EnumMap<>(
                io.github.mispcorrelator.indicator.IndicatorType.class);
        config.find(CorrelatorConfig.MISP_MAX_AGE_IP).ifPresent(d -> byType.put(io.github.mispcorrelator.indicator.IndicatorType.IP, d));
        config.find(CorrelatorConfig.MISP_MAX_AGE_DOMAIN).ifPresent(d -> byType.put(io.github.mispcorrelator.indicator.IndicatorType.DOMAIN, d));
        config.find(CorrelatorConfig.MISP_MAX_AGE_URL).ifPresent(d -> byType.put(io.github.mispcorrelator.indicator.IndicatorType.URL, d));
        config.find(CorrelatorConfig.MISP_MAX_AGE_HASH).ifPresent(d -> {
            for (var t : java.util.List.of(io.github.mispcorrelator.indicator.IndicatorType.MD5,
                    io.github.mispcorrelator.indicator.IndicatorType.SHA1, io.github.mispcorrelator.indicator.IndicatorType.SHA256,
                    io.github.mispcorrelator.indicator.IndicatorType.IMPHASH)) {
                byType.put(t, d);
            }
        });
        AttributeFilter filter = new AttributeFilter(
                java.util.Set.copyOf(config.find(CorrelatorConfig.MISP_TAGS_INCLUDE).orElse(java.util.List.of())),
                java.util.Set.copyOf(config.find(CorrelatorConfig.MISP_TAGS_EXCLUDE).orElse(java.util.List.of())),
                config.get(CorrelatorConfig.MISP_MAX_AGE), byType);
        return new MispSettings(url, key, config.get(CorrelatorConfig.MISP_VERIFY_TLS),
                config.get(CorrelatorConfig.MISP_TIMEOUT), config.get(CorrelatorConfig.MISP_TO_IDS),
                config.get(CorrelatorConfig.MISP_PUBLISHED), config.get(CorrelatorConfig.MISP_ENFORCE_WARNINGLIST), filter);
    }

    @Override
    public String toString() {
        // the key never reaches a log line
        return "MispSettings[url=" + url + ", key=" + (key == null ? "(unset)" : "****") + ", verifyTls=" + verifyTls
                + ", timeout=" + timeout + ", toIds=" + toIds + ", published=" + published
                + ", enforceWarninglist=" + enforceWarninglist + ", filter=" + filter + "]";
    }
}
