package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Candidate;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.IpAddresses;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code out} global of extraction rules: each method points at an alert field that holds indicators. A missing
 * or empty field yields nothing and no error. Values are normalised afterwards, so rules need not care about case
 * or format; each value is attributed to the rule that named it.
 */
public final class Extraction {
    /**
     * The most characters of one field the text scanners ({@link #hashes}, {@link #ipsIn}) read: real fields are a few
     * hundred characters; an alert's text is attacker-supplied and must not buy unbounded CPU.
     */
    static final int MAX_SCAN = 16 * 1024;
    /** Longer values are no indicator (the longest is a URL; MISP's own UI cuts far shorter) and are not looked up. */
    static final int MAX_VALUE = 4096;
    /** Values one alert may name; beyond, the rest are dropped, so one alert cannot flood the lookup queue. */
    static final int MAX_CANDIDATES = 1000;
    private static final Pattern URL_HOST = Pattern.compile("(?i)[a-z][a-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#\\[\\]]+)");
    /** {@code host:port} as a proxy logs an HTTPS {@code CONNECT}. */
    private static final Pattern CONNECT_TARGET = Pattern.compile("([A-Za-z0-9_.-]+):\\d{1,5}");
    private static final Pattern URL_IPV6_HOST = Pattern.compile("(?i)[a-z][a-z0-9+.-]*://(?:[^@/?#]*@)?\\[([0-9a-f:.]+)\\]");
    private static final Pattern IP_TOKEN = Pattern.compile("[0-9A-Fa-f:.\\[\\]%]{2,}");

    private final List<Candidate> candidates = new ArrayList<>();
    private final Set<String> firedRules = new LinkedHashSet<>();
    private String currentRule = "?";

    void firing(String ruleName) {
        currentRule = ruleName;
        firedRules.add(ruleName);
    }

    /**
     * Every hash in a Sysmon-style list ({@code SHA1=…,MD5=…,SHA256=…,IMPHASH=…}), whatever the order; also
     * tolerates {@code ;} and spaces. A single pass over the text, never a backtracking regular expression: a long
     * value without {@code =} made the former pattern quadratic (20,000 characters held the event loop 5 s).
     */
    public void hashes(Alert alert, String path) {
        alert.resolve(path).ifPresent(e -> {
            String text = scanned(e.getValue().asText(""));
            int floor = 0;
            for (int eq = text.indexOf('='); eq >= 0; eq = text.indexOf('=', eq + 1)) {
                int keyEnd = eq;
                while (keyEnd > floor && Character.isWhitespace(text.charAt(keyEnd - 1))) {
                    keyEnd--;
                }
                int keyStart = keyEnd;
                while (keyStart > floor && isAsciiLetterOrDigit(text.charAt(keyStart - 1))) {
                    keyStart--;
                }
                int valueStart = eq + 1;
                while (valueStart < text.length() && Character.isWhitespace(text.charAt(valueStart))) {
                    valueStart++;
                }
                int valueEnd = valueStart;
                while (valueEnd < text.length() && Character.digit(text.charAt(valueEnd), 16) >= 0
                        && text.charAt(valueEnd) < 128) {
                    valueEnd++;
                }
                // each character is looked at a bounded number of times: the next key starts after this value
                floor = Math.max(eq + 1, valueEnd);
                if (keyStart < keyEnd && valueStart < valueEnd) {
                    String value = text.substring(valueStart, valueEnd);
                    IndicatorType.of(text.substring(keyStart, keyEnd)).ifPresent(type -> add(type, value, e.getKey()));
                }
            }
        });
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return c < 128 && Character.isLetterOrDigit(c);
    }

    /** The part of a field the scanners read: at most {@link #MAX_SCAN} characters. */
    private static String scanned(String text) {
        return text.length() <= MAX_SCAN ? text : text.substring(0, MAX_SCAN);
    }

    /** One hash of a known type ({@code "md5"}, {@code "sha1"}, {@code "sha256"}, {@code "imphash"}). */
    public void hash(Alert alert, String type, String path) {
        value(alert, type, path);
    }

    /** One IP address (IPv4 or IPv6); non-global addresses are dropped later. */
    public void ip(Alert alert, String path) {
        value(alert, "ip", path);
    }

    /** Every IP address in free text, e.g. Sysmon DNS {@code queryResults} ({@code type:  5 cname;1.2.3.4;}). */
    public void ipsIn(Alert alert, String path) {
        alert.resolve(path).ifPresent(e -> {
            Matcher m = IP_TOKEN.matcher(scanned(e.getValue().asText("")));
            while (m.find()) {
                // no address is longer than an IPv6 with a zone id
                if (m.end() - m.start() <= 64 && IpAddresses.parse(m.group()).isPresent()) {
                    add(IndicatorType.IP, m.group(), e.getKey());
                }
            }
        });
    }

    /** One domain or host name. */
    public void domain(Alert alert, String path) {
        value(alert, "domain", path);
    }

    /**
     * The host of a URL: a full URL ({@code http://host/path}) or a proxy's {@code CONNECT} target
     * ({@code host:443}). A host that is an IP address is an IP indicator; a bare path gives nothing.
     */
    public void urlHost(Alert alert, String path) {
        alert.resolve(path).ifPresent(e -> {
            String url = e.getValue().asText("").strip();
            if (url.length() > MAX_VALUE) {
                return;
            }
            Matcher m = URL_HOST.matcher(url);
            String host = m.lookingAt() ? m.group(1) : null;
            if (host == null) {
                Matcher c = CONNECT_TARGET.matcher(url);
                host = c.matches() ? c.group(1) : null;
            }
            if (host == null) {
                Matcher v6 = URL_IPV6_HOST.matcher(url);
                host = v6.lookingAt() ? v6.group(1) : null;
            }
            if (host != null) {
                add(IpAddresses.parse(host).isPresent() ? IndicatorType.IP : IndicatorType.DOMAIN, host, e.getKey());
            }
        });
    }

    /** One URL. */
    public void url(Alert alert, String path) {
        value(alert, "url", path);
    }

    /**
     * A value of any indicator type, by name; a list field yields each element.
     *
     * @throws IllegalArgumentException for an unknown type name, so a typo in a rule fails its test loudly
     */
    public void value(Alert alert, String type, String path) {
        IndicatorType t = IndicatorType.of(type)
                .orElseThrow(() -> new IllegalArgumentException("unknown indicator type '" + type + "' in rule "
                        + currentRule + "; known: md5, sha1, sha256, imphash, ip, domain, url"));
        alert.resolve(path).ifPresent(e -> {
            if (e.getValue().isArray()) {
                e.getValue().forEach(v -> add(t, v.asText(""), e.getKey()));
            } else if (e.getValue().isValueNode()) {
                add(t, e.getValue().asText(""), e.getKey());
            }
        });
    }

    private void add(IndicatorType type, String raw, String field) {
        if (raw != null && raw.length() <= MAX_VALUE && candidates.size() < MAX_CANDIDATES && !raw.isBlank()) {
            candidates.add(new Candidate(type, raw, field, currentRule));
        }
    }

    public List<Candidate> candidates() {
        return candidates;
    }

    public Set<String> firedRules() {
        return firedRules;
    }
}
