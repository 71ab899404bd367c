package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.Warninglists;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a mirror holds of one MISP instance and the index lookups read. The index is the one {@link FeedSource} keeps
 * for MISP feed directories (exact keys, CIDR blocks, parent domains), built off the event loop and published
 * atomically: lookups read whichever view is current and never wait for a pull. A pull, or a follower's catch-up,
 * that changed a little indexes only its changes (a small second index that wins over the big one by uuid); the big
 * one is rebuilt by full pulls, or when the changes pile up. Attributes are compacted: the strings an event shares
 * with its other attributes are held once.
 * <p>
 * The held attributes are touched by one step at a time (a pull or a catch-up, each running on the mirror's one
 * worker thread, each step starting when the previous one's future completed); only {@link #view()} is read by
 * lookups.
 */
final class MirrorIndex {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorIndex.class);
    /** Changes indexed apart from the base index, at least; beyond, the base is rebuilt. */
    static final int DELTA_LIMIT = 10_000;

    /**
     * What lookups read: the index of the last rebuild, and the attributes changed since in a small index of their
     * own, which replaces their old versions (same uuid) in {@code base}.
     */
    record View(FeedSource base, FeedSource delta, Set<String> replaced, int attributes) {
        Map<Indicator, List<MispAttribute>> matches(List<Indicator> indicators) {
            // a FeedSource answers at once, from memory
            Map<Indicator, List<MispAttribute>> found = base.lookup(indicators).result().matches();
            if (delta == null) {
                return found;
            }
            Map<Indicator, List<MispAttribute>> changed = delta.lookup(indicators).result().matches();
            Map<Indicator, List<MispAttribute>> out = new LinkedHashMap<>();
            for (Indicator i : indicators) {
                List<MispAttribute> merged = new ArrayList<>();
                for (MispAttribute a : found.getOrDefault(i, List.of())) {
                    if (!replaced.contains(a.uuid())) {
                        merged.add(a);
                    }
                }
                merged.addAll(changed.getOrDefault(i, List.of()));
                if (!merged.isEmpty()) {
                    out.put(i, merged);
                }
            }
            return out;
        }
    }

    private final String name;
    /** What lookups read; null until a complete copy is held. */
    private final AtomicReference<View> view = new AtomicReference<>();
    /** Every attribute held, by uuid. */
    private final Map<String, MispAttribute> byUuid = new HashMap<>();
    /** Attributes new or changed since the base index was built. */
    private final Map<String, MispAttribute> delta = new HashMap<>();
    /** Attributes removed since the base index was built (the base still holds them). */
    private final Set<String> deltaRemoved = new HashSet<>();
    /** Whether byUuid holds changes no published view shows yet (e.g. a pull that failed half-way applied some). */
    private boolean unpublished;
    /** Whether what is held was replaced wholesale since the base was built: only a rebuilt base may show it. */
    private boolean baseStale;
    private final Map<Object, Object> pool = new HashMap<>();
    private final Runnable onLoaded;
    /** Where the published view came from: {@code postgresql} (the shared tables) or {@code misp} (a pull). */
    private volatile String from;

    /** @param onLoaded called when the first view is published (lookups are answered locally from then on) */
    MirrorIndex(String name, Runnable onLoaded) {
        this.name = name;
        this.onLoaded = onLoaded;
    }

    String from() {
        return from;
    }

    /** The view lookups read, or null until a complete copy is held. */
    View view() {
        return view.get();
    }

    boolean loaded() {
        return view.get() != null;
    }

    int attributeCount() {
        View current = view.get();
        return current == null ? 0 : current.attributes();
    }

    /** {@code indicators}' attributes in the current view, with the lookup filters and warning lists applied. */
    static Map<Indicator, List<MispAttribute>> answer(View current, List<Indicator> indicators, MispSettings misp,
                                                      Warninglists warninglists, Instant now) {
        Map<Indicator, List<MispAttribute>> found = current.matches(indicators);
        Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
        for (Indicator i : indicators) {
            List<MispAttribute> attributes = found.get(i);
            if (attributes != null) {
                List<MispAttribute> kept = misp.filter().apply(i.type(), attributes, now);
                if (misp.enforceWarninglist()) {
                    kept = warninglists.drop(kept);
                }
                if (!kept.isEmpty()) {
                    matches.put(i, kept);
                }
            }
        }
        return matches;
    }

    // ---- held attributes (mirror worker) --------------------------------------------------------------------------

    boolean holds(String uuid) {
        return byUuid.containsKey(uuid);
    }

    MispAttribute held(String uuid) {
        return byUuid.get(uuid);
    }

    Set<String> uuids() {
        return byUuid.keySet();
    }

    int size() {
        return byUuid.size();
    }

    /** Takes in attributes new or changed (stored, or read from the store). */
    void put(Collection<MispAttribute> changed) {
        for (MispAttribute raw : changed) {
            if (raw.uuid().isEmpty()) {
                continue;
            }
            MispAttribute a = compact(raw, pool);
            byUuid.put(a.uuid(), a);
            delta.put(a.uuid(), a);
            deltaRemoved.remove(a.uuid());
            unpublished = true;
        }
    }

    /** Drops attributes that are no longer stored. */
    void remove(Collection<String> uuids) {
        for (String uuid : uuids) {
            if (byUuid.remove(uuid) != null) {
                delta.remove(uuid);
                deltaRemoved.add(uuid);
                unpublished = true;
            }
        }
    }

    /** Forgets everything held (the stored copy was dropped); lookups keep the published view until the next one. */
    void clear() {
        byUuid.clear();
        delta.clear();
        deltaRemoved.clear();
        pool.clear();
        unpublished = true;
        // the published base still holds what was dropped, and no delta says so
        baseStale = true;
    }

    /** Replaces everything held by {@code all} (a follower's reload). */
    void replace(Collection<MispAttribute> all) {
        clear();
        for (MispAttribute raw : all) {
            if (!raw.uuid().isEmpty()) {
                MispAttribute a = compact(raw, pool);
                byUuid.put(a.uuid(), a);
            }
        }
    }

    /**
     * The view to publish after a load, pull or catch-up, or null when lookups see everything held already. The
     * base index is rebuilt on {@code rebuild} (full pulls, reloads), when there is none yet, and when the changes
     * since its build outgrow {@link #DELTA_LIMIT} or a twentieth of the attributes; otherwise only the changes are
     * indexed.
     */
    View next(boolean rebuild) {
        View current = view.get();
        if (current != null && !unpublished && (!rebuild || (delta.isEmpty() && deltaRemoved.isEmpty()))) {
            return null;
        }
        if (rebuild || baseStale || current == null
                || delta.size() + deltaRemoved.size() > Math.max(DELTA_LIMIT, byUuid.size() / 20)) {
            return new View(index(name, byUuid), null, Set.of(), byUuid.size());
        }
        Map<Object, Object> shared = new HashMap<>();
        List<MispAttribute> changed = new ArrayList<>(delta.size());
        delta.values().forEach(a -> changed.add(compact(a, shared)));
        Set<String> replaced = new HashSet<>(delta.keySet());
        replaced.addAll(deltaRemoved);
        return new View(current.base(), FeedSource.of(name, changed), Set.copyOf(replaced), byUuid.size());
    }

    /** Makes lookups read {@code built}, which came {@code from} PostgreSQL or MISP. */
    void publish(View built, String from) {
        if (built.delta() == null) {
            // the base now holds every change
            delta.clear();
            deltaRemoved.clear();
            // the pool's strings now live in the index; a fresh pool keeps strings of removed events from piling up
            pool.clear();
            baseStale = false;
        }
        unpublished = false;
        this.from = from;
        if (view.getAndSet(built) == null) {
            LOG.info("MISP mirror {}: lookups are answered locally ({} attributes, from {})", name, built.attributes(), from);
            onLoaded.run();
        }
    }

    /** The index over {@code byUuid}, whose attributes are compacted in place first. */
    static FeedSource index(String name, Map<String, MispAttribute> byUuid) {
        Map<Object, Object> pool = new HashMap<>();
        byUuid.replaceAll((uuid, a) -> compact(a, pool));
        return FeedSource.of(name, new ArrayList<>(byUuid.values()));
    }

    /**
     * The same attribute with the strings its event shares with its other attributes (event uuid, info, tags…)
     * taken from {@code pool}: a million attributes hold each event's strings once. Unchanged when already shared.
     */
    static MispAttribute compact(MispAttribute a, Map<Object, Object> pool) {
        String eventId = shared(pool, a.eventId());
        String eventUuid = shared(pool, a.eventUuid());
        String eventInfo = shared(pool, a.eventInfo());
        String type = shared(pool, a.type());
        String category = shared(pool, a.category());
        String instance = shared(pool, a.instance());
        List<String> tags = a.tags().isEmpty() ? List.of() : shared(pool, a.tags());
        if (eventId == a.eventId() && eventUuid == a.eventUuid() && eventInfo == a.eventInfo() && type == a.type()
                && category == a.category() && instance == a.instance() && tags == a.tags()) {
            return a;
        }
        return new MispAttribute(a.id(), a.uuid(), eventId, eventUuid, eventInfo, type, category, a.value(), a.toIds(),
                a.threatLevel(), tags, a.timestamp(), instance);
    }

    @SuppressWarnings("unchecked")
    private static <T> T shared(Map<Object, Object> pool, T value) {
        if (value == null) {
            return null;
        }
        return (T) pool.computeIfAbsent(value, v -> v);
    }
}
