package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Baseline (b), the old way: integratord runs {@code custom-misp.py} once per alert, one alert after the other, each
 * a new Python process doing one blocking GET to MISP and writing its event to analysisd's datagram socket. The
 * script is a stdlib re-creation of the original (resource {@code custom-misp.py}); the socket is a real one here.
 */
final class OldWay {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    record Result(int alerts, double seconds, Latencies.Summary latency, int lookups, int crashed, int events,
                  long badValues, long badFound, long expectedHits, String note) {
        double alertsPerSecond() {
            return seconds > 0 ? alerts / seconds : 0;
        }
    }

    private OldWay() {
    }

    /**
     * The interpreter itself, as integratord runs Wazuh's bundled {@code framework/python/bin/python3}: the one
     * {@code python3} on the PATH resolves to, so a version manager's shim script is not timed with it. Null if none.
     */
    static String python() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 && !out.isEmpty() ? out : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    /**
     * Runs the sample through the old script. Alerts are taken from {@code pool} among the kinds the old script's
     * integration block forwards (Sysmon 1/3/7/22, syscheck), their groups put in the positional order it reads.
     */
    static Result run(String python, List<BenchAlert> pool, int sample, FakeMispServer misp, Path dir,
                      Duration timeLimit) throws Exception {
        Path integrations = dir.resolve("integrations");
        Path sockets = dir.resolve("queue/sockets");
        Path alertsDir = dir.resolve("alerts");
        Files.createDirectories(integrations);
        Files.createDirectories(sockets);
        Files.createDirectories(alertsDir);
        Path script = integrations.resolve("custom-misp.py");
        String text;
        try (InputStream in = OldWay.class.getResourceAsStream("custom-misp.py")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Files.writeString(script, text.replace("@MISP_URL@", misp.url()).replace("@MISP_KEY@", "bench-key"));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-x---"));

        List<BenchAlert> chosen = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (BenchAlert a : pool) {
            if (chosen.size() >= sample) {
                break;
            }
            ObjectNode json = (ObjectNode) MAPPER.readTree(a.body());
            if (Workload.rewriteForOldScript(json, a.kind())) {
                json.put("id", BenchAlert.id(900_000_000_000L + chosen.size()));
                chosen.add(a);
                bodies.add(MAPPER.writeValueAsBytes(json));
            }
        }
        ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Path socket = sockets.resolve("queue");
        Files.deleteIfExists(socket);
        Channel channel = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket msg) {
                        events.add(new String(ByteBufUtil.getBytes(msg.content()), StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).sync().channel();
        Latencies latencies = new Latencies(chosen.size());
        int done = 0;
        int crashed = 0;
        long lookupsBefore = misp.counters().legacyRequests();
        long start = System.nanoTime();
        long deadline = start + timeLimit.toNanos();
        try {
            for (int i = 0; i < chosen.size() && System.nanoTime() < deadline; i++) {
                long t0 = System.nanoTime();
                // as integratord: the alert in a temporary file, then the integration with (file, api key, hook url)
                Path file = alertsDir.resolve("custom-misp-" + System.currentTimeMillis() + "-" + i + ".alert");
                Files.write(file, bodies.get(i));
                Process p = new ProcessBuilder(python, script.toString(), file.toString(), "bench-key", misp.url())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    crashed++;
                } else if (p.exitValue() != 0) {
                    crashed++;
                }
                Files.deleteIfExists(file);
                latencies.record(System.nanoTime() - t0);
                done++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Thread.sleep(300); // the last datagrams
            // which planted bad values came back (the old script reports the first attribute's value)
            Map<String, Integer> wanted = new HashMap<>();
            long badValues = 0;
            long expectedHits = 0;
            for (int i = 0; i < done; i++) {
                BenchAlert a = chosen.get(i);
                for (int b = 0; b < a.bad().length; b++) {
                    String value = a.bad()[b].substring(a.bad()[b].indexOf(':') + 1);
                    wanted.merge(value, 1, Integer::sum);
                    badValues++;
                    expectedHits += a.attributes()[b];
                }
            }
            long found = 0;
            for (String e : events) {
                int at = e.indexOf("misp:{");
                if (at < 0) {
                    continue;
                }
                JsonNode event = MAPPER.readTree(e.substring(at + 5));
                String value = event.path("misp").path("value").asText("");
                Integer n = wanted.get(value);
                if (n != null && n > 0) {
                    wanted.put(value, n - 1);
                    found++;
                }
            }
            int lookups = (int) (misp.counters().legacyRequests() - lookupsBefore);
            return new Result(done, seconds, latencies.summary(), lookups, crashed, events.size(), badValues, found,
                    expectedHits, python + " per alert, sequential as integratord runs it; groups "
                    + "rewritten to the positional order the script reads");
        } finally {
            channel.close().await(2, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            Files.deleteIfExists(socket);
        }
    }
}
