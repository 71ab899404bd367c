package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.indicator.IndicatorType;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
        Map<IndicatorType, Duration> byType = new EnumMap<>(
                IndicatorType.class);
        config.find(CorrelatorConfig.MISP_MAX_AGE_IP).ifPresent(d -> byType.put(IndicatorType.IP, d));
        config.find(CorrelatorConfig.MISP_MAX_AGE_DOMAIN).ifPresent(d -> byType.put(IndicatorType.DOMAIN, d));
        config.find(CorrelatorConfig.MISP_MAX_AGE_URL).ifPresent(d -> byType.put(IndicatorType.URL, d));
        config.find(CorrelatorConfig.MISP_MAX_AGE_HASH).ifPresent(d -> {
            for (var t : List.of(IndicatorType.MD5,
                    IndicatorType.SHA1, IndicatorType.SHA256,
                    IndicatorType.IMPHASH)) {
                byType.put(t, d);
            }
        });
        AttributeFilter filter = new AttributeFilter(
                Set.copyOf(config.find(CorrelatorConfig.MISP_TAGS_INCLUDE).orElse(List.of())),
                Set.copyOf(config.find(CorrelatorConfig.MISP_TAGS_EXCLUDE).orElse(List.of())),
                config.get(CorrelatorConfig.MISP_MAX_AGE), byType);
        return new MispSettings(url, key, config.get(CorrelatorConfig.MISP_VERIFY_TLS),
                config.get(CorrelatorConfig.MISP_TIMEOUT), config.get(CorrelatorConfig.MISP_TO_IDS),
                config.get(CorrelatorConfig.MISP_PUBLISHED), config.get(CorrelatorConfig.MISP_ENFORCE_WARNINGLIST), filter);
    }

    /**
     * How this instance is named everywhere it appears — events ({@code misp.instance}), hits rows, metrics, status,
     * exports, logs: its URL without user info ({@code user:password@}), query or fragment, which may carry secrets.
     */
    public String name() {
        return nameOf(url);
    }

    /** {@code https://user:pw@misp.example/?key=…} → {@code https://misp.example/}; null stays null. */
    public static String nameOf(String url) {
        if (url == null) {
            return null;
        }
        try {
            URI u = new URI(url.strip());
            if (u.getScheme() != null && u.getHost() != null) {
                return new URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getRawPath() == null
                        || u.getRawPath().isEmpty() ? null : u.getPath(), null, null).toString();
            }
        } catch (URISyntaxException e) {
            // below: cut by hand
        }
        String v = url.strip();
        int cut = v.length();
        for (char c : new char[]{'?', '#'}) {
            int i = v.indexOf(c);
            if (i >= 0) {
                cut = Math.min(cut, i);
            }
        }
        v = v.substring(0, cut);
        int scheme = v.indexOf("://");
        int at = v.lastIndexOf('@');
        return scheme >= 0 && at > scheme ? v.substring(0, scheme + 3) + v.substring(at + 1) : v;
    }

    @Override
    public String toString() {
        // the key never reaches a log line
        return "MispSettings[url=" + name() + ", key=" + (key == null ? "(unset)" : "****") + ", verifyTls=" + verifyTls
                + ", timeout=" + timeout + ", toIds=" + toIds + ", published=" + published
                + ", enforceWarninglist=" + enforceWarninglist + ", filter=" + filter + "]";
    }
}
