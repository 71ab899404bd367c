package io.github.mispcorrelator.http;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** NDJSON split on the bytes (issue 16) keeps the lines, numbers and blank counts the text split gave. */
class BatchSplitTest {

    /** What the former split did: decode the body, {@link String#lines()}, keep the non-blank ones. */
    private static List<String> byText(String body, List<Integer> numbers, int[] blank) {
        List<String> out = new ArrayList<>();
        int[] n = {0};
        body.lines().forEach(line -> {
            n[0]++;
            if (line.isBlank()) {
                blank[0]++;
            } else {
                out.add(line);
                numbers.add(n[0]);
            }
        });
        return out;
    }

    private static void assertSameAsText(String body) {
        List<Integer> numbers = new ArrayList<>();
        int[] blank = {0};
        List<String> expected = byText(body, numbers, blank);
        BatchIngest.Lines lines = BatchIngest.split(Buffer.buffer(body.getBytes(StandardCharsets.UTF_8)), 1000);
        assertThat(lines.lines()).extracting(l -> new String(l.bytes(), l.offset(), l.length(), StandardCharsets.UTF_8))
                .as("lines of %s", body).isEqualTo(expected);
        assertThat(lines.lines()).extracting(BatchIngest.Line::number).isEqualTo(numbers);
        assertThat(lines.blank()).isEqualTo(blank[0]);
    }

    @Test
    void linesEndAtLfCrlfOrALoneCrAndWhiteSpaceLinesAreBlank() {
        assertSameAsText("{\"a\":1}");
        assertSameAsText("{\"a\":1}\n{\"b\":2}\n");
        assertSameAsText("{\"a\":1}\r\n{\"b\":2}\r\n\r\n");
        assertSameAsText("{\"a\":1}\r{\"b\":2}\n\n\n{\"c\":3}");
        assertSameAsText("\n\n  \t \n{\"a\":1}\n \u000B\f\n{\"b\":2}");
        // multi-byte UTF-8 in a line, and lines of Unicode white space only (U+2003, U+3000)
        assertSameAsText("{\"a\":\"é日本\"}\n\u2003\u3000\n{\"b\":\"\uD83D\uDE00\"}\n");
        assertSameAsText("\u2003{\"a\":1}\n");
    }

    @Test
    void anArrayIsSplitIntoItsElementsAfterAnyLeadingWhiteSpace() {
        for (String body : List.of("[{\"a\":1},{\"b\":\"é\"}]", "\n \t[{\"a\":1},{\"b\":\"é\"}]", "\u2003[{\"a\":1},{\"b\":\"é\"}]")) {
            BatchIngest.Lines lines = BatchIngest.split(Buffer.buffer(body.getBytes(StandardCharsets.UTF_8)), 1000);
            assertThat(lines.lines()).extracting(l -> new String(l.bytes(), l.offset(), l.length(), StandardCharsets.UTF_8))
                    .containsExactly("{\"a\":1}", "{\"b\":\"é\"}");
            assertThat(lines.lines()).extracting(BatchIngest.Line::number).containsExactly(1, 2);
        }
    }

    @Test
    void emptyTooLongAndBrokenBatchesAreRefusedWhole() {
        assertThatThrownBy(() -> BatchIngest.split(Buffer.buffer(" \n\r\n\t"), 10))
                .isInstanceOfSatisfying(BatchIngest.Refused.class, r -> assertThat(r.status).isEqualTo(400));
        assertThatThrownBy(() -> BatchIngest.split(Buffer.buffer("{}\n".repeat(11)), 10))
                .isInstanceOfSatisfying(BatchIngest.Refused.class, r -> assertThat(r.status).isEqualTo(413));
        assertThatThrownBy(() -> BatchIngest.split(Buffer.buffer("[{}".repeat(3)), 10))
                .isInstanceOfSatisfying(BatchIngest.Refused.class, r -> assertThat(r.status).isEqualTo(400));
        assertThatThrownBy(() -> BatchIngest.split(Buffer.buffer("[" + "{},".repeat(10) + "{}]"), 10))
                .isInstanceOfSatisfying(BatchIngest.Refused.class, r -> assertThat(r.status).isEqualTo(413));
    }
}
