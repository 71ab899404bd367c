package io.github.mispcorrelator.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * API tokens as configured ({@code INGEST_TOKEN}, {@code READ_TOKEN}, {@code ADMIN_TOKEN}): parsed and checked with
 * the rest of the configuration, kept only as SHA-256 digests; {@code http.AccessControl} grants roles by them.
 */
public final class ApiTokens {
    private static final Pattern DIGEST = Pattern.compile("sha256:([0-9a-fA-F]{64})");
    /** Shorter tokens are too easy to guess; {@code openssl rand -hex 32} gives 64 characters. */
    public static final int MIN_LENGTH = 16;

    /** The SHA-256 of one configured token; the token itself is not kept. */
    public record Digest(byte[] sha256) {
    }

    private ApiTokens() {
    }

    /**
     * Parses a configuration value: tokens separated by commas, each either the token itself (at least
     * {@value #MIN_LENGTH} characters) or {@code sha256:<64 hex digits>}, the digest of the token, so that the
     * configuration need not hold it.
     *
     * @throws IllegalArgumentException saying what was expected, never repeating a token
     */
    public static List<Digest> parse(String value) {
        List<Digest> out = new ArrayList<>();
        int n = 0;
        for (String part : value.split(",")) {
            n++;
            String t = part.strip();
            if (t.isEmpty()) {
                continue;
            }
            var m = DIGEST.matcher(t);
            if (m.matches()) {
                out.add(new Digest(HexFormat.of().parseHex(m.group(1).toLowerCase(Locale.ROOT))));
            } else if (t.startsWith("sha256:")) {
                throw new IllegalArgumentException("token " + n + ": sha256: must be followed by 64 hex digits");
            } else if (t.length() < MIN_LENGTH || t.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                throw new IllegalArgumentException("token " + n + ": expected at least " + MIN_LENGTH
                        + " printable ASCII characters without spaces (e.g. openssl rand -hex 32), or sha256:<hex digest>");
            } else {
                out.add(new Digest(sha256(t)));
            }
        }
        return List.copyOf(out);
    }

    /** {@code sha256:<hex>} of a token: what to put in the configuration instead of the token. */
    public static String digestOf(String token) {
        return "sha256:" + HexFormat.of().formatHex(sha256(token));
    }

    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether every address {@code host} stands for is a loopback address ({@code 127.0.0.1}, {@code ::1},
     * {@code localhost}). {@code 0.0.0.0} and unresolvable names are not.
     */
    public static boolean isLoopback(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        try {
            InetAddress[] all = InetAddress.getAllByName(host.strip());
            if (all.length == 0) {
                return false;
            }
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }
}
