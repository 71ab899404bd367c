package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.IndicatorType;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Filters that cut false positives, applied to every answer (MISP's and a feed's alike): tags to require (any one
 * of) and to refuse (e.g. {@code tlp:red}), and a maximum attribute age per indicator type. {@code to_ids},
 * {@code published} and warning lists are asked of MISP in the request itself.
 */
public record AttributeFilter(Set<String> tagsInclude, Set<String> tagsExclude, Duration maxAge,
                              Map<IndicatorType, Duration> maxAgeByType) {

    public static final AttributeFilter NONE = new AttributeFilter(Set.of(), Set.of(), null, Map.of());

    public AttributeFilter {
        tagsInclude = lower(tagsInclude);
        tagsExclude = lower(tagsExclude);
        maxAgeByType = Map.copyOf(maxAgeByType);
    }

    private static Set<String> lower(Set<String> tags) {
        return tags.stream().map(t -> t.strip().toLowerCase(Locale.ROOT)).filter(t -> !t.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    /** Whether an attribute that matched an indicator of this type passes. */
    public boolean accepts(IndicatorType type, MispAttribute a, Instant now) {
        if (!tagsExclude.isEmpty() || !tagsInclude.isEmpty()) {
            Set<String> tags = a.tags().stream().map(t -> t.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
            if (tags.stream().anyMatch(tagsExclude::contains)) {
                return false;
            }
            if (!tagsInclude.isEmpty() && tags.stream().noneMatch(tagsInclude::contains)) {
                return false;
            }
        }
        Duration limit = maxAgeByType.getOrDefault(type, maxAge);
        if (limit != null && a.timestamp() > 0) {
            return now.getEpochSecond() - a.timestamp() <= limit.toSeconds();
        }
        return true;
    }

    public List<MispAttribute> apply(IndicatorType type, List<MispAttribute> attributes, Instant now) {
        if (this.equals(NONE)) {
            return attributes;
        }
        return attributes.stream().filter(a -> accepts(type, a, now)).toList();
    }
}
