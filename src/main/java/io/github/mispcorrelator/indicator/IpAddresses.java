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
    private static final List<Object[]> V4_SPECIAL = List.of(
            new Object[]{"0.0.0.0", 8}, new Object[]{"10.0.0.0", 8}, new Object[]{"100.64.0.0", 10},
            new Object[]{"127.0.0.0", 8}, new Object[]{"169.254.0.0", 16}, new Object[]{"172.16.0.0", 12},
            new Object[]{"192.0.0.0", 24}, new Object[]{"192.0.2.0", 24}, new Object[]{"192.88.99.0", 24},
            new Object[]{"192.168.0.0", 16}, new Object[]{"198.18.0.0", 15}, new Object[]{"198.51.100.0", 24},
            new Object[]{"203.0.113.0", 24}, new Object[]{"224.0.0.0", 4}, new Object[]{"240.0.0.0", 4});

    /** Non-global IPv6 ranges: unspecified, loopback, discard, documentation, ULA, link-local, site-local, multicast. */
    private static final List<Object[]> V6_SPECIAL = List.of(
            new Object[]{"::", 128}, new Object[]{"::1", 128}, new Object[]{"100::", 64},
            new Object[]{"2001:db8::", 32}, new Object[]{"3fff::", 20}, new Object[]{"fc00::", 7},
            new Object[]{"fe80::", 10}, new Object[]{"fec0::", 10}, new Object[]{"ff00::", 8});

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
        List<Object[]> ranges = address instanceof Inet6Address ? V6_SPECIAL : V4_SPECIAL;
        byte[] bytes = address.getAddress();
        for (Object[] range : ranges) {
            if (inRange(bytes, parse((String) range[0]).orElseThrow().getAddress(), (Integer) range[1])) {
                return false;
            }
        }
        return !(address.isAnyLocalAddress() || address.isLoopbackAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || address.isMulticastAddress());
    }

    /** Whether the address lies in the block {@code network/prefix} (same address family only). */
    public static boolean inBlock(byte[] address, byte[] network, int prefix) {
        return inRange(address, network, prefix);
    }

    private static boolean inRange(byte[] address, byte[] network, int prefix) {
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
