package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.Normaliser;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Splits MISP's answer back onto the indicators that were asked about. A composite attribute
 * ({@code ip-dst|port}, {@code domain|ip}, {@code filename|sha256}) matches an indicator only through the half whose
 * type is the indicator's type — a port or a file name that happens to equal a value is no match.
 */
public final class AttributeMatcher {
    private AttributeMatcher() {
    }

    /** The keys ({@code type:value}) this attribute can match, one per half that holds an indicator type. */
    public static List<String> keys(MispAttribute attribute) {
        String type = attribute.type();
        String value = attribute.value();
        List<String> keys = new ArrayList<>(2);
        if (type.equals("malware-sample")) {
            // value is "filename|md5"
            int bar = value.lastIndexOf('|');
            add(keys, IndicatorType.MD5, bar >= 0 ? value.substring(bar + 1) : "");
            return keys;
        }
        String[] typeParts = type.split("\\|");
        if (typeParts.length == 1) {
            IndicatorType.ofMispPart(type).ifPresent(t -> add(keys, t, value));
            return keys;
        }
        String[] valueParts = value.split("\\|", typeParts.length);
        if (valueParts.length != typeParts.length) {
            return keys;
        }
        for (int i = 0; i < typeParts.length; i++) {
            String part = valueParts[i];
            IndicatorType.ofMispPart(typeParts[i]).ifPresent(t -> add(keys, t, part));
        }
        return keys;
    }

    /**
     * The block an {@code ip-src} / {@code ip-dst} attribute holds when its value is CIDR ({@code 91.92.240.0/24}):
     * it matches every address inside (see {@link CidrBlocks}), never through an exact key.
     */
    public static Optional<CidrBlocks.Block> cidr(MispAttribute attribute) {
        String type = attribute.type();
        if (!type.equals("ip-dst") && !type.equals("ip-src")) {
            return Optional.empty();
        }
        return CidrBlocks.parse(attribute.value());
    }

    /** Whether any indicator can match the attribute: through an exact key or as a CIDR block. */
    public static boolean matchable(MispAttribute attribute) {
        return !keys(attribute).isEmpty() || cidr(attribute).isPresent();
    }

    private static void add(List<String> keys, IndicatorType type, String raw) {
        Optional<String> v = Normaliser.normaliseMispValue(type, raw);
        v.ifPresent(s -> keys.add(type.id() + ":" + s));
    }

    /** Every attribute that matches each indicator, in MISP's order, attributes repeated by MISP counted once. */
    public static Map<Indicator, List<MispAttribute>> match(List<Indicator> indicators, List<MispAttribute> attributes) {
        Map<String, Indicator> byKey = new LinkedHashMap<>();
        indicators.forEach(i -> byKey.putIfAbsent(i.key(), i));
        Map<Indicator, List<MispAttribute>> out = new LinkedHashMap<>();
        for (MispAttribute a : attributes) {
            for (String key : keys(a)) {
                Indicator i = byKey.get(key);
                if (i != null) {
                    List<MispAttribute> list = out.computeIfAbsent(i, k -> new ArrayList<>());
                    if (list.stream().noneMatch(x -> x.uuid().equals(a.uuid()) && !a.uuid().isEmpty())) {
                        list.add(a);
                    }
                }
            }
        }
        return out;
    }
}
