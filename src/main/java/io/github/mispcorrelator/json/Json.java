package io.github.mispcorrelator.json;

import com.fasterxml.jackson.core.JsonParser;
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
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build());
    }

    private Json() {
    }
}
