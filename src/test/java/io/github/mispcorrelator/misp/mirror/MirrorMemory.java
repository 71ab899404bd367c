package io.github.mispcorrelator.misp.mirror;

import io.github.mispcorrelator.misp.MispAttribute;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Measures what the local mirror holds in memory per attribute: synthetic attributes, built as a pull builds them
 * (parsed strings of their own, a page at a time, taken into the compact held table, then indexed as lookups read
 * them), and the heap used after a full GC compared with before. The attributes' details are not held (PostgreSQL
 * has them, read on a hit). Not a test; run it with the packaged jar:
 * <pre>
 * mvn -B -q package -DskipTests
 * java -Xmx1g -cp target/misp-correlator.jar:target/test-classes io.github.mispcorrelator.misp.mirror.MirrorMemory [attributes]
 * </pre>
 * The mix: 30 % SHA-256, 15 % MD5, 10 % SHA-1, 20 % IPv4, 15 % domains, 10 % URLs; 20 attributes per event, each
 * event with an info line and two tags.
 */
public final class MirrorMemory {
    private MirrorMemory() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String instance = "https://misp.example.org";
        long before = usedAfterGc();

        MirrorIndex index = new MirrorIndex(instance, () -> { });
        Random random = new Random(42);
        int pageSize = 5000;
        long t0 = System.nanoTime();
        for (int from = 0; from < n; from += pageSize) {
            // one page: fresh strings for every field, as Jackson parses them; held as a pull holds them
            Map<Object, Object> pool = new HashMap<>();
            List<MispAttribute> page = new ArrayList<>(pageSize);
            for (int i = from; i < Math.min(n, from + pageSize); i++) {
                page.add(MirrorIndex.compact(synthetic(i, random, instance), pool));
            }
            index.put(page);
        }
        long pulled = System.nanoTime() - t0;
        long t1 = System.nanoTime();
        MirrorIndex.View view = index.next(true);
        index.publish(view, "misp");
        long indexed = System.nanoTime() - t1;
        long after = usedAfterGc();

        long bytes = after - before;
        System.out.printf(Locale.ROOT, "%d attributes held, index of %d keys: %.1f MB retained, %.1f bytes per attribute, "
                        + "%.1f MiB per million (made and held in %d ms, indexed in %d ms; %s %s, max heap %d MB)%n",
                index.size(), view.base().entries(), bytes / 1e6, (double) bytes / n, bytes / 1048576.0 * 1_000_000 / n,
                pulled / 1_000_000, indexed / 1_000_000, System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20);
        // a rebuild indexes everything again while lookups still read the old index
        index.put(List.of(synthetic(n, random, instance)));
        MirrorIndex.View rebuilt = index.next(true);
        long during = usedAfterGc();
        System.out.printf(Locale.ROOT, "while a rebuild's new index and the old one are both held: %.1f bytes per attribute%n",
                (double) (during - before) / n);
        // keep everything reachable until measured
        if (index.size() < 0 || view.attributes() < 0 || rebuilt.attributes() < 0) {
            System.out.println();
        }
    }

    static MispAttribute synthetic(int i, Random random, String instance) {
        int event = i / 20;
        int kind = random.nextInt(100);
        String type;
        String value;
        if (kind < 30) {
            type = "sha256";
            value = hex(random, 64);
        } else if (kind < 45) {
            type = "md5";
            value = hex(random, 32);
        } else if (kind < 55) {
            type = "sha1";
            value = hex(random, 40);
        } else if (kind < 75) {
            type = "ip-dst";
            value = (1 + random.nextInt(223)) + "." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256);
        } else if (kind < 90) {
            type = "domain";
            value = word(random, 6 + random.nextInt(10)) + "." + word(random, 3 + random.nextInt(6)) + ".com";
        } else {
            type = "url";
            value = "https://" + word(random, 8 + random.nextInt(8)) + ".net/" + word(random, 10 + random.nextInt(30))
                    + "/" + word(random, 8) + ".php";
        }
        return new MispAttribute(
                new String(Integer.toString(1_000_000 + i)),
                new java.util.UUID(random.nextLong(), random.nextLong()).toString(),
                new String(Integer.toString(10_000 + event)),
                new String(new java.util.UUID(event, 7).toString()),
                new String("OSINT - Campaign " + event + " infrastructure and payloads"),
                new String(type), new String("Network activity"), value, true, 1 + event % 4,
                List.of(new String("tlp:green"), new String("misp-galaxy:threat-actor=\"Actor " + event % 50 + "\"")),
                1_700_000_000L + i, new String(instance));
    }

    private static String hex(Random random, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(Character.forDigit(random.nextInt(16), 16));
        }
        return b.toString();
    }

    private static String word(Random random, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append((char) ('a' + random.nextInt(26)));
        }
        return b.toString();
    }

    private static long usedAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(200);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
