package io.github.mispcorrelator.alert;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
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

    /** Counts bytes as they are read from the file, before decompression. */
    private static final class CountingInputStream extends FilterInputStream {
        private final LongConsumer listener;
        private long count;

        CountingInputStream(InputStream in, LongConsumer listener) {
            super(in);
            this.listener = listener;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                listener.accept(++count);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                count += n;
                listener.accept(count);
            }
            return n;
        }
    }

    public static Summary read(Path file, Consumer<Alert> alerts, Consumer<BadLine> bad) throws IOException {
        return read(file, alerts, bad, n -> { });
    }

    /**
     * @param fileBytesRead told, now and then, how many bytes of the file (compressed, for .gz) have been consumed,
     *                      for progress against the file size
     */
    public static Summary read(Path file, Consumer<Alert> alerts, Consumer<BadLine> bad,
                               LongConsumer fileBytesRead) throws IOException {
        try (InputStream raw = new CountingInputStream(Files.newInputStream(file), fileBytesRead);
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
