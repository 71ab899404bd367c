package io.github.mispcorrelator.support;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The project's own test files, and the optional reference data in {@code ../shared/data}. */
public final class Fixtures {
    private Fixtures() {
    }

    public static byte[] bytes(String resource) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String text(String resource) {
        return new String(bytes(resource), java.nio.charset.StandardCharsets.UTF_8);
    }

    public static Alert alert(String name) {
        return AlertParser.parse(bytes("alerts/" + name));
    }

    /** The project root (the tests run from it). */
    public static Path project(String relative) {
        return Path.of(relative).toAbsolutePath();
    }

    /**
     * A path in the reference data; the calling test is skipped when the data is absent, as on a fresh clone.
     */
    public static Path sharedData(String relative) {
        Path base = Path.of(System.getProperty("shared.data.dir", "../shared/data"));
        Path p = base.resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "reference data not present: " + p.toAbsolutePath());
        return p;
    }

    private static final Path WORK_ROOT = Path.of(System.getProperty("java.io.tmpdir"), "misp-correlator-it");
    private static boolean cleaned;

    /**
     * A fresh directory for test data under the system temp directory, readable by all: run as root, the embedded
     * PostgreSQL runs as an unprivileged user that must reach it, wherever the checkout lives. Directories left by
     * runs more than an hour old are removed.
     */
    public static synchronized Path workDir(String name) {
        try {
            Files.createDirectories(WORK_ROOT);
            WORK_ROOT.toFile().setExecutable(true, false);
            WORK_ROOT.toFile().setReadable(true, false);
            if (!cleaned) {
                cleaned = true;
                long cutoff = System.currentTimeMillis() - 3_600_000;
                try (Stream<Path> old = Files.list(WORK_ROOT)) {
                    old.filter(p -> p.toFile().lastModified() < cutoff).forEach(Fixtures::deleteTree);
                }
            }
            Path dir = Files.createDirectories(WORK_ROOT.resolve(name + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
            dir.toFile().setExecutable(true, false);
            dir.toFile().setReadable(true, false);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // another run may still use it; it goes next time
        }
    }
}
