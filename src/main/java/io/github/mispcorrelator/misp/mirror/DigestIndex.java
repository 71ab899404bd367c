package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.CidrBlocks;

import java.util.Arrays;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The index lookups read, 8 bytes per key: one sorted {@code long[]} whose entries are the high bits of a key's
 * 64-bit digest ({@code type:value}, normalised as indicators are) with the slot of the attribute in the low bits,
 * found by binary search; CIDR blocks by prefix length ({@link CidrBlocks}, a hash lookup per prefix length held).
 * Slots point into {@link HeldAttributes}' arrays, captured at build time, for the uuid to read from PostgreSQL.
 * A digest shared by two keys only gives a candidate more: every hit is checked against the stored value.
 * <p>
 * Immutable once built; built by the mirror's worker, read by any thread once published.
 */
final class DigestIndex {
    private final long[] entries;
    private final int slotBits;
    private final long[][] hi;
    private final long[][] lo;
    private final Map<Integer, String> oddUuids;
    private final CidrBlocks<Integer> blocks;
    private final int attributes;

    private DigestIndex(long[] entries, int slotBits, long[][] hi, long[][] lo, Map<Integer, String> oddUuids,
                        CidrBlocks<Integer> blocks, int attributes) {
        this.entries = entries;
        this.slotBits = slotBits;
        this.hi = hi;
        this.lo = lo;
        this.oddUuids = oddUuids;
        this.blocks = blocks;
        this.attributes = attributes;
    }

    /** The index of every live slot of {@code held}. */
    static DigestIndex all(HeldAttributes held) {
        int[] slots = new int[held.size()];
        int[] n = {0};
        held.forEachLive(s -> slots[n[0]++] = s);
        return of(held, slots, n[0]);
    }

    /** The index of {@code count} slots of {@code held} (live ones). */
    static DigestIndex of(HeldAttributes held, int[] slots, int count) {
        int slotBits = Math.max(1, 32 - Integer.numberOfLeadingZeros(Math.max(1, held.highWater())));
        long slotMask = (1L << slotBits) - 1;
        int keys = 0;
        for (int i = 0; i < count; i++) {
            long k = held.key(slots[i]);
            if (k != HeldAttributes.NO_KEY) {
                keys++;
            } else {
                HeldAttributes.Extra e = held.extra(slots[i]);
                keys += e == null || e.keys() == null ? 0 : e.keys().length;
            }
        }
        long[] entries = new long[keys];
        CidrBlocks<Integer> blocks = new CidrBlocks<>();
        int n = 0;
        for (int i = 0; i < count; i++) {
            int s = slots[i];
            long k = held.key(s);
            if (k != HeldAttributes.NO_KEY) {
                entries[n++] = (k & ~slotMask) | s;
            } else {
                HeldAttributes.Extra e = held.extra(s);
                if (e != null && e.keys() != null) {
                    for (long d : e.keys()) {
                        entries[n++] = (d & ~slotMask) | s;
                    }
                }
                if (e != null && e.block() != null) {
                    blocks.add(e.block(), s);
                }
            }
        }
        Arrays.sort(entries);
        return new DigestIndex(entries, slotBits, held.hi, held.lo, held.oddUuids(), blocks, count);
    }

    /** Calls {@code slot} with each slot whose key has the digest of {@code key}. */
    void slots(String key, IntConsumer slot) {
        long mask = (1L << slotBits) - 1;
        long target = Digests.of(key) & ~mask;
        int i = Arrays.binarySearch(entries, target);
        if (i < 0) {
            i = -i - 1;
        }
        for (; i < entries.length && (entries[i] & ~mask) == target; i++) {
            slot.accept((int) (entries[i] & mask));
        }
    }

    /** Calls {@code slot} with each slot holding a block that contains {@code address}. */
    void blocksContaining(String address, IntConsumer slot) {
        if (blocks.size() > 0) {
            blocks.containing(address).forEach(slot::accept);
        }
    }

    String uuid(int slot) {
        return HeldAttributes.uuid(hi, lo, oddUuids, slot);
    }

    int attributes() {
        return attributes;
    }

    /** Index entries (keys), for the memory figures. */
    int entries() {
        return entries.length;
    }
}
