package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.indicator.IpAddresses;
import io.github.mispcorrelator.json.Json;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;

/**
 * MISP warning lists applied on our side, for answers that do not come from a live MISP (the local mirror, a feed):
 * an attribute is dropped when any list whose attribute types include its type (or {@code ALL}) holds its value, as
 * MISP's {@code enforceWarninglist} does (app/Model/Warninglist.php:769-784 filterWarninglistAttribute, every enabled
 * list whatever its category). Matching follows Warninglist.php:635-729: a composite value ({@code a|b}, and
 * {@code malware-sample}) is checked half by half; {@code string} is exact, {@code substring} "contains",
 * {@code hostname} the value's host (the part after {@code //} or before the first {@code /}, trailing dots off) or
 * one of its parent domains equal to an entry (entries lower-cased, dots trimmed, Warninglist.php:578-584),
 * {@code cidr} an address (or a range no wider than the entry's) inside an entry (app/Lib/Tools/CidrTool.php),
 * {@code regex} a PCRE pattern with its delimiters.
 * <p>Read from MISP ({@code /warninglists/index/enabled:1}, then {@code /warninglists/view/{id}} for entries and
 * types; app/Controller/WarninglistsController.php:23-56, 358-385) or from a copy of the public misp-warninglists
 * repository ({@code lists/<name>/list.json}: {@code type}, {@code list}, {@code matching_attributes}).
 */
public final class Warninglists {
    public static final Warninglists NONE = new Warninglists(List.of());

    /** One list: its name, matching type, the attribute types it applies to, its entries. */
    public record WarningList(String name, String type, Set<String> attributeTypes, List<String> entries) {
    }

    private record Compiled(String name, String type, Set<String> attributeTypes, Set<String> exact, List<String> substrings,
                            Set<String> hostnames, List<byte[]> networks, List<Integer> prefixes, List<Pattern> patterns) {
    }

    private final List<Compiled> lists;
    private final int entries;

    private Warninglists(List<Compiled> lists) {
        this.lists = lists;
        this.entries = lists.stream().mapToInt(c -> c.exact().size() + c.substrings().size() + c.hostnames().size()
                + c.networks().size() + c.patterns().size()).sum();
    }

    public static Warninglists of(List<WarningList> lists) {
        List<Compiled> out = new ArrayList<>();
        for (WarningList w : lists) {
            Set<String> exact = new HashSet<>();
            List<String> substrings = new ArrayList<>();
            Set<String> hostnames = new HashSet<>();
            List<byte[]> networks = new ArrayList<>();
            List<Integer> prefixes = new ArrayList<>();
            List<Pattern> patterns = new ArrayList<>();
            for (String e : w.entries()) {
                switch (w.type()) {
                    case "string" -> exact.add(e);
                    case "substring" -> substrings.add(e);
                    case "hostname" -> hostnames.add(trimDots(e.toLowerCase(Locale.ROOT)));
                    case "cidr" -> {
                        String[] parts = e.strip().split("/", 2);
                        IpAddresses.parse(parts[0]).ifPresent(net -> {
                            int bits = net.getAddress().length * 8;
                            try {
                                bits = parts.length > 1 ? Integer.parseInt(parts[1].strip()) : bits;
                            } catch (NumberFormatException ignored) {
                                return;
                            }
                            networks.add(net.getAddress());
                            prefixes.add(bits);
                        });
                    }
                    case "regex" -> {
                        Pattern p = pcre(e);
                        if (p != null) {
                            patterns.add(p);
                        }
                    }
                    default -> { }
                }
            }
            out.add(new Compiled(w.name(), w.type(), Set.copyOf(w.attributeTypes()), exact, substrings, hostnames,
                    networks, prefixes, patterns));
        }
        return new Warninglists(List.copyOf(out));
    }

    public int size() {
        return lists.size();
    }

    public int entries() {
        return entries;
    }

    public boolean isEmpty() {
        return lists.isEmpty();
    }

    /** The name of the first list that holds this attribute's value, or null. */
    public String listing(MispAttribute a) {
        if (lists.isEmpty()) {
            return null;
        }
        String type = a.type();
        List<String> values = type.equals("malware-sample") || type.contains("|")
                ? List.of(a.value().split("\\|", 2)) : List.of(a.value());
        for (Compiled c : lists) {
            if (!c.attributeTypes().contains("ALL") && !c.attributeTypes().contains(type)) {
                continue;
            }
            for (String v : values) {
                if (matches(c, v)) {
                    return c.name();
                }
            }
        }
        return null;
    }

    public boolean listed(MispAttribute a) {
        return listing(a) != null;
    }

    /** The attributes on no list. */
    public List<MispAttribute> drop(List<MispAttribute> attributes) {
        if (lists.isEmpty()) {
            return attributes;
        }
        return attributes.stream().filter(a -> !listed(a)).toList();
    }

    private static boolean matches(Compiled c, String v) {
        switch (c.type()) {
            case "string":
                return c.exact().contains(v);
            case "substring":
                return c.substrings().stream().anyMatch(v::contains);
            case "hostname": {
                String[] parts = v.split("/", -1);
                String host = v.contains("//") ? (parts.length > 2 ? parts[2] : "") : parts[0];
                host = host.replaceAll("\\.+$", "");
                String[] labels = host.split("\\.");
                String rebuilt = "";
                for (int i = labels.length - 1; i >= 0; i--) {
                    rebuilt = rebuilt.isEmpty() ? labels[i] : labels[i] + "." + rebuilt;
                    if (c.hostnames().contains(rebuilt)) {
                        return true;
                    }
                }
                return false;
            }
            case "cidr": {
                String[] parts = v.split("/", 2);
                var addr = IpAddresses.parse(parts[0]);
                if (addr.isEmpty()) {
                    return false;
                }
                InetAddress ip = addr.get();
                int valueMask = ip.getAddress().length * 8;
                if (parts.length > 1) {
                    try {
                        valueMask = Integer.parseInt(parts[1].strip());
                    } catch (NumberFormatException e) {
                        return false;
                    }
                }
                for (int i = 0; i < c.networks().size(); i++) {
                    // a range wider than the entry is not inside it (CidrTool::contains)
                    if (IpAddresses.inBlock(ip.getAddress(), c.networks().get(i), c.prefixes().get(i))
                            && valueMask >= c.prefixes().get(i)) {
                        return true;
                    }
                }
                return false;
            }
            case "regex":
                return c.patterns().stream().anyMatch(p -> p.matcher(v).find());
            default:
                return false;
        }
    }

    private static String trimDots(String s) {
        return s.replaceAll("^\\.+|\\.+$", "");
    }

    /** A PCRE pattern as PHP's preg_match takes it ({@code /…/flags}); null when Java cannot read it. */
    static Pattern pcre(String pattern) {
        if (pattern.length() < 2) {
            return null;
        }
        char delimiter = pattern.charAt(0);
        int end = pattern.lastIndexOf(delimiter);
        if (end <= 0) {
            return null;
        }
        int flags = 0;
        for (char f : pattern.substring(end + 1).toCharArray()) {
            flags |= switch (f) {
                case 'i' -> Pattern.CASE_INSENSITIVE;
                case 'm' -> Pattern.MULTILINE;
                case 's' -> Pattern.DOTALL;
                case 'x' -> Pattern.COMMENTS;
                default -> 0;
            };
        }
        try {
            return Pattern.compile(pattern.substring(1, end), flags);
        } catch (PatternSyntaxException e) {
            return null;
        }
    }

    // ---- sources --------------------------------------------------------------------------------------------------

    /** One list from MISP's {@code /warninglists/view/{id}} answer ({@code {"Warninglist": {..., WarninglistEntry, WarninglistType}}}). */
    public static WarningList fromMispView(JsonNode root) {
        JsonNode w = root.path("Warninglist");
        List<String> entries = new ArrayList<>();
        w.path("WarninglistEntry").forEach(e -> entries.add(e.path("value").asText("")));
        Set<String> types = new HashSet<>();
        w.path("WarninglistType").forEach(t -> types.add(t.path("type").asText("")));
        return new WarningList(w.path("name").asText(""), w.path("type").asText("string"), types, entries);
    }

    /**
     * The enabled lists of MISP's {@code /warninglists/index} answer ({@code {"Warninglists": [{"Warninglist": …}]}}):
     * id → version and entry count, which change when the list's entries do.
     */
    public static Map<String, String> versionsFromMispIndex(JsonNode root) {
        Map<String, String> out = new LinkedHashMap<>();
        root.path("Warninglists").forEach(w -> {
            JsonNode list = w.has("Warninglist") ? w.path("Warninglist") : w;
            String id = list.path("id").asText("");
            if (!id.isEmpty() && (list.path("enabled").isMissingNode() || MispJson.bool(list.path("enabled")))) {
                out.put(id, list.path("version").asText("") + "/" + list.path("warninglist_entry_count").asText(""));
            }
        });
        return out;
    }

    /**
     * The lists of a copy of misp-warninglists: {@code dir} is the repository (with {@code lists/}) or its
     * {@code lists} directory; every {@code lists/<name>/list.json} is read.
     *
     * @throws IllegalArgumentException naming the file that cannot be read
     */
    public static Warninglists load(Path dir) {
        Path lists = Files.isDirectory(dir.resolve("lists")) ? dir.resolve("lists") : dir;
        List<WarningList> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(lists, 2)) {
            for (Path f : s.filter(p -> p.getFileName().toString().equals("list.json")).sorted().toList()) {
                JsonNode root;
                try {
                    root = Json.MAPPER.readTree(f.toFile());
                } catch (IOException e) {
                    throw new IllegalArgumentException("warning list " + f + " is not valid JSON: " + e.getMessage());
                }
                List<String> entries = new ArrayList<>();
                root.path("list").forEach(e -> entries.add(e.asText("")));
                Set<String> types = new HashSet<>();
                root.path("matching_attributes").forEach(t -> types.add(t.asText("")));
                out.add(new WarningList(root.path("name").asText(f.getParent().getFileName().toString()),
                        root.path("type").asText("string"), types, entries));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read warning lists in " + dir + ": " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no warning list (lists/<name>/list.json) in " + dir);
        }
        return of(out);
    }
}
