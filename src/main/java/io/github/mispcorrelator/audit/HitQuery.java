package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.Normaliser;
import io.vertx.core.MultiMap;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The query parameters of {@code GET /v1/hits} and {@code GET /v1/hits/stats}, read and checked. Every problem is a
 * {@link BadParameterException} naming the parameter; unknown parameters are problems too, so that a misspelt filter
 * does not silently return everything.
 */
public final class HitQuery {

    /** Filters shared by the list, the exports and the stats; null means "any". Times are [from, to). */
    public record Filter(Instant from, Instant to, String agentId, String agentName, List<String> indicatorValues,
                         String indicatorType, String mispEventId, String mispEventUuid, String ruleId,
                         Integer minSeverity, String rulesetVersion, String origin, String manager) {
    }

    public enum Format {
        JSON, CSV, NDJSON
    }

    /** Where the previous page ended: the newest-first order is (occurred_at, id) descending. */
    public record Cursor(Instant occurredAt, long id) {
        private static final Pattern FORM = Pattern.compile("v1\\.(-?\\d+)\\.(\\d+)");

        public String encode() {
            long micros = Math.addExact(Math.multiplyExact(occurredAt.getEpochSecond(), 1_000_000L),
                    occurredAt.getNano() / 1_000);
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(("v1." + micros + "." + id).getBytes(StandardCharsets.US_ASCII));
        }

        public static Cursor decode(String text) {
            String raw;
            try {
                raw = new String(Base64.getUrlDecoder().decode(text.strip()), StandardCharsets.US_ASCII);
            } catch (IllegalArgumentException e) {
                throw new BadParameterException("cursor", "not a cursor from a previous page's next_cursor");
            }
            Matcher m = FORM.matcher(raw);
            if (!m.matches()) {
                throw new BadParameterException("cursor", "not a cursor from a previous page's next_cursor");
            }
            try {
                long micros = Long.parseLong(m.group(1));
                return new Cursor(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1_000L), Long.parseLong(m.group(2)));
            } catch (NumberFormatException | DateTimeException e) {
                throw new BadParameterException("cursor", "not a cursor from a previous page's next_cursor");
            }
        }
    }

    /** {@code GET /v1/hits}: filters, then where to start, how many, in which format. */
    public record ListRequest(Filter filter, Cursor cursor, Integer limit, Format format, boolean withAlert) {
        /** Rows to return: a JSON page always has a size; an export has one only when asked. */
        public Integer effectiveLimit() {
            return limit != null ? limit : format == Format.JSON ? DEFAULT_LIMIT : null;
        }
    }

    /** {@code GET /v1/hits/stats}: filters over a time range (by default the last 30 days) and the size of top lists. */
    public record StatsRequest(Filter filter, int top) {
    }

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_PAGE = 1000;
    static final int DEFAULT_TOP = 20;
    static final Duration DEFAULT_STATS_RANGE = Duration.ofDays(30);
    private static final int MAX_TEXT = 1024;

    static final List<String> FILTERS = List.of("from", "to", "agent_id", "agent_name", "indicator", "indicator_type",
            "misp_event_id", "misp_event_uuid", "rule_id", "min_severity", "ruleset_version", "origin", "manager");
    static final List<String> LIST_PARAMS = List.of("limit", "cursor", "format", "with_alert");
    static final List<String> STATS_PARAMS = List.of("top");

    private HitQuery() {
    }

    public static ListRequest list(MultiMap params) {
        checkKnown(params, LIST_PARAMS);
        Filter filter = filter(params, null);
        Format format = switch (optional(params, "format") == null ? "json" : optional(params, "format").toLowerCase(Locale.ROOT)) {
            case "json" -> Format.JSON;
            case "csv" -> Format.CSV;
            case "ndjson" -> Format.NDJSON;
            default -> throw new BadParameterException("format", "expected json, csv or ndjson");
        };
        String limitText = optional(params, "limit");
        Integer limit = null;
        if (limitText != null) {
            limit = wholeNumber("limit", limitText, 1, format == Format.JSON ? MAX_PAGE : Integer.MAX_VALUE);
        }
        String cursorText = optional(params, "cursor");
        Cursor cursor = cursorText == null || cursorText.isBlank() ? null : Cursor.decode(cursorText);
        String withAlert = optional(params, "with_alert");
        boolean alert = withAlert != null && switch (withAlert.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw new BadParameterException("with_alert", "expected true or false");
        };
        return new ListRequest(filter, cursor, limit, format, alert);
    }

    public static StatsRequest stats(MultiMap params, Instant now) {
        checkKnown(params, STATS_PARAMS);
        Filter f = filter(params, now);
        String top = optional(params, "top");
        return new StatsRequest(f, top == null ? DEFAULT_TOP : wholeNumber("top", top, 1, 1000));
    }

    /** @param now when not null, a missing time range becomes the 30 days before {@code to} (default now) */
    static Filter filter(MultiMap params, Instant now) {
        Instant from = time("from", optional(params, "from"), false);
        Instant to = time("to", optional(params, "to"), true);
        if (now != null) {
            if (to == null) {
                to = from != null && from.isAfter(now) ? from.plus(DEFAULT_STATS_RANGE) : now;
            }
            if (from == null) {
                from = to.minus(DEFAULT_STATS_RANGE);
            }
        }
        if (from != null && to != null && !to.isAfter(from)) {
            throw new BadParameterException("to", "must be later than from");
        }
        String type = text(params, "indicator_type");
        if (type != null) {
            type = IndicatorType.of(type).map(IndicatorType::id).orElseThrow(() -> new BadParameterException(
                    "indicator_type", "expected one of " + Arrays.stream(IndicatorType.values())
                    .map(IndicatorType::id).collect(Collectors.joining(", "))));
        }
        String indicator = text(params, "indicator");
        List<String> values = indicator == null ? null : indicatorForms(indicator, type);
        String severity = optional(params, "min_severity");
        String origin = text(params, "origin");
        if (origin != null && !origin.equals("live") && !origin.equals("retro-hunt") && !origin.equals("look-back")) {
            throw new BadParameterException("origin", "expected live, retro-hunt or look-back");
        }
        return new Filter(from, to, text(params, "agent_id"), text(params, "agent_name"), values, type,
                text(params, "misp_event_id"), text(params, "misp_event_uuid"), text(params, "rule_id"),
                severity == null ? null : wholeNumber("min_severity", severity, 0, 15),
                text(params, "ruleset_version"), origin, text(params, "manager"));
    }

    /**
     * The value as typed and as the correlator stores it (lower-case hashes and domains, canonical IP addresses), so
     * that an auditor may paste an upper-case hash or a long IPv6 form.
     */
    static List<String> indicatorForms(String value, String type) {
        Set<String> forms = new LinkedHashSet<>();
        forms.add(value);
        for (IndicatorType t : IndicatorType.values()) {
            if (type == null || t.id().equals(type)) {
                Normaliser.normalise(t, value).ifPresent(forms::add);
            }
        }
        return List.copyOf(forms);
    }

    /**
     * ISO-8601 with an offset ({@code 2025-08-13T08:45:06Z}, {@code …+02:00}), Wazuh's {@code …+0000}, without an
     * offset (UTC), or a date: {@code from=2025-08-01&to=2025-08-31} is the whole of August (UTC), {@code to}'s day
     * included.
     */
    static Instant time(String name, String raw, boolean endOfDay) {
        Instant t = parseTime(name, raw, endOfDay);
        // the window alerts are accepted in (Alert.EARLIEST..LATEST): beyond, PostgreSQL and the stats' arithmetic fail
        if (t != null && (t.isBefore(Alert.EARLIEST) || t.isAfter(Alert.LATEST))) {
            throw new BadParameterException(name, "must be between " + Alert.EARLIEST + " and " + Alert.LATEST);
        }
        return t;
    }

    private static Instant parseTime(String name, String raw, boolean endOfDay) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        if (raw.length() > 64) {
            throw new BadParameterException(name, "expected an ISO-8601 time such as 2025-08-13T08:45:06Z or a date "
                    + "such as 2025-08-13 (UTC)");
        }
        // an unencoded '+' of an offset arrives as a space
        String v = raw.strip().replace(' ', '+');
        try {
            return OffsetDateTime.parse(v).toInstant();
        } catch (DateTimeException ignored) {
            // next form
        }
        try {
            return OffsetDateTime.parse(v, Alert.WAZUH_TIME).toInstant();
        } catch (DateTimeException ignored) {
            // next form
        }
        try {
            return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
        } catch (DateTimeException ignored) {
            // next form
        }
        try {
            LocalDate day = LocalDate.parse(v);
            return (endOfDay ? day.plusDays(1) : day).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new BadParameterException(name, "expected an ISO-8601 time such as 2025-08-13T08:45:06Z or a date "
                    + "such as 2025-08-13 (UTC)");
        }
    }

    private static int wholeNumber(String name, String raw, int min, int max) {
        try {
            int v = Integer.parseInt(raw.strip());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw new BadParameterException(name, "expected a whole number from " + min
                + (max == Integer.MAX_VALUE ? " up" : " to " + max));
    }

    private static String text(MultiMap params, String name) {
        String v = optional(params, name);
        if (v == null || v.isBlank()) {
            return null;
        }
        if (v.length() > MAX_TEXT) {
            throw new BadParameterException(name, "longer than " + MAX_TEXT + " characters");
        }
        if (v.indexOf('\0') >= 0) {
            throw new BadParameterException(name, "contains a NUL character");
        }
        return v.strip();
    }

    private static String optional(MultiMap params, String name) {
        List<String> all = params.getAll(name);
        if (all.size() > 1) {
            throw new BadParameterException(name, "given " + all.size() + " times; give it once");
        }
        return all.isEmpty() ? null : all.get(0);
    }

    private static void checkKnown(MultiMap params, List<String> own) {
        List<String> known = new ArrayList<>(FILTERS);
        known.addAll(own);
        for (String name : params.names()) {
            if (!known.contains(name)) {
                throw new BadParameterException(name, "unknown parameter (known: " + String.join(", ", known) + ")");
            }
        }
    }
}
