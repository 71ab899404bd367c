package io.github.mispcorrelator.indicator;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Parses IP address literals (never a DNS lookup), prints them canonically (IPv6 per RFC 5952), and tells whether an
 * address is globally routable. Threat intelligence about private, loopback or documentation space is noise.
 */
public final class IpAddresses {
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    /** Non-global IPv4 ranges (IANA special-purpose registry): address, prefix length. */
    /** A network block, parsed once: the address bytes and the prefix length. */
    private record Block(byte[] network, int prefix) {
        static Block of(String network, int prefix) {
            return new Block(parse(network).orElseThrow().getAddress(), prefix);
        }
    }

    /** Non-global IPv4 ranges (IANA special-purpose registry). */
    private static final List<Block> V4_SPECIAL = List.of(
            Block.of("0.0.0.0", 8), Block.of("10.0.0.0", 8), Block.of("100.64.0.0", 10),
            Block.of("127.0.0.0", 8), Block.of("169.254.0.0", 16), Block.of("172.16.0.0", 12),
            Block.of("192.0.0.0", 24), Block.of("192.0.2.0", 24), Block.of("192.88.99.0", 24),
            Block.of("192.168.0.0", 16), Block.of("198.18.0.0", 15), Block.of("198.51.100.0", 24),
            Block.of("203.0.113.0", 24), Block.of("224.0.0.0", 4), Block.of("240.0.0.0", 4));

    /** Non-global IPv6 ranges: unspecified, loopback, discard, documentation, ULA, link-local, site-local, multicast. */
    private static final List<Block> V6_SPECIAL = List.of(
            Block.of("::", 128), Block.of("::1", 128), Block.of("100::", 64),
            Block.of("2001:db8::", 32), Block.of("3fff::", 20), Block.of("fc00::", 7),
            Block.of("fe80::", 10), Block.of("fec0::", 10), Block.of("ff00::", 8));

    private IpAddresses() {
    }

    /** Parses a literal: IPv4 dotted quad, or IPv6 (brackets and a zone id allowed); empty for anything else. */
    public static Optional<InetAddress> parse(String raw) {
        if (raw == null) {
            return Optional.empty();
        }
        String s = raw.strip();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        int zone = s.indexOf('%');
        if (zone >= 0) {
            s = s.substring(0, zone);
        }
        if (IPV4.matcher(s).matches()) {
            String[] parts = s.split("\\.");
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                int v = Integer.parseInt(parts[i]);
                if (v > 255) {
                    return Optional.empty();
                }
                b[i] = (byte) v;
            }
            return address(b);
        }
        if (s.indexOf(':') >= 0 && IPV6_CHARS.matcher(s).matches()) {
            try {
                // a literal containing ':' is parsed, never resolved
                return Optional.of(InetAddress.getByName(s));
            } catch (UnknownHostException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private static Optional<InetAddress> address(byte[] b) {
        try {
            return Optional.of(InetAddress.getByAddress(b));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** Lower-case, zero-compressed text (RFC 5952) for IPv6; dotted quad for IPv4 (IPv4-mapped IPv6 included). */
    public static String canonical(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestLen < 2) {
            bestStart = -1;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLen - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    /** Whether the address is publicly routable: not private, loopback, link-local, CGNAT, multicast, documentation. */
    public static boolean isGlobal(InetAddress address) {
        List<Block> ranges = address instanceof Inet6Address ? V6_SPECIAL : V4_SPECIAL;
        byte[] bytes = address.getAddress();
        for (Block range : ranges) {
            if (inBlock(bytes, range.network(), range.prefix())) {
                return false;
            }
        }
        return !(address.isAnyLocalAddress() || address.isLoopbackAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || address.isMulticastAddress());
    }

    /** Whether the address lies in the block {@code network/prefix} (same address family only). */
    public static boolean inBlock(byte[] address, byte[] network, int prefix) {
        if (address.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (address[full] & mask) == (network[full] & mask);
    }
}
