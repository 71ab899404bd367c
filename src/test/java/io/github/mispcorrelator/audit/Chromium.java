package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Assumptions;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's headless Chromium, driven from a test: the DOM after the page's scripts ran, or a screenshot. Tests that
 * use it are skipped where it is not installed ({@code apt-get install chromium}; .ci/run installs it).
 */
public final class Chromium {
    public static final Path BINARY = Path.of("/usr/bin/chromium");

    private Chromium() {
    }

    public static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(BINARY), "headless Chromium not installed at " + BINARY);
    }

    /**
     * The DOM once the page's scripts and requests have settled.
     *
     * @param extra more flags, e.g. {@code --ignore-certificate-errors} for a test certificate
     */
    public static String dumpDom(String url, String... extra) throws Exception {
        Path dir = Fixtures.workDir("chromium");
        List<String> args = flags(dir);
        args.addAll(List.of(extra));
        args.add("--dump-dom");
        args.add(url);
        return new String(run(args, dir), StandardCharsets.UTF_8);
    }

    public static BufferedImage screenshot(String url, Path png) throws Exception {
        Path dir = Fixtures.workDir("chromium");
        List<String> args = flags(dir);
        args.add("--screenshot=" + png.toAbsolutePath());
        args.add(url);
        run(args, dir);
        return ImageIO.read(png.toFile());
    }

    /** As root Chromium needs --no-sandbox; a fresh profile and no background traffic keep runs independent. */
    private static List<String> flags(Path dir) {
        return new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + dir.resolve("profile"),
                "--window-size=1280,900", "--virtual-time-budget=10000"));
    }

    private static byte[] run(List<String> args, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process p = new ProcessBuilder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                throw new IllegalStateException("chromium did not finish in 90 s: " + Files.readString(err));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("chromium exited with " + p.exitValue() + ": " + Files.readString(err));
            }
            return Files.readAllBytes(out);
        } finally {
            // its helper processes too, and only ours
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** Pixels of exactly this colour in the image. */
    public static int count(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }
}
