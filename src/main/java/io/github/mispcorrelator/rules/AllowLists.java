package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.indicator.Indicator;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The allow-lists of a rule set, by name (the file name without {@code .txt}). */
public final class AllowLists {
    public static final AllowLists NONE = new AllowLists(Map.of());

    private final Map<String, AllowList> lists;

    AllowLists(Map<String, AllowList> lists) {
        this.lists = Map.copyOf(lists);
    }

    /** The name of the first list (alphabetically) holding the indicator, if any. */
    public Optional<String> find(Indicator indicator) {
        return new TreeMap<>(lists).values().stream()
                .filter(l -> l.contains(indicator.type(), indicator.value()))
                .map(AllowList::name)
                .findFirst();
    }

    /** Whether any list holds the indicator (the observation index keeps none of those). */
    public boolean containsAny(Indicator indicator) {
        for (AllowList l : lists.values()) {
            if (l.contains(indicator.type(), indicator.value())) {
                return true;
            }
        }
        return false;
    }

    public boolean contains(String list, Indicator indicator) {
        AllowList l = lists.get(list);
        return l != null && l.contains(indicator.type(), indicator.value());
    }

    public Map<String, Integer> sizes() {
        Map<String, Integer> out = new TreeMap<>();
        lists.forEach((k, v) -> out.put(k, v.size()));
        return out;
    }

    public List<String> names() {
        return List.copyOf(new TreeMap<>(lists).keySet());
    }
}
