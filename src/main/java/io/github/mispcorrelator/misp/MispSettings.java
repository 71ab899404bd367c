package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.config.CorrelatorConfig;

import java.time.Duration;

/** What the MISP client needs from the configuration. */
public record MispSettings(String url, String key, boolean verifyTls, Duration timeout, boolean toIds,
                           boolean published) {

    public static MispSettings from(CorrelatorConfig config) {
        return new MispSettings(config.get(CorrelatorConfig.MISP_URL), config.get(CorrelatorConfig.MISP_KEY),
                config.get(CorrelatorConfig.MISP_VERIFY_TLS), config.get(CorrelatorConfig.MISP_TIMEOUT),
                config.get(CorrelatorConfig.MISP_TO_IDS), config.get(CorrelatorConfig.MISP_PUBLISHED));
    }

    @Override
    public String toString() {
        // the key never reaches a log line
        return "MispSettings[url=" + url + ", key=" + (key == null ? "(unset)" : "****") + ", verifyTls=" + verifyTls
                + ", timeout=" + timeout + ", toIds=" + toIds + ", published=" + published + "]";
    }
}
