package io.github.mispcorrelator.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The service's one Jackson {@link ObjectMapper}, at the bottom of the package order: alerts, MISP answers, feeds,
 * stored rows and test cases are all read with it. Strict, because most of what it reads comes from outside:
 * trailing tokens and duplicate keys are refused (a second {@code "id"} must not silently win), and nesting is
 * bounded so a hostile body cannot make the parser recurse without end. Thread-safe once built.
 */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // duplicate keys are refused by the tree as it is built (the map's own put tells), not by the parser's
            // STRICT_DUPLICATE_DETECTION, which kept a second set of names for every object: same refusal, same
            // message ("Duplicate field 'id'"), a few percent of the parse less (issue 16). Only trees are read here.
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    /**
     * Streaming parsers bounded as {@link #MAPPER}'s, for alerts read without building a tree (issue 16). They do
     * not refuse duplicate keys: their reader does ({@code alert.AlertDocument}).
     */
    public static final JsonFactory STREAMS = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build())
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build());
    }

    /**
     * What was wrong, in the reader's words: Jackson's own message without the tail that names its configuration
     * ("Duplicate field 'id' for `ObjectNode`: not allowed when `DeserializationFeature…` enabled" → "Duplicate
     * field 'id'").
     */
    public static String problem(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage());
        int tail = message.indexOf(" for `ObjectNode`: not allowed when");
        return tail > 0 ? message.substring(0, tail) : message;
    }

    private Json() {
    }
}
