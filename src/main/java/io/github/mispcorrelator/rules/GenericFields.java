package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.IpAddresses;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The generic fallback's field-name table: which well-known field names hold which indicator type, whatever the
 * decoder. A name alone is not enough — the value must validate as that type too (normalisation drops the rest), so
 * {@code data.win.eventdata.subjectDomainName = "CONTOSO"} or {@code data.zip = "90210"} give nothing. One walk over
 * the alert's {@code data}, skipping every field a family rule already took.
 */
final class GenericFields {
    /** A hostile alert may nest deeply; real decoders stay far below this. */
    private static final int MAX_DEPTH = 12;
    private static final Pattern HEX = Pattern.compile("[0-9A-Fa-f]+");
    private static final Pattern HASH_PAIR = Pattern.compile("([A-Za-z0-9]+)\\s*=\\s*([0-9A-Fa-f]{32,64})");
    private static final Set<String> HASH_NAMES = Set.of("hash", "hashes", "filehash", "hashvalue", "checksum");
    private static final Set<String> HOST_NAMES = Set.of("host", "hostname", "domain", "domainname", "fqdn",
            "queryname", "dnsquery", "rrname", "sni", "servername", "dsthost", "desthost", "remotehost");
    private static final Set<String> URL_NAMES = Set.of("url", "uri", "requesturl", "fullurl", "referer", "referrer");

    interface Sink {
        void add(IndicatorType type, String raw, String field);
    }

    private GenericFields() {
    }

    /** The fallback's walk over the alert's top-level field {@code key}: every well-named scalar not yet taken. */
    static void walk(Alert alert, String key, Set<String> taken, Sink sink) {
        alert.walkFields(key, new Alert.FieldWalk() {
            @Override
            public boolean skip(StringBuilder path, int depth) {
                return depth > MAX_DEPTH || (!taken.isEmpty() && taken.contains(path.toString()));
            }

            @Override
            public boolean wants(String name) {
                return kindOf(name) != Kind.NONE;
            }

            @Override
            public void scalar(String name, String text, String path) {
                classify(name, text, path, sink);
            }
        });
    }

    /** What a field name promises. */
    enum Kind { NONE, MD5, SHA1, SHA256, IMPHASH, ANY_HASH, URL, HOST, IP }

    /** Field names repeat across alerts: classify each once (bounded: a hostile alert may invent names). */
    private static final Map<String, Kind> KINDS = new ConcurrentHashMap<>();

    static Kind kindOf(String key) {
        Kind k = KINDS.get(key);
        if (k == null) {
            k = classifyName(key);
            if (KINDS.size() < 20_000) {
                KINDS.put(key, k);
            }
        }
        return k;
    }

    private static Kind classifyName(String key) {
        String name = key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
        if (name.endsWith("md5")) {
            return Kind.MD5;
        } else if (name.endsWith("sha1")) {
            return Kind.SHA1;
        } else if (name.endsWith("sha256")) {
            return Kind.SHA256;
        } else if (name.endsWith("imphash")) {
            return Kind.IMPHASH;
        } else if (HASH_NAMES.contains(name)) {
            return Kind.ANY_HASH;
        } else if (URL_NAMES.contains(name) || name.endsWith("url")) {
            return Kind.URL;
        } else if (HOST_NAMES.contains(name) || name.endsWith("hostname") || name.endsWith("domain")) {
            return Kind.HOST;
        } else if (isIpName(name)) {
            return Kind.IP;
        }
        return Kind.NONE;
    }

    /** Gives the value to {@code sink} as the type its field name promises, when the value can be one. */
    static void classify(String key, String value, String path, Sink sink) {
        Kind kind = kindOf(key);
        if (kind == Kind.NONE) {
            return;
        }
        String v = value.strip();
        if (v.isEmpty() || v.length() > 2048) {
            return;
        }
        switch (kind) {
            case MD5 -> sink.add(IndicatorType.MD5, v, path);
            case SHA1 -> sink.add(IndicatorType.SHA1, v, path);
            case SHA256 -> sink.add(IndicatorType.SHA256, v, path);
            case IMPHASH -> sink.add(IndicatorType.IMPHASH, v, path);
            case ANY_HASH -> hashByValue(v, path, sink);
            case URL -> sink.add(IndicatorType.URL, v, path);
            case HOST -> sink.add(IpAddresses.parse(v).isPresent() ? IndicatorType.IP : IndicatorType.DOMAIN, v, path);
            case IP -> {
                if (IpAddresses.parse(v).isPresent()) {
                    sink.add(IndicatorType.IP, v, path);
                }
            }
            default -> { }
        }
    }

    /** srcip, dstip, src_ip, dest_ip, clientIP, callerIp, sourceIPAddress, ipAddress, remoteAddress, ipv4 … */
    static boolean isIpName(String name) {
        return name.endsWith("ip") || name.endsWith("ipaddress") || name.endsWith("ipaddr") || name.endsWith("address")
                || name.endsWith("addr") || name.endsWith("ipv4") || name.endsWith("ipv6") || name.equals("ips");
    }

    private static void hashByValue(String v, String path, Sink sink) {
        if (v.indexOf('=') > 0) {
            Matcher m = HASH_PAIR.matcher(v);
            while (m.find()) {
                IndicatorType.of(m.group(1)).ifPresent(t -> sink.add(t, m.group(2), path));
            }
            return;
        }
        if (!HEX.matcher(v).matches()) {
            return;
        }
        switch (v.length()) {
            case 32 -> sink.add(IndicatorType.MD5, v, path);
            case 40 -> sink.add(IndicatorType.SHA1, v, path);
            case 64 -> sink.add(IndicatorType.SHA256, v, path);
            default -> { }
        }
    }
}
