package io.github.mispcorrelator.alert;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * Reads an {@code alerts.json} file (one alert per line, plain or gzip): each good line goes to the alert consumer,
 * each bad one to the error consumer with its line number, and reading goes on — a real alert log has broken lines.
 */
public final class AlertReader {
    public record BadLine(Path file, long lineNumber, String reason) {
        @Override
        public String toString() {
            return file + ":" + lineNumber + ": " + reason;
        }
    }

    public record Summary(long lines, long alerts, long badLines) {
    }

    private AlertReader() {
    }

    public static Summary read(Path file, Consumer<Alert> alerts, Consumer<BadLine> bad) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            long lineNo = 0;
            long ok = 0;
            long failed = 0;
            String line;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                Alert alert;
                try {
                    alert = AlertParser.parse(line);
                } catch (InvalidAlertException e) {
                    failed++;
                    bad.accept(new BadLine(file, lineNo, e.getMessage()));
                    continue;
                }
                ok++;
                alerts.accept(alert);
            }
            return new Summary(lineNo, ok, failed);
        }
    }
}
