package io.github.mispcorrelator.bench;

import io.github.mispcorrelator.support.JavaRun;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13, item 1: the benchmark is no part of the product. The service jar that the .deb and the tarball ship
 * (target/misp-correlator.jar, built by the package phase before this runs) holds no bench class or resource; the
 * bench jar beside it holds only the bench, runs from its manifest (the service jar on its class path), and the
 * service jar's {@code bench} command says where the benchmark went.
 */
class BenchJarIT {
    private static final Path TARGET = Path.of("target");
    private static final Path SERVICE_JAR = TARGET.resolve("misp-correlator.jar");
    private static final Path BENCH_JAR = TARGET.resolve("misp-correlator-bench.jar");
    private static final String BENCH_PACKAGE = "io/github/mispcorrelator/bench/";
    private static final String CHART_PACKAGE = "org/knowm/xchart/";

    @Test
    void theServiceJarHoldsNoBenchmark() throws IOException {
        List<String> entries = entries(SERVICE_JAR);
        assertThat(entries).contains("io/github/mispcorrelator/Main.class",
                "io/github/mispcorrelator/ingest/ReplayCommand.class");
        assertThat(entries).noneMatch(e -> e.startsWith(BENCH_PACKAGE));
        assertThat(entries).noneMatch(e -> e.endsWith("custom-misp.py") || e.endsWith("alert-templates.json"));
        assertThat(entries).noneMatch(e -> e.startsWith(CHART_PACKAGE));
    }

    @Test
    void theBenchJarHoldsOnlyTheBenchAndNamesTheServiceJar() throws IOException {
        List<String> entries = entries(BENCH_JAR);
        assertThat(entries).contains(BENCH_PACKAGE + "BenchCommand.class", BENCH_PACKAGE + "FakeMispServer.class",
                BENCH_PACKAGE + "alert-templates.json", BENCH_PACKAGE + "custom-misp.py");
        // and XChart, for the sweep's charts: a bench-only dependency, unpacked here (none of its own libraries)
        assertThat(entries).contains(BENCH_PACKAGE + "SweepCharts.class", CHART_PACKAGE + "BitmapEncoder.class");
        assertThat(entries).allMatch(e -> e.startsWith(BENCH_PACKAGE) || e.startsWith(CHART_PACKAGE)
                || e.startsWith("META-INF/") || BENCH_PACKAGE.startsWith(e) || CHART_PACKAGE.startsWith(e),
                "an entry of the bench package or XChart's, or a directory above them");
        try (JarFile jar = new JarFile(BENCH_JAR.toFile())) {
            Attributes main = jar.getManifest().getMainAttributes();
            assertThat(main.getValue(Attributes.Name.MAIN_CLASS)).isEqualTo("io.github.mispcorrelator.bench.BenchCommand");
            assertThat(main.getValue(Attributes.Name.CLASS_PATH)).isEqualTo("misp-correlator.jar");
        }
    }

    @Test
    void theBenchJarRunsItsCommandLine() throws Exception {
        JavaRun help = java("-jar", BENCH_JAR.toString(), "--help");
        assertThat(help.status()).as(help.output()).isZero();
        assertThat(help.output()).contains("Usage: misp-correlator-bench", "--distinct=N", "--compare-drl=DIR",
                "--lookback-compare=N", "--sweep", "--sweep-quick", "--paced-runs=N");
        JavaRun version = java("-jar", BENCH_JAR.toString(), "--version");
        assertThat(version.status()).isZero();
        assertThat(version.output()).startsWith("misp-correlator ");
        JavaRun wrong = java("-jar", BENCH_JAR.toString(), "--phases", "warm-batch,nope");
        assertThat(wrong.status()).as(wrong.output()).isEqualTo(2);
        assertThat(wrong.output()).contains("unknown phase nope");
    }

    @Test
    void theServiceJarsBenchCommandPointsToTheBenchJar() throws Exception {
        JavaRun bench = java("-jar", SERVICE_JAR.toString(), "bench", "--distinct", "1000");
        assertThat(bench.status()).as(bench.output()).isEqualTo(2);
        assertThat(bench.output()).contains("java -jar target/misp-correlator-bench.jar");
    }

    private static List<String> entries(Path jar) throws IOException {
        assertThat(jar).as("built by the package phase").isRegularFile();
        try (JarFile file = new JarFile(jar.toFile())) {
            return Collections.list(file.entries()).stream().map(ZipEntry::getName).toList();
        }
    }

    private static JavaRun java(String... args) throws Exception {
        return JavaRun.of(List.of(args));
    }
}
