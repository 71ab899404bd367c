package io.github.mispcorrelator.support;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    /** A fresh directory under target/ (not /tmp: as root, the embedded PostgreSQL's user must reach it). */
    public static Path workDir(String name) {
        try {
            return Files.createDirectories(Path.of("target", "it-data", name + "-" + System.nanoTime()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
