package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.vertx.core.Future;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Optional matching of a known-bad parent domain ({@code misp.match_parent_domains}, off by default): the alert
 * names {@code cdn.evil.example}, MISP knows {@code evil.example}. Each domain indicator also asks its parents (down
 * to two labels: {@code example} alone is never asked), through whichever source is configured — feed, mirror or
 * live MISP — and a parent's attributes are handed back to the indicator the alert named. The hit then says
 * {@code parentDomainMatch} and {@code score.drl} lowers and labels it: a sub-domain of a bad domain is a weaker
 * signal (shared hosting, dynamic-DNS zones) than the name itself.
 */
public final class ParentDomains {
    /** A name with more labels gives no more useful parents; bounds the questions one hostile name can cause. */
    static final int MAX_PARENTS = 4;

    private ParentDomains() {
    }

    /** Looks the indicators up, each domain's parents with them. */
    public static Future<LookupResult> lookup(MispSource source, List<Indicator> indicators) {
        Map<Indicator, Indicator> parentOf = new LinkedHashMap<>();
        List<Indicator> asked = new ArrayList<>(indicators);
        Set<String> keys = new HashSet<>();
        indicators.forEach(i -> keys.add(i.key()));
        for (Indicator i : indicators) {
            if (i.type() != IndicatorType.DOMAIN) {
                continue;
            }
            for (String parent : parents(i.value())) {
                Indicator p = new Indicator(IndicatorType.DOMAIN, parent, i.field(), i.rule(), i.ruleId());
                if (keys.add(p.key())) {
                    parentOf.put(p, i);
                    asked.add(p);
                }
            }
        }
        if (parentOf.isEmpty()) {
            return source.lookup(indicators);
        }
        return source.lookup(asked).map(result -> {
            Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
            Map<Indicator, Instant> answeredAt = new LinkedHashMap<>();
            Map<Indicator, String> errors = new LinkedHashMap<>();
            result.matches().forEach((indicator, attributes) -> {
                Indicator own = parentOf.getOrDefault(indicator, indicator);
                matches.computeIfAbsent(own, k -> new ArrayList<>()).addAll(attributes);
            });
            result.answeredAt().forEach((indicator, at) -> answeredAt.putIfAbsent(parentOf.getOrDefault(indicator, indicator), at));
            // a parent that went unchecked is reported once, on the name the alert carried
            result.errors().forEach((indicator, error) -> errors.putIfAbsent(parentOf.getOrDefault(indicator, indicator), error));
            return new LookupResult(matches, errors, answeredAt);
        });
    }

    /** {@code a.b.evil.example} → {@code b.evil.example}, {@code evil.example}. */
    static List<String> parents(String domain) {
        List<String> out = new ArrayList<>();
        int dot = domain.indexOf('.');
        while (dot >= 0 && out.size() < MAX_PARENTS) {
            String parent = domain.substring(dot + 1);
            if (parent.indexOf('.') < 0) {
                break;
            }
            out.add(parent);
            dot = domain.indexOf('.', dot + 1);
        }
        return out;
    }
}
