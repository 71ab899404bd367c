package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16, item 7: {@code bench --sweep-quick} runs the sweep's machinery at a tiny size through the built bench jar
 * (so XChart is really in it): two services (one for the pool series, one holding a mirror pulled from the fake
 * MISP), every planted hit found. The charts are real PNG files of the size drawn, with more than a blank canvas in
 * them; the points are in the CSV and the JSON, one per size asked.
 */
class SweepIT {
    private static final Path BENCH_JAR = Path.of("target", "misp-correlator-bench.jar");
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final List<String> CHARTS = List.of("sweep-distinct.png", "sweep-bad-share.png",
            "sweep-mirror.png", "sweep-mirror-load.png");

    @Test
    void aQuickSweepWritesItsPointsAndCharts(@TempDir Path out) throws Exception {
        assertThat(BENCH_JAR).as("built by the package phase").isRegularFile();
        Path log = out.resolve("sweep.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", BENCH_JAR.toString(), "--sweep-quick", "--sweep-distinct", "300,1500", "--sweep-bad-share",
                "0.10", "--sweep-mirror", "4000", "--out", out.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the quick sweep did not end within 8 minutes:\n" + Files.readString(log));
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("sweep done in", "4,000 attributes held");

        for (String name : CHARTS) {
            Path png = out.resolve(name);
            assertThat(png).as(name + "\n" + output).isRegularFile();
            byte[] bytes = Files.readAllBytes(png);
            assertThat(Arrays.copyOf(bytes, 8)).as(name + ": PNG signature").isEqualTo(PNG_SIGNATURE);
            // the IHDR chunk comes first: width and height as drawn
            assertThat(new String(bytes, 12, 4, StandardCharsets.US_ASCII)).isEqualTo("IHDR");
            assertThat(ByteBuffer.wrap(bytes, 16, 8).getInt()).isEqualTo(SweepCharts.WIDTH);
            assertThat(ByteBuffer.wrap(bytes, 20, 4).getInt()).isEqualTo(SweepCharts.HEIGHT);
            assertThat(bytes.length).as(name + ": size").isBetween(10_000, 2_000_000);
            assertThat(colours(png)).as(name + ": lines, axes and text, not a blank image").isGreaterThan(8);
        }

        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        assertThat(csv.get(0)).isEqualTo(String.join(",", Sweep.CSV_COLUMNS));
        assertThat(csv.subList(1, csv.size())).hasSize(4)
                .anySatisfy(l -> assertThat(l).startsWith("bad-share,0.1000,"))
                .anySatisfy(l -> assertThat(l).startsWith("distinct,300,"))
                .anySatisfy(l -> assertThat(l).startsWith("distinct,1499,"))
                .anySatisfy(l -> assertThat(l).startsWith("mirror,4000,"));

        JsonNode json = new ObjectMapper().readTree(out.resolve("sweep.json").toFile());
        assertThat(json.path("passed").asBoolean()).isTrue();
        assertThat(json.path("machine").asText()).contains("cores");
        JsonNode points = json.path("points");
        assertThat(points).hasSize(4);
        for (JsonNode point : points) {
            assertThat(point.path("warm_alerts_per_s").asDouble()).as(point.toString()).isPositive();
            assertThat(point.path("missed_hits").asLong()).isZero();
            assertThat(point.path("failed_alerts").asLong()).isZero();
            if (point.path("series").asText().equals("mirror")) {
                // lookups answered from the mirror: no MISP request while warm, the whole pull held
                assertThat(point.path("mirror_attributes").asLong()).isEqualTo(4_000);
                assertThat(point.path("warm_misp_requests_per_1000_alerts").asDouble()).isZero();
                assertThat(point.path("heap_mib").asDouble()).isPositive();
                assertThat(point.path("cold_alerts_per_s").isNull()).isTrue();
            } else {
                assertThat(point.path("cold_alerts_per_s").asDouble()).isPositive();
                // the pass walks each type's values in turn: nearly all of the pool is asked of MISP, none twice
                long pool = point.path("series").asText().equals("distinct") ? point.path("x").asLong() : 1_499;
                assertThat(point.path("cold_values").asLong()).isBetween(Math.round(pool * 0.95), pool);
                assertThat(point.path("heap_mib").isNull()).isTrue();
            }
        }
        assertThat(Files.readString(out.resolve("sweep.md"))).contains("PASS", "| mirror | 4.00 k |");
    }

    private static int colours(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).isNotNull();
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) {
                seen.add(image.getRGB(x, y));
            }
        }
        return seen.size();
    }
}
