package io.github.mispcorrelator.bench;

import io.github.mispcorrelator.store.EmbeddedPostgresServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

/**
 * The Kafka benchmark (issue 12's {@code bench --kafka}): alerts/s through a real broker with 1, 2 and 3 correlator
 * instances in one consumer group on one PostgreSQL, each instance its own JVM ({@code Main serve}). A run counts
 * from the first record produced until the group's committed offsets cover the last record and every planted hit is
 * in {@code hits}; it fails (exit 1) when a hit is missing or duplicated, so a fast wrong answer is not a result.
 *
 * <p>The broker: {@code --bootstrap HOST:PORT} for a Kafka of your own, otherwise one started here — Apache Kafka's
 * own server ({@code kafka.Kafka}) in KRaft mode as a child JVM, from {@code --kafka-libs DIR} (a Kafka
 * distribution's {@code libs/}) or from this JVM's class path when it holds {@code kafka_2.13} (the test class path
 * does; see {@link KraftBroker}, which the test suite's brokers use too). The service jar carries no broker, so the
 * product has no Kafka server code.
 *
 * <p>PostgreSQL: {@code --db-url} (with {@code --db-user}, {@code --db-password}), otherwise the embedded server in
 * the work directory. Run it from the project directory (the instances read {@code config/demo-feed}, the DRL and the
 * alert sample from there).
 *
 * <p>What it cannot show on a small machine: the instances, their PostgreSQL, the broker and the producer share the
 * same cores, so a second or third instance on two cores adds no CPU, only coordination. The report says how busy
 * the machine was; per-instance alerts/s on a machine where each instance has its own cores is the figure to size by.
 */
public final class KafkaBench {
    private static final String USAGE = """
            usage: bench --kafka [--records N] [--instances 1,2,3] [--partitions N] [--hit-every N]
                                 [--bootstrap HOST:PORT | --kafka-libs DIR] [--db-url URL --db-user U --db-password P]
                                 [--work DIR] [--no-events]
              --records N       alerts produced per run (default 30000)
              --instances LIST  group sizes to measure, one run each (default 1,2,3)
              --partitions N    partitions of the alerts topic (default 6)
              --hit-every N     one alert in N connects to the demo feed's C2 address (default 10)
              --bootstrap H:P   an existing Kafka; otherwise a KRaft broker is started as a child JVM
              --kafka-libs DIR  the jars for that broker (a Kafka distribution's libs/); default this class path
              --db-url URL      a PostgreSQL for the instances; otherwise the embedded one
              --work DIR        logs, broker and database files (default target/kafka-bench)
              --no-events       do not produce events to an events topic
            """;
    private static final String PLANTED_IP = "81.2.69.192";
    private static final String SAMPLE = "config/samples/sysmon-eid3-c2.json";

    record Options(int records, List<Integer> instances, int partitions, int hitEvery, String bootstrap,
                   Path kafkaLibs, String dbUrl, String dbUser, String dbPassword, Path work, boolean events) {
    }

    /** One run's figures. */
    record Result(int instances, int records, double seconds, double produceSeconds, long planted, long stored,
                  long duplicated, double instanceCpuSeconds, double brokerCpuSeconds, double machineBusy) {
        double alertsPerSecond() {
            return records / seconds;
        }
    }

    private KafkaBench() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Exit code: 0 every run stored every planted hit once, 1 a run did not, 2 bad arguments. */
    public static int run(String[] args) {
        return run(args, System.out);
    }

    /** As {@link #run(String[])}, the report to {@code out}. */
    public static int run(String[] args, PrintStream out) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(USAGE);
            return 2;
        }
        if (o == null) {
            out.print(USAGE);
            return 0;
        }
        try {
            List<Result> results = measure(o, out);
            out.print(report(o, results));
            return results.stream().allMatch(r -> r.stored() == r.planted() && r.duplicated() == 0) ? 0 : 1;
        } catch (Exception e) {
            System.err.println("bench --kafka failed: " + e);
            return 1;
        }
    }

    static Options parse(String[] args) {
        int records = 30_000;
        List<Integer> instances = List.of(1, 2, 3);
        int partitions = 6;
        int hitEvery = 10;
        String bootstrap = null;
        Path libs = null;
        String dbUrl = null;
        String dbUser = null;
        String dbPassword = null;
        Path work = Path.of("target", "kafka-bench");
        boolean events = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--kafka" -> { } // the bench command's mode flag, when it passes its arguments on
                case "-h", "--help" -> {
                    return null;
                }
                case "--no-events" -> events = false;
                default -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("unknown option or missing value: " + a);
                    }
                    String v = args[++i];
                    switch (a) {
                        case "--records" -> records = positive(a, v);
                        case "--instances" -> {
                            List<Integer> l = new ArrayList<>();
                            for (String s : v.split(",")) {
                                l.add(positive(a, s.strip()));
                            }
                            instances = List.copyOf(l);
                        }
                        case "--partitions" -> partitions = positive(a, v);
                        case "--hit-every" -> hitEvery = positive(a, v);
                        case "--bootstrap" -> bootstrap = v;
                        case "--kafka-libs" -> libs = Path.of(v);
                        case "--db-url" -> dbUrl = v;
                        case "--db-user" -> dbUser = v;
                        case "--db-password" -> dbPassword = v;
                        case "--work" -> work = Path.of(v);
                        default -> throw new IllegalArgumentException("unknown option: " + a);
                    }
                }
            }
        }
        return new Options(records, instances, partitions, hitEvery, bootstrap, libs, dbUrl, dbUser, dbPassword,
                work, events);
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(option + " needs a positive whole number, not '" + value + "'");
    }

    static List<Result> measure(Options o, PrintStream out) throws Exception {
        String template = Files.readString(Path.of(SAMPLE)).strip();
        Files.createDirectories(o.work());
        EmbeddedPostgresServer pg = null;
        KraftBroker broker = null;
        try {
            String dbUrl = o.dbUrl();
            String dbUser = o.dbUser();
            if (dbUrl == null) {
                pg = EmbeddedPostgresServer.start(o.work().resolve("db"));
                dbUrl = pg.jdbcUrl();
                dbUser = pg.user();
            }
            String bootstrap = o.bootstrap();
            if (bootstrap == null) {
                broker = KraftBroker.start(o.work().resolve("broker"), o.kafkaLibs(), List.of());
                bootstrap = broker.bootstrap();
            }
            out.printf("bench --kafka: %d records per run, %d partitions, one hit in %d; broker %s; %d cores; load %s%n",
                    o.records(), o.partitions(), o.hitEvery(), broker != null ? "started here (KRaft, child JVM)" : bootstrap,
                    Runtime.getRuntime().availableProcessors(), loadAverage());
            List<Result> results = new ArrayList<>();
            try (Admin admin = KraftBroker.admin(bootstrap)) {
                for (int n : o.instances()) {
                    Result r = once(o, n, template, bootstrap, admin, dbUrl, dbUser, broker);
                    out.printf("  %d instance(s): %,.0f alerts/s (%d records in %.1f s), hits %d/%d, %d duplicated, "
                                    + "machine %.0f %% busy%n", n, r.alertsPerSecond(), r.records(), r.seconds(),
                            r.stored(), r.planted(), r.duplicated(), 100 * r.machineBusy());
                    results.add(r);
                }
            }
            return results;
        } finally {
            if (broker != null) {
                broker.close();
            }
            if (pg != null) {
                pg.close();
            }
        }
    }

    private static Result once(Options o, int n, String template, String bootstrap, Admin admin, String dbUrl,
                               String dbUser, KraftBroker broker) throws Exception {
        String run = "kb" + n + "x" + System.currentTimeMillis();
        String topic = run + "-alerts";
        List<NewTopic> topics = new ArrayList<>(List.of(new NewTopic(topic, o.partitions(), (short) 1),
                new NewTopic(run + "-dlq", 1, (short) 1)));
        if (o.events()) {
            topics.add(new NewTopic(run + "-events", 3, (short) 1));
        }
        admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        Path props = Files.writeString(o.work().resolve(run + ".properties"),
                // the group notices a member gone within seconds, not the client's default 45 s
                "session.timeout.ms=6000\nheartbeat.interval.ms=1000\n");
        Map<String, String> env = new HashMap<>();
        env.put("CORRELATOR_DB_URL", dbUrl);
        if (dbUser != null) {
            env.put("CORRELATOR_DB_USER", dbUser);
        }
        if (o.dbPassword() != null) {
            env.put("CORRELATOR_DB_PASSWORD", o.dbPassword());
        }
        env.put("CORRELATOR_KAFKA_BOOTSTRAP", bootstrap);
        env.put("CORRELATOR_KAFKA_TOPICS", topic);
        env.put("CORRELATOR_KAFKA_GROUP", run);
        env.put("CORRELATOR_KAFKA_DEAD_LETTER_TOPIC", run + "-dlq");
        if (o.events()) {
            env.put("CORRELATOR_KAFKA_EVENTS_TOPIC", run + "-events");
        }
        env.put("CORRELATOR_KAFKA_PROPERTIES_FILE", props.toAbsolutePath().toString());
        env.put("CORRELATOR_CLUSTER_HEARTBEAT", "1s");
        env.put("CORRELATOR_CLUSTER_LEASE_TTL", "4s");
        List<Instance> instances = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                instances.add(Instance.start(run + "-" + i, env, o.work()));
            }
            for (Instance i : instances) {
                i.awaitReady(Duration.ofSeconds(240));
            }
            // measure a settled group: every member holds partitions before the first record
            await("the partitions spread over " + n + " instance(s)", Duration.ofSeconds(90),
                    () -> spread(instances.get(0), run, o.partitions()) == n);
            double cpu0 = cpuSeconds(instances);
            double broker0 = broker == null ? 0 : broker.cpuSeconds();
            long[] machine0 = machineTicks();
            long planted = 0;
            long t0 = System.nanoTime();
            try (KafkaProducer<byte[], byte[]> p = producer(bootstrap)) {
                for (int i = 0; i < o.records(); i++) {
                    boolean hit = i % o.hitEvery() == 0;
                    planted += hit ? 1 : 0;
                    p.send(new ProducerRecord<>(topic, ("a" + i).getBytes(StandardCharsets.UTF_8),
                            alert(template, run + "." + i, hit).getBytes(StandardCharsets.UTF_8)));
                }
                p.flush();
            }
            double produced = (System.nanoTime() - t0) / 1e9;
            long expected = planted;
            try (Connection db = DriverManager.getConnection(dbUrl, dbUser, o.dbPassword())) {
                await("every record committed and every hit stored", Duration.ofSeconds(900),
                        () -> KraftBroker.uncommitted(admin, run, topic) == 0 && hits(db, run) >= expected);
                double seconds = (System.nanoTime() - t0) / 1e9;
                double cpu = cpuSeconds(instances) - cpu0;
                double brokerCpu = broker == null ? 0 : broker.cpuSeconds() - broker0;
                double busy = busyShare(machine0, machineTicks());
                long stored = hits(db, run);
                long duplicated = count(db, "SELECT count(*) FROM (SELECT alert_id FROM hits WHERE alert_id LIKE ? "
                        + "GROUP BY alert_id HAVING count(*) > 1) d", run + ".%");
                return new Result(n, o.records(), seconds, produced, expected, stored, duplicated, cpu, brokerCpu, busy);
            }
        } finally {
            for (Instance i : instances) {
                i.close();
            }
        }
    }

    static String report(Options o, List<Result> results) {
        StringBuilder b = new StringBuilder();
        b.append("\n| instances | records | seconds | alerts/s | per instance | instances' CPU, cores | broker CPU, cores "
                + "| machine busy | hits stored / planted | duplicated |\n");
        b.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            b.append(String.format("| %d | %,d | %.1f | **%,.0f** | %,.0f | %.2f | %.2f | %.0f %% | %,d / %,d | %d |%n",
                    r.instances(), r.records(), r.seconds(), r.alertsPerSecond(), r.alertsPerSecond() / r.instances(),
                    r.instanceCpuSeconds() / r.seconds(), r.brokerCpuSeconds() / r.seconds(), 100 * r.machineBusy(),
                    r.stored(), r.planted(), r.duplicated()));
        }
        int cores = Runtime.getRuntime().availableProcessors();
        b.append(String.format("%nOn %d cores the instances, the broker, PostgreSQL and this producer share the same CPUs: "
                + "a machine near 100 %% busy means the figures are bound by the cores, not by the group. More instances "
                + "on the same cores add coordination, not capacity; size from the per-instance figure on a machine "
                + "where each instance has cores of its own.%n", cores));
        return b.toString();
    }

    /** The sample alert with its own id and either the feed's C2 address (one hit) or one no feed knows. */
    static String alert(String template, String id, boolean hit) {
        String dest = hit ? PLANTED_IP : "203.0.113." + (Math.abs(id.hashCode()) % 250 + 1);
        return template.replaceFirst("\"id\":\"[0-9]+\\.[0-9]+\"", Matcher.quoteReplacement("\"id\":\"" + id + "\""))
                .replace("\"destinationIp\":\"" + PLANTED_IP + "\"", "\"destinationIp\":\"" + dest + "\"");
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 10,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()));
    }

    private static long hits(Connection db, String run) throws Exception {
        return count(db, "SELECT count(*) FROM hits WHERE alert_id LIKE ?", run + ".%");
    }

    private static long count(Connection db, String sql, String like) throws Exception {
        try (PreparedStatement st = db.prepareStatement(sql)) {
            st.setString(1, like);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Members of {@code run} holding its partitions, once all {@code partitions} are held; -1 while it settles. */
    private static int spread(Instance any, String run, int partitions) throws Exception {
        // {instances:[{instance, alive, holds:{kafka_partitions:[...]}, ...}]} (GET /v1/cluster, README)
        JsonObject cluster = new JsonObject(any.get("/v1/cluster"));
        int members = 0;
        int held = 0;
        for (Object o : cluster.getJsonArray("instances")) {
            JsonObject i = (JsonObject) o;
            if (!i.getBoolean("alive", false) || !i.getString("instance", "").startsWith(run)) {
                continue;
            }
            JsonObject holds = i.getJsonObject("holds");
            JsonArray mine = holds == null ? null : holds.getJsonArray("kafka_partitions");
            if (mine != null && !mine.isEmpty()) {
                members++;
                held += mine.size();
            }
        }
        return held == partitions ? members : -1;
    }

    private static double cpuSeconds(List<Instance> instances) {
        double s = 0;
        for (Instance i : instances) {
            s += i.cpuSeconds();
        }
        return s;
    }

    /** /proc/stat's first line: busy and total jiffies of the whole machine (other work included). */
    private static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    private static double busyShare(long[] from, long[] to) {
        long total = to[1] - from[1];
        return total > 0 ? (double) (to[0] - from[0]) / total : Double.NaN;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void await(String what, Duration timeout, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.call()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("timed out waiting for " + what);
    }

    /** One correlator, {@code Main serve} in its own JVM from this class path, configured by CORRELATOR_*. */
    private static final class Instance implements AutoCloseable {
        private final Process process;
        private final int port;
        private final Path log;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        private Instance(Process process, int port, Path log) {
            this.process = process;
            this.port = port;
            this.log = log;
        }

        static Instance start(String id, Map<String, String> env, Path work) throws IOException {
            int port = KraftBroker.freePort();
            Path log = work.resolve(id + ".log");
            ProcessBuilder pb = new ProcessBuilder(KraftBroker.javaBinary(), "-Xmx512m", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), "io.github.mispcorrelator.Main", "serve")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
            Map<String, String> e = pb.environment();
            e.keySet().removeIf(k -> k.startsWith("CORRELATOR_"));
            e.put("CORRELATOR_INSTANCE_ID", id);
            e.put("CORRELATOR_HTTP_HOST", "127.0.0.1");
            e.put("CORRELATOR_HTTP_PORT", Integer.toString(port));
            e.put("CORRELATOR_HTTP_INSTANCES", "1");
            e.put("CORRELATOR_DRL_WATCH", "false");
            e.putAll(env);
            return new Instance(pb.start(), port, log);
        }

        void awaitReady(Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("instance exited with " + process.exitValue() + ":\n" + KraftBroker.tail(log));
                }
                try {
                    if (http.send(request("/health/ready"), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(200);
            }
            throw new IllegalStateException("instance not ready within " + timeout + ":\n" + KraftBroker.tail(log));
        }

        String get(String path) throws Exception {
            return http.send(request(path), HttpResponse.BodyHandlers.ofString()).body();
        }

        private HttpRequest request(String path) {
            return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build();
        }

        double cpuSeconds() {
            return KraftBroker.cpuSeconds(process);
        }

        /** SIGTERM: the service's own clean stop. */
        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(40, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
