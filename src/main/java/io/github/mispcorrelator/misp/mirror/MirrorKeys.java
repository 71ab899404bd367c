package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.MispAttribute;

import java.util.List;

/**
 * What the compact index needs of an attribute, stored beside it in {@code misp_mirror_attributes} (migration V12_1)
 * so that a restart reads four columns and no value: the fingerprint of its fields and the digests of its (at most
 * two) keys. {@link #VERSION} tags them: it is the digest of a sample of keys, so a change of how values are
 * normalised or digested changes it, and rows tagged otherwise are read whole and their digests computed again.
 * Attributes that match as a CIDR block, or through more than two keys, are not tagged (always read whole).
 */
public final class MirrorKeys {
    /** The digests of one attribute; {@code version} 0 when it is not to be read by digests. */
    public record Stored(long fingerprint, long key1, long key2, long version) {
    }

    /** Changes whenever the keys or digests of the same values would. */
    public static final long VERSION = version();

    private MirrorKeys() {
    }

    public static Stored of(MispAttribute a) {
        long fingerprint = Digests.fingerprint(a);
        if (AttributeMatcher.cidr(a).isPresent()) {
            return new Stored(fingerprint, HeldAttributes.NO_KEY, HeldAttributes.NO_KEY, 0);
        }
        List<String> keys = AttributeMatcher.keys(a);
        if (keys.size() > 2) {
            return new Stored(fingerprint, HeldAttributes.NO_KEY, HeldAttributes.NO_KEY, 0);
        }
        long k1 = keys.isEmpty() ? HeldAttributes.NO_KEY : HeldAttributes.nonZero(Digests.of(keys.get(0)));
        long k2 = keys.size() < 2 ? HeldAttributes.NO_KEY : HeldAttributes.nonZero(Digests.of(keys.get(1)));
        return new Stored(fingerprint, k1, k2, VERSION);
    }

    private static long version() {
        String[][] sample = {
                {"ip-dst", "81.2.69.1"}, {"ip-src", "2001:DB8::1"}, {"domain", "Evil.Example."}, {"hostname", "xn--bcher-kva.example"},
                {"url", "HTTPS://Evil.Example:443/a/../b?q=1#f"}, {"md5", "D41D8CD98F00B204E9800998ECF8427E"},
                {"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
                {"sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
                {"filename|md5", "a.exe|d41d8cd98f00b204e9800998ecf8427e"}, {"domain|ip", "evil.example|81.2.69.1"},
                {"ip-dst|port", "81.2.69.1|443"}, {"malware-sample", "a.exe|d41d8cd98f00b204e9800998ecf8427e"},
                {"imphash", "f34d5f2d4577ed6d9ceec516c1f5a744"}, {"uri", "/a/b"}, {"link", "http://x.example/"},
        };
        StringBuilder all = new StringBuilder();
        for (String[] s : sample) {
            MispAttribute a = new MispAttribute("", "", "", "", "", s[0], "", s[1], true, 0, List.of(), 0, "");
            for (String key : AttributeMatcher.keys(a)) {
                all.append(key).append('\n').append(Digests.of(key)).append('\n');
            }
        }
        long v = Digests.of(all.toString());
        // 0 means "not by digests"
        return v == 0 ? 1 : v;
    }
}
