package io.github.mispcorrelator.rules;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Candidate;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.IpAddresses;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    /** Every field a rule pointed at (as spelled in the alert), whether or not it held a usable value. */
    private final Set<String> taken = new HashSet<>();
    private String currentRule = "?";
    private String currentId = "?";
    private Alert fallbackAlert;
    private String fallbackRule;
    private String fallbackId;

    void firing(String ruleName, String ruleId) {
        currentRule = ruleName;
        currentId = ruleId;
        firedRules.add(ruleName);
    }

    /**
     * The generic fallback ({@code drl/extract-fallback.drl}): every field under {@code data} whose name is a
     * well-known indicator name and whose value validates as that type, in an alert no other rule fired on. It runs
     * once, after the rules, and never reads a field another rule took, so a value is never counted twice.
     */
    public void fallback(Alert alert) {
        fallbackAlert = alert;
        fallbackRule = currentRule;
        fallbackId = currentId;
    }

    /**
     * Runs the deferred fallback walk, for an alert no family rule claimed (a family rule that fired decided what
     * its alert holds — Sysmon EID 3 outbound reads the destination, not the source); called by the engine once
     * the rules are done with the alert.
     */
    void finish() {
        if (fallbackAlert == null || firedRules.size() > 1) {
            fallbackAlert = null;
            return;
        }
        currentRule = fallbackRule;
        currentId = fallbackId;
        GenericFields.walk(fallbackAlert, "data", taken, this::add);
        fallbackAlert = null;
    }

    /**
     * Claims the alert without extracting anything: for families that never carry indicators (configuration
     * assessment, inventory), so the generic fallback does not walk them.
     */
    public void claim(Alert alert) {
        // firing the rule is the claim
    }

    /** The fields rules pointed at, for the coverage report. */
    public Set<String> takenFields() {
        return taken;
    }

    private Optional<Map.Entry<String, JsonNode>> take(Alert alert, String path) {
        var found = alert.resolve(path);
        found.ifPresent(e -> taken.add(e.getKey()));
        return found;
    }

    /**
     * Every hash in a Sysmon-style list ({@code SHA1=…,MD5=…,SHA256=…,IMPHASH=…}), whatever the order; also
     * tolerates {@code ;} and spaces. A single pass over the text, never a backtracking regular expression: a long
     * value without {@code =} made the former pattern quadratic (20,000 characters held the event loop 5 s).
     */
    public void hashes(Alert alert, String... paths) {
        for (String path : paths) {
            take(alert, path).ifPresent(e -> hashPairs(scanned(e.getValue().asText("")), e.getKey()));
        }
    }

    private void hashPairs(String text, String field) {
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
                IndicatorType.of(text.substring(keyStart, keyEnd)).ifPresent(type -> add(type, value, field));
            }
        }
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return c < 128 && Character.isLetterOrDigit(c);
    }

    /** The part of a field the scanners read: at most {@link #MAX_SCAN} characters. */
    private static String scanned(String text) {
        return text.length() <= MAX_SCAN ? text : text.substring(0, MAX_SCAN);
    }

    /** One hash of a known type ({@code "md5"}, {@code "sha1"}, {@code "sha256"}, {@code "imphash"}). */
    public void hash(Alert alert, String type, String... paths) {
        value(alert, type, paths);
    }

    /** One IP address (IPv4 or IPv6); non-global addresses are dropped later. */
    public void ip(Alert alert, String... paths) {
        value(alert, "ip", paths);
    }

    /** Every IP address in free text, e.g. Sysmon DNS {@code queryResults} ({@code type:  5 cname;1.2.3.4;}). */
    public void ipsIn(Alert alert, String... paths) {
        for (String path : paths) {
            take(alert, path).ifPresent(e -> {
                Matcher m = IP_TOKEN.matcher(scanned(e.getValue().asText("")));
                while (m.find()) {
                    // no address is longer than an IPv6 with a zone id
                    if (m.end() - m.start() <= 64 && IpAddresses.parse(m.group()).isPresent()) {
                        add(IndicatorType.IP, m.group(), e.getKey());
                    }
                }
            });
        }
    }

    /** One domain or host name. */
    public void domain(Alert alert, String... paths) {
        value(alert, "domain", paths);
    }

    /**
     * The host of a URL: a full URL ({@code http://host/path}) or a proxy's {@code CONNECT} target
     * ({@code host:443}). A host that is an IP address is an IP indicator; a bare path gives nothing.
     */
    public void urlHost(Alert alert, String... paths) {
        for (String path : paths) {
            urlHostOf(alert, path);
        }
    }

    private void urlHostOf(Alert alert, String path) {
        take(alert, path).ifPresent(e -> {
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
    public void url(Alert alert, String... paths) {
        value(alert, "url", paths);
    }

    /**
     * A value of any indicator type, by name; a list field yields each element.
     *
     * @throws IllegalArgumentException for an unknown type name, so a typo in a rule fails its test loudly
     */
    public void value(Alert alert, String type, String... paths) {
        IndicatorType t = IndicatorType.of(type)
                .orElseThrow(() -> new IllegalArgumentException("unknown indicator type '" + type + "' in rule "
                        + currentRule + "; known: md5, sha1, sha256, imphash, ip, domain, url"));
        for (String path : paths) {
            take(alert, path).ifPresent(e -> {
                if (e.getValue().isArray()) {
                    e.getValue().forEach(v -> add(t, v.asText(""), e.getKey()));
                } else if (e.getValue().isValueNode()) {
                    add(t, e.getValue().asText(""), e.getKey());
                }
            });
        }
    }

    /** A host that may be a name or an address ({@code data.dns.query}, {@code destinationHostname}). */
    public void host(Alert alert, String... paths) {
        for (String path : paths) {
            take(alert, path).ifPresent(e -> {
                String v = e.getValue().asText("").strip();
                add(IpAddresses.parse(v).isPresent() ? IndicatorType.IP : IndicatorType.DOMAIN, v, e.getKey());
            });
        }
    }

    private void add(IndicatorType type, String raw, String field) {
        if (raw != null && raw.length() <= MAX_VALUE && candidates.size() < MAX_CANDIDATES && !raw.isBlank()) {
            candidates.add(new Candidate(type, raw, field, currentRule, currentId));
        }
    }

    public List<Candidate> candidates() {
        return candidates;
    }

    public Set<String> firedRules() {
        return firedRules;
    }
}
