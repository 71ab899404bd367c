package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.config.CorrelatorConfig;

import java.util.ArrayList;
import java.util.List;

/** The MISP instances the configuration names; the service, {@code replay} and {@code check-config} read them here. */
public final class MispInstances {
    private MispInstances() {
    }

    /**
     * The configured MISP instances: {@code MISP_URL} may list several, with one key for all or one key each in
     * {@code MISP_KEY}. Empty when no MISP is configured.
     */
    public static List<MispSettings> from(CorrelatorConfig config) {
        String urls = config.get(CorrelatorConfig.MISP_URL);
        if (urls == null) {
            return List.of();
        }
        String[] url = urls.split(",");
        String keyList = config.get(CorrelatorConfig.MISP_KEY);
        String[] keys = keyList == null ? new String[0] : keyList.split(",");
        if (keys.length > 1 && keys.length != url.length) {
            throw new IllegalArgumentException("CORRELATOR_MISP_KEY: " + keys.length + " keys for " + url.length
                    + " MISP URLs; give one key, or one per URL in the same order");
        }
        List<MispSettings> out = new ArrayList<>();
        for (int i = 0; i < url.length; i++) {
            String key = keys.length == 0 ? null : keys.length == 1 ? keys[0].strip() : keys[i].strip();
            out.add(MispSettings.from(config, url[i], key));
        }
        return out;
    }
}
