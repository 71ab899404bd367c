package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.IpAddresses;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The alerts of a bench run: a realistic mix (the lines of a real {@code alerts.json} when one is given, else
 * hand-made alerts of the same kinds, plus generated Sysmon 1/3/7/22 and syscheck alerts) whose indicator fields are
 * filled from a fixed number of distinct values, a share of which MISP knows. Every value is a pure function of the
 * seed, its type and its index, so the load generator and the fake MISP agree on which values are bad without
 * sharing state.
 */
final class Workload {
    /** What an alert is, as far as its indicators go. */
    enum Kind {
        LOGON(IndicatorType.IP), SSHD(IndicatorType.IP),
        SYSMON1(IndicatorType.MD5, IndicatorType.SHA256, IndicatorType.IMPHASH),
        SYSMON3(IndicatorType.IP),
        SYSMON7(IndicatorType.SHA1, IndicatorType.MD5, IndicatorType.SHA256, IndicatorType.IMPHASH),
        SYSMON22(IndicatorType.DOMAIN, IndicatorType.IP),
        SYSCHECK_ADDED(IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256),
        SYSCHECK_MODIFIED(IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256),
        /** SCA, Sysmon 11/13, Defender…: nothing planted (the rules may still find real values in it). */
        NONE;

        final List<IndicatorType> slots;

        Kind(IndicatorType... slots) {
            this.slots = List.of(slots);
        }
    }

    /** The value types the pools hold: the types the planted fields carry. */
    static final List<IndicatorType> TYPES = List.of(IndicatorType.IP, IndicatorType.DOMAIN, IndicatorType.MD5,
            IndicatorType.SHA1, IndicatorType.SHA256, IndicatorType.IMPHASH);

    /** The written form of the alert id; {@link BenchAlert#withId} overwrites its digits. */
    static final String ID_PREFIX = "1757500000.";
    static final int ID_DIGITS = 12;
    private static final String ID_MARKER = ID_PREFIX + "0".repeat(ID_DIGITS);

    /** Generated kinds and their weights within the generated share. */
    private static final Map<Kind, Double> GENERATED = new LinkedHashMap<>();

    static {
        GENERATED.put(Kind.SYSMON3, 0.28);
        GENERATED.put(Kind.SYSMON7, 0.20);
        GENERATED.put(Kind.SYSMON22, 0.20);
        GENERATED.put(Kind.SYSMON1, 0.12);
        GENERATED.put(Kind.SYSCHECK_ADDED, 0.10);
        GENERATED.put(Kind.SYSCHECK_MODIFIED, 0.10);
    }

    /** The corpus shape (hidc2025: SCA 34 %, logon 30 %, sshd/PAM 13 %, Sysmon 1 6 %, the rest without indicators). */
    private static final Map<String, Double> BUILT_IN_CORPUS = new LinkedHashMap<>();

    static {
        BUILT_IN_CORPUS.put("sca", 0.34);
        BUILT_IN_CORPUS.put("logon", 0.30);
        BUILT_IN_CORPUS.put("sshd", 0.13);
        BUILT_IN_CORPUS.put("sysmon1", 0.06);
        BUILT_IN_CORPUS.put("sysmon11", 0.17);
    }

    private static final Pattern AUTH_GROUPS =
            Pattern.compile("authentication_(failed|failures|success)|invalid_login|sshd|pam|web_authentication.*");
    private static final String[] DOMAIN_WORDS = {"cdn", "api", "sync", "update", "mail", "img", "static", "login"};
    private static final String[] DOMAIN_ZONES = {"example.net", "bench-lab.org", "contoso-cdn.com", "fabrikam.io"};
    /** First octets of ordinary global unicast space (no private, shared, documentation or reserved block). */
    private static final int[] FIRST_OCTETS = {23, 31, 37, 45, 46, 62, 77, 78, 80, 82, 85, 87, 89, 91, 93, 94, 95, 109};

    /** One template and what it is. */
    record Template(Kind kind, ObjectNode json, String source) {
    }

    /** A value pool: sizes per type and which values MISP knows. {@code namespace} keeps pools disjoint. */
    static final class Pool {
        final int namespace;
        final Map<IndicatorType, Integer> sizes;
        final double badShare;
        final long seed;

        Pool(int namespace, Map<IndicatorType, Integer> sizes, double badShare, long seed) {
            this.namespace = namespace;
            this.sizes = sizes;
            this.badShare = badShare;
            this.seed = seed;
        }

        int size(IndicatorType t) {
            return sizes.getOrDefault(t, 0);
        }

        int total() {
            return sizes.values().stream().mapToInt(Integer::intValue).sum();
        }

        /** The value as MISP stores it and the correlator asks for it (lower case, canonical IP). */
        String value(IndicatorType t, int k) {
            long g = (long) namespace * 4_000_000L + k;
            return switch (t) {
                case IP -> ip(g);
                case DOMAIN -> DOMAIN_WORDS[(int) (mix(seed, 7, g) & 7)] + "-" + Long.toString(g, 36) + "."
                        + DOMAIN_ZONES[(int) (g % DOMAIN_ZONES.length)];
                case MD5, IMPHASH -> hex(t, g, 32);
                case SHA1 -> hex(t, g, 40);
                case SHA256 -> hex(t, g, 64);
                case URL -> "http://" + value(IndicatorType.DOMAIN, k) + "/p";
            };
        }

        boolean isBad(IndicatorType t, int k) {
            return Math.floorMod(mix(seed, 100 + t.ordinal(), (long) namespace * 4_000_000L + k), 1_000_000L)
                    < Math.round(badShare * 1_000_000);
        }

        /** How many MISP attributes a bad value has: most one, every fourth a second (composite) one. */
        int attributes(IndicatorType t, int k) {
            return Math.floorMod(mix(seed, 200 + t.ordinal(), k), 4L) == 0 ? 2 : 1;
        }

        private String hex(IndicatorType t, long g, int length) {
            StringBuilder sb = new StringBuilder(length);
            long salt = 300 + t.ordinal();
            for (int i = 0; sb.length() < length; i++) {
                String h = Long.toHexString(mix(seed, salt + 17L * i, g));
                sb.append("0".repeat(16 - h.length())).append(h);
            }
            return sb.substring(0, length);
        }

        private String ip(long g) {
            if (g % 10 == 9) {
                // every tenth address is IPv6, written canonically as the correlator prints it
                long m = mix(seed, 11, g);
                String raw = String.format(Locale.ROOT, "2a02:%x:%x:%x::%x", 0x1000 + (g >>> 16 & 0xefff), g & 0xffff,
                        (m >>> 16) & 0xffff, (m & 0xfffe) + 1);
                return IpAddresses.canonical(IpAddresses.parse(raw).orElseThrow());
            }
            int first = FIRST_OCTETS[(int) (g % FIRST_OCTETS.length)];
            // a bijection on 24 bits (odd multiplier), so distinct indexes give distinct addresses
            long rest = ((g / FIRST_OCTETS.length) * 0x9E3B7L + 0x5A5A5L) & 0xFFFFFFL;
            return first + "." + (rest >>> 16 & 0xff) + "." + (rest >>> 8 & 0xff) + "." + (rest & 0xff);
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final List<Template> corpus;
    private final Map<String, Template> builtIn;
    private final double generatedShare;
    private final String corpusSource;

    private Workload(List<Template> corpus, Map<String, Template> builtIn, double generatedShare, String corpusSource) {
        this.corpus = corpus;
        this.builtIn = builtIn;
        this.generatedShare = generatedShare;
        this.corpusSource = corpusSource;
    }

    /** @param corpusFile a real alerts.json, or null / missing to use the built-in alerts of the same kinds */
    static Workload create(Path corpusFile, double generatedShare) {
        Map<String, Template> builtIn = builtInTemplates();
        List<Template> corpus = new ArrayList<>();
        String source;
        if (corpusFile != null && Files.isRegularFile(corpusFile)) {
            try {
                for (String line : Files.readAllLines(corpusFile, StandardCharsets.UTF_8)) {
                    JsonNode node;
                    try {
                        node = MAPPER.readTree(line);
                    } catch (IOException e) {
                        continue; // the real file has broken lines; the service must skip them, so do we
                    }
                    if (node instanceof ObjectNode o) {
                        corpus.add(new Template(classify(o), o, "corpus"));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            source = corpusFile.toString() + " (" + corpus.size() + " alerts)";
        } else {
            source = "built-in alerts in the corpus's shape (no corpus file)";
        }
        return new Workload(corpus, builtIn, generatedShare, source);
    }

    String corpusSource() {
        return corpusSource;
    }

    /** Which planted fields a corpus alert has; the rest is replayed as it is. */
    static Kind classify(ObjectNode alert) {
        JsonNode eventdata = alert.path("data").path("win").path("eventdata");
        if (eventdata.hasNonNull("ipAddress")) {
            return Kind.LOGON;
        }
        if (eventdata.hasNonNull("hashes")) {
            return Kind.SYSMON1;
        }
        if (alert.path("data").hasNonNull("srcip")) {
            for (JsonNode g : alert.path("rule").path("groups")) {
                if (AUTH_GROUPS.matcher(g.asText("").strip()).matches()) {
                    return Kind.SSHD;
                }
            }
        }
        return Kind.NONE;
    }

    private static Map<String, Template> builtInTemplates() {
        try (InputStream in = Workload.class.getResourceAsStream("alert-templates.json")) {
            JsonNode root = MAPPER.readTree(in);
            Map<String, Template> out = new LinkedHashMap<>();
            root.fields().forEachRemaining(e -> {
                if (!e.getKey().startsWith("_")) {
                    ObjectNode o = (ObjectNode) e.getValue();
                    out.put(e.getKey(), new Template(kindOf(e.getKey()), o, "generated:" + e.getKey()));
                }
            });
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Kind kindOf(String name) {
        return switch (name) {
            case "logon" -> Kind.LOGON;
            case "sshd" -> Kind.SSHD;
            case "sysmon1" -> Kind.SYSMON1;
            case "sysmon3" -> Kind.SYSMON3;
            case "sysmon7" -> Kind.SYSMON7;
            case "sysmon22" -> Kind.SYSMON22;
            case "syscheck_added" -> Kind.SYSCHECK_ADDED;
            case "syscheck_modified" -> Kind.SYSCHECK_MODIFIED;
            default -> Kind.NONE;
        };
    }

    /** A template drawn from the mix. */
    Template pick(SplittableRandom random) {
        if (random.nextDouble() < generatedShare) {
            return builtIn.get(weighted(random, GENERATED, k -> k.name().toLowerCase(Locale.ROOT)));
        }
        if (!corpus.isEmpty()) {
            return corpus.get(random.nextInt(corpus.size()));
        }
        return builtIn.get(weighted(random, BUILT_IN_CORPUS, k -> k));
    }

    private static <K> String weighted(SplittableRandom random, Map<K, Double> weights,
                                       Function<K, String> name) {
        double total = weights.values().stream().mapToDouble(Double::doubleValue).sum();
        double r = random.nextDouble() * total;
        K last = null;
        for (Map.Entry<K, Double> e : weights.entrySet()) {
            last = e.getKey();
            r -= e.getValue();
            if (r < 0) {
                break;
            }
        }
        return name.apply(last);
    }

    /**
     * Pool sizes per type, in proportion to how often the mix consumes each type, so one pass over the pool (the
     * cold phase) touches every value about once. Estimated by drawing templates.
     */
    Map<IndicatorType, Integer> poolSizes(int distinct, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<IndicatorType, Double> use = new EnumMap<>(IndicatorType.class);
        int draws = 200_000;
        for (int i = 0; i < draws; i++) {
            for (IndicatorType t : pick(random).kind().slots) {
                use.merge(t, 1.0, Double::sum);
            }
        }
        double sum = use.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<IndicatorType, Integer> sizes = new EnumMap<>(IndicatorType.class);
        for (IndicatorType t : TYPES) {
            sizes.put(t, Math.max(1, (int) Math.round(distinct * use.getOrDefault(t, 0.0) / sum)));
        }
        return sizes;
    }

    /** Indicator values consumed per alert of the mix, on average (for sizing the cold phase). */
    double valuesPerAlert(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long n = 0;
        int draws = 100_000;
        for (int i = 0; i < draws; i++) {
            n += pick(random).kind().slots.size();
        }
        return (double) n / draws;
    }

    /** Chooses the index of the next value of a type: sequential (cold, one pass) or random (warm). */
    interface Picker {
        int next(IndicatorType type);
    }

    static Picker sequential(Pool pool) {
        Map<IndicatorType, int[]> counters = new EnumMap<>(IndicatorType.class);
        return t -> {
            int[] c = counters.computeIfAbsent(t, x -> new int[1]);
            return c[0]++ % pool.size(t);
        };
    }

    static Picker random(Pool pool, SplittableRandom random) {
        return t -> random.nextInt(pool.size(t));
    }

    /** One alert of the mix with its indicator fields filled from the pool. */
    BenchAlert next(SplittableRandom random, Pool pool, Picker picker) {
        Template template = pick(random);
        ObjectNode alert = template.json().deepCopy();
        alert.put("id", ID_MARKER);
        List<String> bad = new ArrayList<>(2);
        List<Integer> attributes = new ArrayList<>(2);
        List<String> planted = new ArrayList<>(4);
        Map<IndicatorType, String> values = new EnumMap<>(IndicatorType.class);
        for (IndicatorType t : template.kind().slots) {
            int k = picker.next(t);
            String v = pool.value(t, k);
            values.put(t, v);
            planted.add(t.id() + ":" + v);
            if (pool.isBad(t, k)) {
                bad.add(t.id() + ":" + v);
                attributes.add(pool.attributes(t, k));
            }
        }
        fill(template.kind(), alert, values, random);
        byte[] body;
        try {
            body = MAPPER.writeValueAsBytes(alert);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BenchAlert(body, indexOf(body, ID_MARKER.getBytes(StandardCharsets.US_ASCII)), template.kind(),
                planted.toArray(String[]::new), bad.toArray(String[]::new),
                attributes.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void fill(Kind kind, ObjectNode alert, Map<IndicatorType, String> v, SplittableRandom random) {
        switch (kind) {
            case LOGON -> eventdata(alert).put("ipAddress", v.get(IndicatorType.IP));
            case SSHD -> {
                ((ObjectNode) alert.path("data")).put("srcip", v.get(IndicatorType.IP));
                if (alert.hasNonNull("full_log")) {
                    alert.put("full_log", alert.get("full_log").asText().replaceAll(
                            "from \\S+ port", "from " + v.get(IndicatorType.IP) + " port"));
                }
            }
            case SYSMON1 -> eventdata(alert).put("hashes", "MD5=" + up(v.get(IndicatorType.MD5))
                    + ",SHA256=" + up(v.get(IndicatorType.SHA256)) + ",IMPHASH=" + up(v.get(IndicatorType.IMPHASH)));
            case SYSMON7 -> eventdata(alert).put("hashes", "SHA1=" + up(v.get(IndicatorType.SHA1))
                    + ",MD5=" + up(v.get(IndicatorType.MD5)) + ",SHA256=" + up(v.get(IndicatorType.SHA256))
                    + ",IMPHASH=" + up(v.get(IndicatorType.IMPHASH)));
            case SYSMON3 -> {
                String ip = v.get(IndicatorType.IP);
                ObjectNode e = eventdata(alert);
                e.put("destinationIp", ip);
                e.put("destinationIsIpv6", ip.contains(":") ? "true" : "false");
                e.put("sourcePort", Integer.toString(49152 + random.nextInt(16000)));
            }
            case SYSMON22 -> {
                ObjectNode e = eventdata(alert);
                // Sysmon writes the name as queried: mixed case, sometimes with the root dot
                String name = v.get(IndicatorType.DOMAIN);
                e.put("queryName", random.nextInt(4) == 0 ? up(name) + "." : name);
                e.put("queryResults", "type:  5 edge." + name + ";" + v.get(IndicatorType.IP) + ";");
            }
            case SYSCHECK_ADDED, SYSCHECK_MODIFIED -> {
                ObjectNode s = (ObjectNode) alert.path("syscheck");
                s.put("md5_after", v.get(IndicatorType.MD5));
                s.put("sha1_after", v.get(IndicatorType.SHA1));
                s.put("sha256_after", v.get(IndicatorType.SHA256));
                if (kind == Kind.SYSCHECK_MODIFIED) {
                    // the values before the change are not looked up: random, never in the pool
                    s.put("md5_before", randomHex(random, 32));
                    s.put("sha1_before", randomHex(random, 40));
                    s.put("sha256_before", randomHex(random, 64));
                }
            }
            case NONE -> { }
        }
    }

    private static ObjectNode eventdata(ObjectNode alert) {
        return (ObjectNode) alert.path("data").path("win").path("eventdata");
    }

    private static String up(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    private static String randomHex(SplittableRandom random, int length) {
        StringBuilder sb = new StringBuilder(length);
        while (sb.length() < length) {
            sb.append(Character.forDigit(random.nextInt(16), 16));
        }
        return sb.toString();
    }

    /** Rewrites the groups into the positional order the old script dispatches on; false if it never looks up. */
    static boolean rewriteForOldScript(ObjectNode alert, Kind kind) {
        ArrayNode groups = MAPPER.createArrayNode();
        switch (kind) {
            case SYSMON1 -> groups.add("windows").add("sysmon").add("sysmon_event1");
            case SYSMON3 -> groups.add("windows").add("sysmon").add("sysmon_event3");
            case SYSMON7 -> groups.add("windows").add("sysmon").add("sysmon_event7");
            case SYSMON22 -> groups.add("windows").add("sysmon").add("sysmon_event_22");
            case SYSCHECK_ADDED -> groups.add("ossec").add("syscheck").add("syscheck_entry_added").add("syscheck_file");
            case SYSCHECK_MODIFIED -> groups.add("ossec").add("syscheck").add("syscheck_entry_modified").add("syscheck_file");
            default -> {
                return false;
            }
        }
        ((ObjectNode) alert.path("rule")).set("groups", groups);
        return true;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("id marker not found in a generated alert");
    }

    /** splitmix64 of (seed, salt, index): cheap, deterministic, well mixed. */
    static long mix(long seed, long salt, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + salt * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
