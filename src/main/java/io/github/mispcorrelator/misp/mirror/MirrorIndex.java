package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.CidrBlocks;
import io.github.mispcorrelator.misp.MispAttribute;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.misp.Warninglists;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * What a mirror holds of one MISP instance and the index lookups read, compact: per attribute its uuid, a
 * fingerprint and the digest of its key in primitive arrays ({@link HeldAttributes}, about 40 bytes), and an index of
 * 8 bytes per key ({@link DigestIndex}); the attribute's details are read from the mirror's table in PostgreSQL on a
 * hit only, and checked against the indicator there (a digest is never trusted alone). The index is built off the
 * event loop and published atomically: lookups read whichever view is current and never wait for a pull. A pull, or
 * a follower's catch-up, that changed a little indexes only its changes (a small second index that wins over the
 * big one by slot); the big one is rebuilt by full pulls, or when the changes pile up.
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
     * own, which replaces their old versions (the same slots, marked in {@code replaced}) in {@code base}.
     */
    record View(DigestIndex base, DigestIndex delta, BitSet replaced, int attributes) {
        /** The uuids of the attributes each indicator may match (to be read and checked), in memory, at once. */
        Map<Indicator, Set<String>> candidates(List<Indicator> indicators) {
            Map<Indicator, Set<String>> out = new LinkedHashMap<>();
            for (Indicator i : indicators) {
                Set<String> uuids = new LinkedHashSet<>(2);
                IntConsumer fromBase = s -> {
                    if (!replaced.get(s)) {
                        uuids.add(base.uuid(s));
                    }
                };
                base.slots(i.key(), fromBase);
                if (i.type() == IndicatorType.IP) {
                    base.blocksContaining(i.value(), fromBase);
                }
                if (delta != null) {
                    IntConsumer fromDelta = s -> uuids.add(delta.uuid(s));
                    delta.slots(i.key(), fromDelta);
                    if (i.type() == IndicatorType.IP) {
                        delta.blocksContaining(i.value(), fromDelta);
                    }
                }
                if (!uuids.isEmpty()) {
                    out.put(i, uuids);
                }
            }
            return out;
        }
    }

    private final String name;
    /** What lookups read; null until a complete copy is held. */
    private final AtomicReference<View> view = new AtomicReference<>();
    /** Every attribute held. */
    private HeldAttributes held = new HeldAttributes();
    /** Slots new, changed or removed since the base index was built. */
    private final BitSet changed = new BitSet();
    /** Whether held holds changes no published view shows yet (e.g. a pull that failed half-way applied some). */
    private boolean unpublished;
    /** Whether what is held was replaced wholesale since the base was built: only a rebuilt base may show it. */
    private boolean baseStale;
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

    /**
     * {@code indicators}' attributes as read for their {@code candidates}: only those whose stored value matches the
     * indicator (a digest collision, or an attribute changed since the view was built, is no hit), with the lookup
     * filters and warning lists applied.
     */
    static Map<Indicator, List<MispAttribute>> answer(Map<Indicator, Set<String>> candidates,
                                                      Map<String, MispAttribute> read, MispSettings misp,
                                                      Warninglists warninglists, Instant now) {
        Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
        for (Map.Entry<Indicator, Set<String>> e : candidates.entrySet()) {
            Indicator i = e.getKey();
            List<MispAttribute> attributes = new ArrayList<>(e.getValue().size());
            for (String uuid : e.getValue()) {
                MispAttribute a = read.get(uuid);
                if (a != null && matches(i, a)) {
                    attributes.add(a);
                }
            }
            if (attributes.isEmpty()) {
                continue;
            }
            List<MispAttribute> kept = misp.filter().apply(i.type(), attributes, now);
            if (misp.enforceWarninglist()) {
                kept = warninglists.drop(kept);
            }
            if (!kept.isEmpty()) {
                matches.put(i, kept);
            }
        }
        return matches;
    }

    /** Whether {@code a}'s value matches {@code i}: through an exact key, or as a CIDR block holding the address. */
    static boolean matches(Indicator i, MispAttribute a) {
        if (AttributeMatcher.keys(a).contains(i.key())) {
            return true;
        }
        if (i.type() != IndicatorType.IP) {
            return false;
        }
        Optional<CidrBlocks.Block> block = AttributeMatcher.cidr(a);
        if (block.isEmpty()) {
            return false;
        }
        CidrBlocks<Boolean> one = new CidrBlocks<>();
        one.add(block.get(), Boolean.TRUE);
        return !one.containing(i.value()).isEmpty();
    }

    // ---- held attributes (mirror worker) --------------------------------------------------------------------------

    boolean holds(String uuid) {
        return held.holds(uuid);
    }

    /** Whether {@code a} is held as it is (a pull need not store it again). */
    boolean unchanged(MispAttribute a) {
        return held.unchanged(a);
    }

    List<String> uuids() {
        return held.uuids();
    }

    int size() {
        return held.size();
    }

    /** Takes in attributes new or changed (stored, or read from the store). */
    void put(Collection<MispAttribute> attributes) {
        for (MispAttribute a : attributes) {
            if (a.uuid().isEmpty()) {
                continue;
            }
            changed.set(held.put(a));
            unpublished = true;
        }
    }

    /** Drops attributes that are no longer stored. */
    void remove(Collection<String> uuids) {
        for (String uuid : uuids) {
            int slot = held.remove(uuid);
            if (slot >= 0) {
                changed.set(slot);
                unpublished = true;
            }
        }
    }

    /** Forgets everything held (the stored copy was dropped); lookups keep the published view until the next one. */
    void clear() {
        // new arrays: the published index still reads the old ones
        held = new HeldAttributes();
        changed.clear();
        unpublished = true;
        // the published base still holds what was dropped, and no delta says so
        baseStale = true;
    }

    /** Replaces everything held by {@code all} (a follower's reload). */
    void replace(Collection<MispAttribute> all) {
        replace(new HeldAttributes(), all);
    }

    /** Replaces everything held by {@code read} (a reload's rows read by digests) and {@code rest} (read whole). */
    void replace(HeldAttributes read, Collection<MispAttribute> rest) {
        clear();
        held = read;
        put(rest);
    }

    /**
     * The view to publish after a load, pull or catch-up, or null when lookups see everything held already. The
     * base index is rebuilt on {@code rebuild} (full pulls, reloads), when there is none yet, and when the changes
     * since its build outgrow {@link #DELTA_LIMIT} or a twentieth of the attributes; otherwise only the changes are
     * indexed.
     */
    View next(boolean rebuild) {
        View current = view.get();
        if (current != null && !unpublished && (!rebuild || changed.isEmpty())) {
            return null;
        }
        int changes = changed.cardinality();
        if (rebuild || baseStale || current == null || changes > Math.max(DELTA_LIMIT, held.size() / 20)) {
            return new View(DigestIndex.all(held), null, new BitSet(), held.size());
        }
        int[] slots = new int[changes];
        int n = 0;
        for (int s = changed.nextSetBit(0); s >= 0; s = changed.nextSetBit(s + 1)) {
            if (held.live(s)) {
                slots[n++] = s;
            }
        }
        return new View(current.base(), DigestIndex.of(held, slots, n), (BitSet) changed.clone(), held.size());
    }

    /** Makes lookups read {@code built}, which came {@code from} PostgreSQL or MISP. */
    void publish(View built, String from) {
        if (built.delta() == null) {
            // the base now holds every change
            changed.clear();
            baseStale = false;
        }
        unpublished = false;
        this.from = from;
        if (view.getAndSet(built) == null) {
            LOG.info("MISP mirror {}: lookups are answered locally ({} attributes, from {})", name, built.attributes(), from);
            onLoaded.run();
        }
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
