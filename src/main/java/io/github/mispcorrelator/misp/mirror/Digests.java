package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.MispAttribute;

/**
 * 64-bit digests of the mirror's strings: FNV-1a over the UTF-16 chars, finished by MurmurHash3's mixer so that every
 * bit depends on every char. Not cryptographic and never trusted alone: an index hit through a digest is checked
 * against the stored value; a fingerprint only decides whether a pulled attribute is stored again.
 */
final class Digests {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Digests() {
    }

    static long of(String s) {
        return of(s, 0);
    }

    static long of(String s, long seed) {
        return mix(fnv(FNV_OFFSET ^ seed, s));
    }

    /** Every field of the attribute (the instance aside: a mirror holds one). */
    static long fingerprint(MispAttribute a) {
        long h = FNV_OFFSET;
        h = fnv(h, a.id());
        h = fnv(h, a.uuid());
        h = fnv(h, a.eventId());
        h = fnv(h, a.eventUuid());
        h = fnv(h, a.eventInfo());
        h = fnv(h, a.type());
        h = fnv(h, a.category());
        h = fnv(h, a.value());
        h = step(h, a.toIds() ? 1 : 0);
        h = step(h, a.threatLevel());
        h = step(h, a.tags().size());
        for (String tag : a.tags()) {
            h = fnv(h, tag);
        }
        h = step(h, a.timestamp());
        return mix(h);
    }

    /** MurmurHash3's 64-bit finaliser. */
    static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    private static long fnv(long h, String s) {
        if (s == null) {
            return step(h, 0x5bd1e995L);
        }
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * FNV_PRIME;
        }
        // the length ends each string: ("ab", "c") and ("a", "bc") differ
        return step(h, s.length());
    }

    private static long step(long h, long v) {
        return (h ^ mix(v + 0x9e3779b97f4a7c15L)) * FNV_PRIME;
    }
}
