package io.github.mispcorrelator.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Text-to-value parsers for {@link ConfigKey}; each failure message says what was expected. */
final class Parsers {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?");

    private Parsers() {
    }

    static final Function<String, String> TEXT = s -> s;

    static Function<String, Integer> intBetween(int min, int max) {
        return s -> {
            try {
                int v = Integer.parseInt(s.trim());
                if (v < min || v > max) {
                    throw new IllegalArgumentException("expected a whole number from " + min + " to " + max);
                }
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number from " + min + " to " + max);
            }
        };
    }

    static Function<String, String> oneOf(String... allowed) {
        return s -> {
            String v = s.strip().toLowerCase(Locale.ROOT);
            for (String a : allowed) {
                if (a.equals(v)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("expected one of " + String.join(", ", allowed));
        };
    }

    /** A comma-separated list; blanks dropped. */
    static final Function<String, List<String>> LIST = s -> Arrays.stream(s.split(","))
            .map(String::strip).filter(x -> !x.isEmpty()).toList();

    static Function<String, Long> longBetween(long min, long max) {
        return s -> {
            try {
                long v = Long.parseLong(s.strip().replace("_", ""));
                if (v < min || v > max) {
                    throw new IllegalArgumentException("expected a whole number from " + min + " to " + max);
                }
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number from " + min + " to " + max);
            }
        };
    }

    /** Like {@link #DURATION_PARSER}, with days ({@code 90d}) for attribute ages. */
    static final Function<String, Duration> AGE = s -> {
        String v = s.strip().toLowerCase(Locale.ROOT);
        if (v.endsWith("d")) {
            try {
                long days = Long.parseLong(v.substring(0, v.length() - 1).strip());
                if (days <= 0) {
                    throw new IllegalArgumentException("expected an age above zero such as 90d");
                }
                return Duration.ofDays(days);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected an age such as 90d, 12h or 30m");
            }
        }
        return Parsers.DURATION_PARSER.apply(s);
    };

    static final Function<String, Boolean> BOOLEAN = s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "true", "yes", "on", "1" -> true;
        case "false", "no", "off", "0" -> false;
        default -> throw new IllegalArgumentException("expected true or false");
    };

    /** An http(s) URL without a trailing slash, so paths can be appended. */
    static final Function<String, String> HTTP_URL = s -> {
        String v = s.trim();
        try {
            URI uri = new URI(v);
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("expected an http:// or https:// URL with a host");
            }
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("expected an http:// or https:// URL: " + e.getReason());
        }
        return v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
    };

    /** One or more http(s) URLs, comma-separated (several MISP instances); normalised, comma-joined. */
    static final Function<String, String> HTTP_URLS = s -> String.join(",",
            Arrays.stream(s.split(",")).map(String::strip).filter(x -> !x.isEmpty())
                    .map(u -> HTTP_URL.apply(u)).toList());

    static final Function<String, String> JDBC_URL = s -> {
        if (!s.trim().startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("expected a jdbc:postgresql://host:port/database URL");
        }
        return s.trim();
    };

    /**
     * A parser of a file or directory path. {@link CorrelatorConfig#load} resolves a relative value against the
     * directory of the file that holds it (or the install directory) before this parser sees it, so that no path
     * depends on the working directory of whoever started the service.
     */
    static final class PathParser implements Function<String, Path> {
        private final Function<Path, Path> check;

        PathParser(Function<Path, Path> check) {
            this.check = check;
        }

        @Override
        public Path apply(String s) {
            return check.apply(Path.of(s.trim()));
        }
    }

    static final Function<String, Path> EXISTING_DIR = new PathParser(p -> {
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("no such directory: " + p.toAbsolutePath());
        }
        return p;
    });

    static final Function<String, Path> PATH = new PathParser(p -> p);

    static final Function<String, Path> READABLE_FILE = new PathParser(p -> {
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new IllegalArgumentException("no readable file: " + p.toAbsolutePath());
        }
        return p;
    });

    /** {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}; a bare number is milliseconds. */
    static final Function<String, Duration> DURATION_PARSER = s -> {
        Matcher m = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a duration such as 500ms, 10s or 2m");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        Duration d = switch (unit) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofMillis(n);
        };
        if (d.isZero()) {
            throw new IllegalArgumentException("expected a duration above zero");
        }
        return d;
    };

    /** {@code 1048576}, {@code 512k}, {@code 1m}: a byte count. */
    static final Function<String, Long> BYTES = s -> {
        String v = s.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        if (v.endsWith("k") || v.endsWith("kb") || v.endsWith("kib")) {
            mult = 1024;
        } else if (v.endsWith("m") || v.endsWith("mb") || v.endsWith("mib")) {
            mult = 1024 * 1024;
        }
        v = v.replaceAll("[a-z]+$", "");
        try {
            long n = Long.parseLong(v) * mult;
            if (n < 1024 || n > 1024L * 1024 * 1024) {
                throw new IllegalArgumentException("expected a size from 1k to 1024m");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a size such as 1048576, 512k or 4m");
        }
    };
}
