package io.github.mispcorrelator.indicator;

import java.net.IDN;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether a raw value is an indicator worth a MISP question, and in which form: MISP matches exactly (and
 * case-sensitively on PostgreSQL-backed servers), so hashes and domains are lower-cased, IPs printed canonically.
 * Values that can never be threat intelligence — empty, malformed, non-global addresses — are dropped here.
 */
public final class Normaliser {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]+");
    private static final Pattern ZEROS = Pattern.compile("0+");
    private static final Pattern DOMAIN_LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern ADDRESS_PORT =
            Pattern.compile("(\\d{1,3}(?:\\.\\d{1,3}){3}):\\d{1,5}|\\[([0-9A-Fa-f:.]+)\\]:\\d{1,5}");
    /** One host character, then anything but white space: linear (the former {@code [^\\s/?#]+[^\\s]*} backtracked). */
    private static final Pattern URL = Pattern.compile("(?i)(https?|ftp)://[^\\s/?#][^\\s]*");

    private Normaliser() {
    }

    /** The normalised value, or empty when the value is not a usable indicator of that type. */
    public static Optional<String> normalise(IndicatorType type, String raw) {
        if (raw == null) {
            return Optional.empty();
        }
        String v = raw.strip();
        if (v.isEmpty() || v.equals("-")) {
            return Optional.empty();
        }
        return switch (type) {
            case MD5, IMPHASH -> hash(v, 32);
            case SHA1 -> hash(v, 40);
            case SHA256 -> hash(v, 64);
            case IP -> IpAddresses.parse(withoutPort(v)).filter(IpAddresses::isGlobal).map(IpAddresses::canonical);
            case DOMAIN -> domain(v);
            case URL -> url(v);
        };
    }

    /** {@code 81.2.69.142:52210} and {@code [2a02:cf40::1]:443}, as Office 365's ClientIP writes them: the address. */
    private static String withoutPort(String v) {
        Matcher m = ADDRESS_PORT.matcher(v);
        return m.matches() ? (m.group(1) != null ? m.group(1) : m.group(2)) : v;
    }

    private static Optional<String> hash(String v, int length) {
        String h = v.toLowerCase(Locale.ROOT);
        if (h.length() != length || !HEX.matcher(h).matches() || ZEROS.matcher(h).matches()) {
            return Optional.empty();
        }
        return Optional.of(h);
    }

    private static Optional<String> domain(String v) {
        if (v.length() > 1024) {
            // longer than any name IDN could bring under 253 characters: not worth converting
            return Optional.empty();
        }
        String d = v.toLowerCase(Locale.ROOT);
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (d.isEmpty() || IpAddresses.parse(d).isPresent()) {
            return Optional.empty();
        }
        try {
            d = IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (d.length() > 253 || d.indexOf('.') < 0) {
            return Optional.empty();
        }
        for (String label : d.split("\\.", -1)) {
            if (!DOMAIN_LABEL.matcher(label).matches()) {
                return Optional.empty();
            }
        }
        // a bare "localhost.localdomain"-like local name is not intelligence
        if (d.endsWith(".local") || d.endsWith(".localdomain") || d.endsWith(".internal") || d.endsWith(".arpa")) {
            return Optional.empty();
        }
        return Optional.of(d);
    }

    private static Optional<String> url(String v) {
        return URL.matcher(v).matches() ? Optional.of(v) : Optional.empty();
    }

    /**
     * Normalises the candidates one alert produced and removes repeats (same type and value), keeping the first
     * rule and field that named each value.
     */
    public static List<Indicator> normaliseAll(List<Candidate> candidates) {
        Map<String, Indicator> unique = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            normalise(c.type(), c.rawValue()).ifPresent(value -> {
                Indicator i = new Indicator(c.type(), value, c.field(), c.rule(), c.ruleId());
                unique.putIfAbsent(i.key(), i);
            });
        }
        return new ArrayList<>(unique.values());
    }

    /** For matching MISP attribute values, which are stored as entered: same rules as for alert values. */
    public static Optional<String> normaliseMispValue(IndicatorType type, String raw) {
        if (type == IndicatorType.IP && raw != null) {
            // MISP stores CIDR blocks in ip-dst too; only exact addresses are matched here
            return IpAddresses.parse(raw.strip()).map(IpAddresses::canonical);
        }
        return normalise(type, raw);
    }
}
