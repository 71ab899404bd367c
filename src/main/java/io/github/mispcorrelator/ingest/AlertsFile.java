package io.github.mispcorrelator.ingest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads whole lines from a growing {@code alerts.json}, by byte position, across rotation: Wazuh moves the file away
 * and starts a new one at the same path. The open file is read to its end before the new one is started, so lines
 * written just before the rotation are not lost. Blocking I/O: call it from a worker.
 */
final class AlertsFile implements AutoCloseable {
    /** A complete line and the position just after it (what to commit once the line is done). */
    record Line(String text, String fileKey, long startPosition, long endPosition) {
    }

    /** The lines read, and whether more are waiting right now. */
    record Chunk(List<Line> lines, boolean more) {
    }

    private final Path path;
    private FileChannel channel;
    private String fileKey;
    private long position;

    AlertsFile(Path path) {
        this.path = path;
    }

    /** Opens the file at the path now, at {@code position} (clamped to its size). False when there is no file yet. */
    boolean open(long startPosition, String expectedKey) throws IOException {
        close();
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return false;
        }
        fileKey = key(path);
        long size = channel.size();
        position = expectedKey != null && !expectedKey.equals(fileKey) ? 0 : Math.min(Math.max(0, startPosition), size);
        return true;
    }

    boolean isOpen() {
        return channel != null;
    }

    String fileKey() {
        return fileKey;
    }

    long size() throws IOException {
        return channel.size();
    }

    /** Moves back to a position (to re-read lines whose processing must be retried). */
    void seek(String key, long to) {
        if (key.equals(fileKey)) {
            position = to;
        }
    }

    /**
     * Up to {@code maxLines} complete lines from the current position. At the end of the open file, a file with another
     * identity at the path (rotation) or a shorter file (truncation) is opened from its start.
     */
    Chunk read(int maxLines, int maxBytes) throws IOException {
        if (channel == null && !open(0, null)) {
            return new Chunk(List.of(), false);
        }
        List<Line> lines = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(maxBytes);
        int n = channel.read(buffer, position);
        if (n > 0) {
            byte[] bytes = buffer.array();
            int start = 0;
            for (int i = 0; i < n && lines.size() < maxLines; i++) {
                if (bytes[i] == '\n') {
                    String text = new String(bytes, start, i - start, StandardCharsets.UTF_8);
                    lines.add(new Line(text.endsWith("\r") ? text.substring(0, text.length() - 1) : text, fileKey,
                            position + start, position + i + 1));
                    start = i + 1;
                }
            }
            if (start == 0 && n == maxBytes) {
                // one line longer than the read buffer: skip it whole rather than stall on it
                long end = findNewline(position + n);
                if (end >= 0) {
                    lines.add(new Line("", fileKey, position, end + 1));
                    start = (int) Math.min(Integer.MAX_VALUE, end + 1 - position);
                }
            }
            position += start;
            if (start == 0 && rotatedAway()) {
                // the old file ends in a line cut short (a crash, a full disk) and will never grow: drop it, move on
                open(0, null);
                return new Chunk(lines, true);
            }
            return new Chunk(lines, start > 0 && (start < n || n == maxBytes));
        }
        // at the end of the open file: has it been rotated or truncated?
        if (rotatedAway()) {
            open(0, null);
            return new Chunk(lines, true);
        }
        return new Chunk(lines, false);
    }

    /** Whether another file now stands at the path, or the file there was truncated below our position. */
    private boolean rotatedAway() throws IOException {
        String current = keyOrNull(path);
        return current != null && (!current.equals(fileKey) || Files.size(path) < position);
    }

    private long findNewline(long from) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        long at = from;
        while (true) {
            b.clear();
            int n = channel.read(b, at);
            if (n <= 0) {
                return -1;
            }
            for (int i = 0; i < n; i++) {
                if (b.get(i) == '\n') {
                    return at + i;
                }
            }
            at += n;
        }
    }

    static String key(Path path) throws IOException {
        Object k = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        return k == null ? "size-unknown" : k.toString();
    }

    private static String keyOrNull(Path path) {
        try {
            return key(path);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }
}
