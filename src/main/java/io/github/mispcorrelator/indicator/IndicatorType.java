package io.github.mispcorrelator.indicator;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What kind of value an indicator is, and which MISP attribute types can hold it. Composite MISP types
 * ({@code filename|sha256}, {@code ip-dst|port}, {@code domain|ip}) are listed too: a value is matched against the
 * half of the composite that holds this kind, never the other half.
 */
public enum IndicatorType {
    MD5(List.of("md5", "filename|md5", "malware-sample")),
    SHA1(List.of("sha1", "filename|sha1")),
    SHA256(List.of("sha256", "filename|sha256")),
    IMPHASH(List.of("imphash", "filename|imphash")),
    IP(List.of("ip-dst", "ip-src", "ip-dst|port", "ip-src|port", "domain|ip")),
    DOMAIN(List.of("domain", "hostname", "domain|ip", "hostname|port")),
    URL(List.of("url", "uri", "link"));

    private final List<String> mispTypes;

    IndicatorType(List<String> mispTypes) {
        this.mispTypes = mispTypes;
    }

    /** The MISP attribute types searched for an indicator of this kind. */
    public List<String> mispTypes() {
        return mispTypes;
    }

    /** The lower-case name used in DRL, the API and the hits table ({@code sha256}, {@code ip}). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<IndicatorType> of(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.strip().toUpperCase(Locale.ROOT).replace("-", "");
        for (IndicatorType t : values()) {
            if (t.name().equals(n)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /**
     * The kind of value one part of a MISP attribute type holds: {@code md5} → MD5, {@code ip-dst} → IP,
     * {@code hostname} → DOMAIN; empty for parts such as {@code filename} or {@code port}.
     */
    public static Optional<IndicatorType> ofMispPart(String part) {
        return switch (part) {
            case "md5", "malware-sample" -> Optional.of(MD5);
            case "sha1" -> Optional.of(SHA1);
            case "sha256" -> Optional.of(SHA256);
            case "imphash" -> Optional.of(IMPHASH);
            case "ip-dst", "ip-src", "ip" -> Optional.of(IP);
            case "domain", "hostname" -> Optional.of(DOMAIN);
            case "url", "uri", "link" -> Optional.of(URL);
            default -> Optional.empty();
        };
    }
}
