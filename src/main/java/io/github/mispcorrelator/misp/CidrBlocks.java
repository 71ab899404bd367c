package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.IpAddresses;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The CIDR attributes of a feed or mirror ({@code ip-dst 91.92.240.0/24}, {@code ip-src 2a02:cf40::/32}), answering
 * "which blocks hold this address". One hash map per prefix length in use, so a lookup costs one masked probe per
 * distinct prefix length (a handful in real feeds), whatever the number of blocks. IPv4-mapped IPv6 blocks
 * ({@code ::ffff:91.92.240.0/120}) are the IPv4 block, as IPv4-mapped addresses are the IPv4 address.
 * Immutable once built; built by one thread, read by many.
 */
public final class CidrBlocks<T> {
    /** Wider blocks are a feed error (a /0 would match the internet), not intelligence: ignored. */
    static final int MIN_PREFIX_V4 = 8;
    static final int MIN_PREFIX_V6 = 16;

    /** A parsed block: its network address (host bits cleared) and prefix length. */
    public record Block(byte[] network, int prefix) {
        boolean v4() {
            return network.length == 4;
        }
    }

    /** prefix length (negative for IPv6) → masked network, hex → attributes. */
    private final Map<Integer, Map<String, List<T>>> byPrefix = new HashMap<>();
    private int[] prefixes = new int[0];
    private int size;

    /**
     * The block an attribute value names, if it is one: {@code a.b.c.d/n} or {@code v6/n}. A plain address (no
     * slash), a malformed value or a too-wide block gives nothing.
     */
    public static Optional<Block> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String v = value.strip();
        int slash = v.indexOf('/');
        if (slash <= 0 || slash == v.length() - 1) {
            return Optional.empty();
        }
        int prefix;
        try {
            prefix = Integer.parseInt(v.substring(slash + 1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        Optional<InetAddress> address = IpAddresses.parse(v.substring(0, slash));
        if (address.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = address.get().getAddress();
        boolean written6 = v.substring(0, slash).indexOf(':') >= 0;
        if (address.get() instanceof Inet4Address && written6) {
            // ::ffff:a.b.c.d/n: Java already gives the IPv4 address; the prefix counts the 96 mapping bits
            prefix -= 96;
        }
        int max = bytes.length * 8;
        int min = bytes.length == 4 ? MIN_PREFIX_V4 : MIN_PREFIX_V6;
        if (prefix < min || prefix > max) {
            return Optional.empty();
        }
        return Optional.of(new Block(mask(bytes, prefix), prefix));
    }

    /** Adds an attribute under its block. */
    public void add(Block block, T attribute) {
        int key = block.v4() ? block.prefix() : -block.prefix();
        Map<String, List<T>> blocks = byPrefix.get(key);
        if (blocks == null) {
            blocks = new HashMap<>();
            byPrefix.put(key, blocks);
            prefixes = new TreeSet<>(byPrefix.keySet()).descendingSet().stream().mapToInt(Integer::intValue).toArray();
        }
        blocks.computeIfAbsent(HexFormat.of().formatHex(block.network()), k -> new ArrayList<>(1)).add(attribute);
        size++;
    }

    /** The attributes of every block holding the address (an address as {@link IpAddresses} canonicalises it). */
    public List<T> containing(String address) {
        if (size == 0) {
            return List.of();
        }
        Optional<InetAddress> parsed = IpAddresses.parse(address);
        if (parsed.isEmpty()) {
            return List.of();
        }
        byte[] bytes = parsed.get().getAddress();
        boolean v4 = bytes.length == 4;
        List<T> out = List.of();
        for (int key : prefixes) {
            if ((key > 0) != v4) {
                continue;
            }
            List<T> found = byPrefix.get(key).get(HexFormat.of().formatHex(mask(bytes, Math.abs(key))));
            if (found != null) {
                if (out.isEmpty()) {
                    out = new ArrayList<>(found);
                } else {
                    out.addAll(found);
                }
            }
        }
        return out;
    }

    public int size() {
        return size;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & (0xff << (8 - bits)));
        }
        return out;
    }
}
