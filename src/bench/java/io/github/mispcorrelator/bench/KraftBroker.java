package io.github.mispcorrelator.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Apache Kafka's own server in KRaft mode (combined broker and controller, one node) as a child JVM, formatted with
 * its StorageTool first as {@code kafka-storage.sh format} does. One launcher for {@code bench --kafka} and the test
 * suite's brokers (the bench sources are on the test class path; the service jar holds neither).
 */
public final class KraftBroker implements AutoCloseable {
    private final Process process;
    private final int port;

    private KraftBroker(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * @param libs     the broker's jars (a Kafka distribution's {@code libs/}), or null for this JVM's class path, which
     *                 must then hold {@code kafka_2.13}
     * @param jvmFlags extra flags for the broker's JVM (the tests trade its peak speed for a faster start)
     */
    public static KraftBroker start(Path dir, Path libs, List<String> jvmFlags) throws Exception {
        dir = dir.toAbsolutePath(); // the broker runs in it: paths it is given must not be relative to here
        String classPath;
        if (libs != null) {
            classPath = libs.toAbsolutePath() + "/*";
        } else {
            try {
                Class.forName("kafka.Kafka", false, KraftBroker.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("no Kafka server on this class path: give --bootstrap HOST:PORT "
                        + "for a running Kafka, or --kafka-libs DIR with a Kafka distribution's libs/");
            }
            classPath = System.getProperty("java.class.path");
        }
        Files.createDirectories(dir);
        int port = freePort();
        int controller = freePort();
        Path props = dir.resolve("server.properties");
        Files.writeString(props, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controller,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                // consumers killed by SIGKILL ask for short sessions (session.timeout.ms) to be noticed soon
                "group.min.session.timeout.ms=2000",
                "") + "\n");
        Path log = dir.resolve("broker.log");
        Process format = java(dir, log, classPath, jvmFlags, "kafka.tools.StorageTool", "format", "-t",
                Uuid.randomUuid().toString(), "-c", props.toString(), "--ignore-formatted");
        if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
            throw new IllegalStateException("kafka-storage format failed:\n" + tail(log));
        }
        KraftBroker b = new KraftBroker(java(dir, log, classPath, jvmFlags, "kafka.Kafka", props.toString()), port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!b.process.isAlive()) {
                throw new IllegalStateException("Kafka broker exited:\n" + tail(log));
            }
            try (Admin admin = b.admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return b;
            } catch (Exception notYet) {
                last = notYet;
                Thread.sleep(500);
            }
        }
        b.close();
        throw new IllegalStateException("Kafka broker did not come up: " + last + "\n" + tail(log));
    }

    private static Process java(Path dir, Path log, String classPath, List<String> jvmFlags, String main,
                                String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx512m", "-XX:+UseSerialGC"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", classPath, main));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    public Admin admin() {
        return admin(bootstrap());
    }

    public static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000));
    }

    public void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    /** Records of the topic not yet covered by the group's committed offsets (0: the group has committed everything). */
    public static long uncommitted(Admin admin, String group, String topic) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
        int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS)
                .get(topic).partitions().size();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        long behind = 0;
        for (var e : admin.listOffsets(latest).all().get(20, TimeUnit.SECONDS).entrySet()) {
            OffsetAndMetadata om = committed.get(e.getKey());
            behind += e.getValue().offset() - (om == null ? 0 : om.offset());
        }
        return behind;
    }

    public double cpuSeconds() {
        return cpuSeconds(process);
    }

    public static double cpuSeconds(Process p) {
        return p.toHandle().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
    }

    /** The last 40 lines of a child's log, for the message of a failure. */
    public static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
