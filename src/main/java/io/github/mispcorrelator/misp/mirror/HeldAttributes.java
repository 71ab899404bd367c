package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.CidrBlocks;
import io.github.mispcorrelator.misp.MispAttribute;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntConsumer;

/**
 * What a mirror holds of each attribute, in about 40 bytes: its uuid as two longs, a 64-bit fingerprint of every
 * field (a pull compares with it to tell what changed) and the 64-bit digest of the key it matches through, in
 * slot-numbered arrays; a uuid → slot table by open addressing. The details (value, event, tags…) are in PostgreSQL,
 * read on a hit. The unusual rest — a uuid not in canonical form, a composite value matching through two keys, a
 * CIDR block — is kept beside, per slot.
 * <p>
 * Written by the mirror's one worker thread. The indexes lookups read ({@link DigestIndex}) point at slots and read
 * their uuid from these arrays, which are never reallocated: they grow by chunks. A slot freed by a removal is used
 * again: an index built before may then read another uuid there — harmless, since every hit is checked against the
 * stored value (and its slot is marked replaced from the next published view on).
 * <p>
 * Hand-written rather than a primitive-collections library: a 128-bit key with three parallel values per slot and
 * chunks that never move (so that readers need no lock) is not what those maps offer.
 */
final class HeldAttributes {
    static final int CHUNK_BITS = 14;
    static final int CHUNK = 1 << CHUNK_BITS;
    static final int MASK = CHUNK - 1;
    /** {@link #key} of a slot that matches through no single key (none, two or more, or a CIDR block): see extra. */
    static final long NO_KEY = 0;

    /** What few slots need beyond the arrays. */
    record Extra(String oddUuid, long[] keys, CidrBlocks.Block block) {
    }

    /** Slot arrays, by chunk; the outer arrays are replaced (copied) when they grow, the chunks never. */
    volatile long[][] hi = new long[0][];
    volatile long[][] lo = new long[0][];
    private long[][] fingerprint = new long[0][];
    private long[][] key = new long[0][];
    private final BitSet live = new BitSet();
    private final Map<Integer, Extra> extra = new HashMap<>();
    private int[] free = new int[16];
    private int freeCount;
    /** Slots ever used: the live ones are below. */
    private int highWater;
    private int size;
    /** uuid → slot + 1 (0: empty), linear probing. */
    private int[] table = new int[16];

    int size() {
        return size;
    }

    int highWater() {
        return highWater;
    }

    boolean live(int slot) {
        return live.get(slot);
    }

    /** The slot holding {@code uuid}, or -1. */
    int slot(String uuid) {
        long[] u = uuidBits(uuid);
        boolean odd = u == null;
        long h = odd ? Digests.of(uuid) : u[0];
        long l = odd ? Digests.of(uuid, 0x9e3779b97f4a7c15L) : u[1];
        int mask = table.length - 1;
        for (int i = spread(h, l) & mask; ; i = (i + 1) & mask) {
            int s = table[i] - 1;
            if (s < 0) {
                return -1;
            }
            if (hi(s) == h && lo(s) == l && sameOddness(s, odd ? uuid : null)) {
                return s;
            }
        }
    }

    boolean holds(String uuid) {
        return slot(uuid) >= 0;
    }

    /** Whether {@code a} is held exactly as it is (by the fingerprint of its fields). */
    boolean unchanged(MispAttribute a) {
        int s = slot(a.uuid());
        return s >= 0 && get(fingerprint, s) == Digests.fingerprint(a);
    }

    /** Holds {@code a} (replacing what its uuid held); answers its slot. */
    int put(MispAttribute a) {
        int s = slot(a.uuid());
        if (s < 0) {
            s = newSlot(a.uuid());
        }
        set(fingerprint, s, Digests.fingerprint(a));
        List<String> keys = AttributeMatcher.keys(a);
        Optional<CidrBlocks.Block> block = AttributeMatcher.cidr(a);
        Extra old = extra.get(s);
        String oddUuid = old == null ? null : old.oddUuid();
        if (keys.size() == 1 && block.isEmpty()) {
            set(key, s, nonZero(Digests.of(keys.get(0))));
            if (oddUuid == null) {
                extra.remove(s);
            } else {
                extra.put(s, new Extra(oddUuid, null, null));
            }
        } else {
            set(key, s, NO_KEY);
            long[] digests = keys.stream().mapToLong(k -> nonZero(Digests.of(k))).toArray();
            extra.put(s, new Extra(oddUuid, digests, block.orElse(null)));
        }
        return s;
    }

    /**
     * Holds an attribute as stored with its digests ({@link MirrorKeys}): a restart reads these and no value. Its
     * uuid must not be held already (a reload fills a fresh table).
     */
    void putStored(String uuid, long fingerprint, long key1, long key2) {
        int s = newSlot(uuid);
        set(this.fingerprint, s, fingerprint);
        if (key2 == NO_KEY && key1 != NO_KEY) {
            set(key, s, key1);
            return;
        }
        set(key, s, NO_KEY);
        Extra old = extra.get(s);
        long[] keys = key1 == NO_KEY ? new long[0] : new long[] {key1, key2};
        extra.put(s, new Extra(old == null ? null : old.oddUuid(), keys, null));
    }

    /** Drops {@code uuid}; answers the slot it had, or -1. */
    int remove(String uuid) {
        int s = slot(uuid);
        if (s < 0) {
            return -1;
        }
        int mask = table.length - 1;
        int i = spread(hi(s), lo(s)) & mask;
        while (table[i] - 1 != s) {
            i = (i + 1) & mask;
        }
        // backward-shift deletion: the entries after it move up so that probing needs no tombstones
        int hole = i;
        for (int j = (hole + 1) & mask; table[j] != 0; j = (j + 1) & mask) {
            int t = table[j] - 1;
            int home = spread(hi(t), lo(t)) & mask;
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                table[hole] = table[j];
                hole = j;
            }
        }
        table[hole] = 0;
        live.clear(s);
        extra.remove(s);
        set(key, s, NO_KEY);
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = s;
        size--;
        return s;
    }

    /** The uuid a slot holds (as the index reads it: from the arrays, or {@code odd} for a non-canonical one). */
    static String uuid(long[][] hi, long[][] lo, Map<Integer, String> odd, int slot) {
        String o = odd.get(slot);
        return o != null ? o : new UUID(hi[slot >>> CHUNK_BITS][slot & MASK], lo[slot >>> CHUNK_BITS][slot & MASK]).toString();
    }

    String uuid(int slot) {
        Extra e = extra.get(slot);
        return e != null && e.oddUuid() != null ? e.oddUuid() : new UUID(hi(slot), lo(slot)).toString();
    }

    /** Every uuid held. */
    List<String> uuids() {
        List<String> out = new ArrayList<>(size);
        forEachLive(s -> out.add(uuid(s)));
        return out;
    }

    void forEachLive(IntConsumer action) {
        for (int s = live.nextSetBit(0); s >= 0; s = live.nextSetBit(s + 1)) {
            action.accept(s);
        }
    }

    long key(int slot) {
        return get(key, slot);
    }

    Extra extra(int slot) {
        return extra.get(slot);
    }

    /** The non-canonical uuids by slot (a copy, for an index to read). */
    Map<Integer, String> oddUuids() {
        Map<Integer, String> out = new HashMap<>();
        extra.forEach((s, e) -> {
            if (e.oddUuid() != null) {
                out.put(s, e.oddUuid());
            }
        });
        return Map.copyOf(out);
    }

    /** Slots with a composite value or a CIDR block (a copy). */
    Map<Integer, Extra> extras() {
        return extra;
    }

    private int newSlot(String uuid) {
        int s;
        if (freeCount > 0) {
            s = free[--freeCount];
        } else {
            s = highWater++;
            if ((s >>> CHUNK_BITS) >= hi.length) {
                grow();
            }
        }
        long[] u = uuidBits(uuid);
        if (u == null) {
            set(hi, s, Digests.of(uuid));
            set(lo, s, Digests.of(uuid, 0x9e3779b97f4a7c15L));
            extra.put(s, new Extra(uuid, null, null));
        } else {
            set(hi, s, u[0]);
            set(lo, s, u[1]);
        }
        live.set(s);
        size++;
        if (size * 4L > table.length * 3L) {
            rehash(table.length * 2);
        }
        int mask = table.length - 1;
        int i = spread(hi(s), lo(s)) & mask;
        while (table[i] != 0) {
            i = (i + 1) & mask;
        }
        table[i] = s + 1;
        return s;
    }

    private void grow() {
        int chunks = hi.length + 1;
        long[][] h = Arrays.copyOf(hi, chunks);
        long[][] l = Arrays.copyOf(lo, chunks);
        fingerprint = Arrays.copyOf(fingerprint, chunks);
        key = Arrays.copyOf(key, chunks);
        h[chunks - 1] = new long[CHUNK];
        l[chunks - 1] = new long[CHUNK];
        fingerprint[chunks - 1] = new long[CHUNK];
        key[chunks - 1] = new long[CHUNK];
        // the chunks are filled before an index reading them is published (a volatile write, then the view's)
        hi = h;
        lo = l;
    }

    private void rehash(int capacity) {
        int[] next = new int[capacity];
        int mask = capacity - 1;
        for (int e : table) {
            if (e != 0) {
                int s = e - 1;
                int i = spread(hi(s), lo(s)) & mask;
                while (next[i] != 0) {
                    i = (i + 1) & mask;
                }
                next[i] = e;
            }
        }
        table = next;
    }

    private boolean sameOddness(int slot, String oddUuid) {
        Extra e = extra.isEmpty() ? null : extra.get(slot);
        String held = e == null ? null : e.oddUuid();
        return oddUuid == null ? held == null : oddUuid.equals(held);
    }

    private long hi(int s) {
        return hi[s >>> CHUNK_BITS][s & MASK];
    }

    private long lo(int s) {
        return lo[s >>> CHUNK_BITS][s & MASK];
    }

    private static long get(long[][] chunks, int s) {
        return chunks[s >>> CHUNK_BITS][s & MASK];
    }

    private static void set(long[][] chunks, int s, long v) {
        chunks[s >>> CHUNK_BITS][s & MASK] = v;
    }

    private static int spread(long h, long l) {
        return (int) Digests.mix(h ^ Long.rotateLeft(l, 29));
    }

    static long nonZero(long digest) {
        return digest == NO_KEY ? 1 : digest;
    }

    /** A canonical (lower-case, dashed) uuid as two longs, or null for any other string. */
    static long[] uuidBits(String uuid) {
        if (uuid.length() != 36 || uuid.charAt(8) != '-' || uuid.charAt(13) != '-' || uuid.charAt(18) != '-'
                || uuid.charAt(23) != '-') {
            return null;
        }
        long h = 0;
        long l = 0;
        int n = 0;
        for (int i = 0; i < 36; i++) {
            char c = uuid.charAt(i);
            if (c == '-') {
                continue;
            }
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) {
                return null;
            }
            if (n < 16) {
                h = (h << 4) | d;
            } else {
                l = (l << 4) | d;
            }
            n++;
        }
        return new long[] {h, l};
    }
}
