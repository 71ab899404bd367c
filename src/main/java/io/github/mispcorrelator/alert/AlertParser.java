package io.github.mispcorrelator.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mispcorrelator.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Turns the text of one alert into an {@link Alert}, or says precisely why it cannot. */
public final class AlertParser {
    /** Strict: duplicate keys and trailing tokens refused, nesting bounded (see {@link Json}). */
    private static final ObjectMapper MAPPER = Json.MAPPER;

    private AlertParser() {
    }

    /** @throws InvalidAlertException when the text is not one JSON object */
    public static Alert parse(String text) {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    /** @throws InvalidAlertException when the bytes are not one JSON object */
    public static Alert parse(byte[] body) {
        return parse(body, 0, body.length);
    }

    /** @throws InvalidAlertException when the {@code length} bytes from {@code offset} are not one JSON object */
    public static Alert parse(byte[] bytes, int offset, int length) {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes, offset, length);
        } catch (JsonProcessingException e) {
            throw new InvalidAlertException("malformed JSON: " + Json.problem(e)
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() : ""));
        } catch (IOException e) {
            throw new InvalidAlertException("unreadable body: " + e.getMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw new InvalidAlertException("empty body: expected one Wazuh alert as a JSON object");
        }
        if (!node.isObject()) {
            throw new InvalidAlertException("expected one Wazuh alert as a JSON object, got " + kind(node));
        }
        // the digest is only the id of an alert that has none: not worth computing for every body
        JsonNode id = node.get("id");
        boolean hasId = id != null && id.isValueNode() && !id.asText().isBlank();
        Alert alert = new Alert((ObjectNode) node, hasId ? null : "sha256:" + digest(bytes, offset, length));
        alert.instant().ifPresent(t -> {
            if (t.isBefore(Alert.EARLIEST) || !t.isBefore(Alert.LATEST)) {
                throw new InvalidAlertException("timestamp: " + Alert.abbreviate(alert.getTimestamp(), 40)
                        + " is outside " + Alert.EARLIEST + " .. " + Alert.LATEST);
            }
        });
        return alert;
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase();
        };
    }

    private static String digest(byte[] bytes, int offset, int length) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(bytes, offset, length);
            return HexFormat.of().formatHex(sha256.digest()).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
