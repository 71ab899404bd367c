package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.IpAddresses;
import io.github.mispcorrelator.indicator.Normaliser;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Known-good values a detection engineer keeps in a plain file next to the DRL ({@code allowlists/NAME.txt}), one
 * entry a line, {@code #} starts a comment:
 * <ul>
 *   <li>a hash, an IP address or a domain: that exact value (normalised like alert values);</li>
 *   <li>{@code 13.64.0.0/11} or {@code 2603:1000::/24}: every address in the block;</li>
 *   <li>{@code *.windowsupdate.com}: the domain and every name under it.</li>
 * </ul>
 */
public final class AllowList {
    private final String name;
    private final Set<String> exact = new HashSet<>();
    private final List<String> suffixes = new ArrayList<>();
    private final List<byte[][]> blocks = new ArrayList<>();
    private int entries;

    private AllowList(String name) {
        this.name = name;
    }

    /** @throws IllegalArgumentException naming the line of an entry that is none of the above */
    static AllowList parse(String name, List<String> lines) {
        AllowList list = new AllowList(name);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String entry = (hash >= 0 ? line.substring(0, hash) : line).strip().toLowerCase(Locale.ROOT);
            if (entry.isEmpty()) {
                continue;
            }
            if (!list.add(entry)) {
                throw new IllegalArgumentException("line " + (i + 1) + ": '" + entry
                        + "' is not a hash, an IP address, a CIDR block, a domain or *.domain");
            }
            list.entries++;
        }
        return list;
    }

    private boolean add(String entry) {
        if (entry.startsWith("*.")) {
            Optional<String> d = Normaliser.normalise(IndicatorType.DOMAIN, entry.substring(2));
            d.ifPresent(v -> {
                exact.add(v);
                suffixes.add("." + v);
            });
            return d.isPresent();
        }
        int slash = entry.indexOf('/');
        if (slash > 0) {
            Optional<InetAddress> net = IpAddresses.parse(entry.substring(0, slash));
            try {
                int prefix = Integer.parseInt(entry.substring(slash + 1));
                if (net.isEmpty() || prefix < 0 || prefix > net.get().getAddress().length * 8) {
                    return false;
                }
                blocks.add(new byte[][]{net.get().getAddress(), new byte[]{(byte) prefix}});
                return true;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        Optional<InetAddress> ip = IpAddresses.parse(entry);
        if (ip.isPresent()) {
            exact.add(IpAddresses.canonical(ip.get()));
            return true;
        }
        if (entry.matches("[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}")) {
            exact.add(entry);
            return true;
        }
        Optional<String> domain = Normaliser.normalise(IndicatorType.DOMAIN, entry);
        domain.ifPresent(exact::add);
        return domain.isPresent();
    }

    /** Whether a normalised indicator value is on this list. */
    public boolean contains(IndicatorType type, String value) {
        if (exact.contains(value)) {
            return true;
        }
        if (type == IndicatorType.DOMAIN) {
            for (String s : suffixes) {
                if (value.endsWith(s)) {
                    return true;
                }
            }
        }
        if (type == IndicatorType.IP && !blocks.isEmpty()) {
            Optional<InetAddress> ip = IpAddresses.parse(value);
            if (ip.isPresent()) {
                byte[] a = ip.get().getAddress();
                for (byte[][] b : blocks) {
                    if (IpAddresses.inBlock(a, b[0], b[1][0] & 0xff)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    public String name() {
        return name;
    }

    public int size() {
        return entries;
    }
}
