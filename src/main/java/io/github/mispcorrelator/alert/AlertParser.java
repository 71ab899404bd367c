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
import java.util.Arrays;
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

    /**
     * @param body becomes the alert's own (it is read lazily, field by field): not to be changed afterwards
     * @throws InvalidAlertException when the bytes are not one JSON object
     */
    public static Alert parse(byte[] body) {
        return parse(body, false);
    }

    /**
     * @throws InvalidAlertException when the {@code length} bytes from {@code offset} are not one JSON object; the
     *         bytes are copied (a batch's lines share its body, and an alert may outlive the request in buffers)
     */
    public static Alert parse(byte[] bytes, int offset, int length) {
        return offset == 0 && length == bytes.length ? parse(bytes, true)
                : parse(Arrays.copyOfRange(bytes, offset, offset + length), false);
    }

    private static Alert parse(byte[] bytes, boolean copy) {
        // one streaming pass checks the whole text and notes where each value lies; values are decoded as the rules
        // ask for them (issue 16). Text it refuses is parsed as a tree, as before, to say why in the same words.
        AlertDocument document = bytes.length <= MAX_LAZY ? AlertDocument.read(copy ? bytes.clone() : bytes) : null;
        Alert alert;
        if (document != null) {
            int id = document.member(0, "id");
            boolean hasId = id >= 0 && (document.kind(id) == AlertDocument.NULL
                    || !document.isContainer(id) && !document.text(id).isBlank());
            alert = new Alert(document, hasId ? null : "sha256:" + digest(bytes, 0, bytes.length));
        } else {
            alert = tree(bytes);
        }
        alert.instant().ifPresent(t -> {
            if (t.isBefore(Alert.EARLIEST) || !t.isBefore(Alert.LATEST)) {
                throw new InvalidAlertException("timestamp: " + Alert.abbreviate(alert.getTimestamp(), 40)
                        + " is outside " + Alert.EARLIEST + " .. " + Alert.LATEST);
            }
        });
        return alert;
    }

    /**
     * Alerts longer than the longest string the tree parser accepts are parsed as trees, so that such a string is
     * refused at once as before (the streaming pass skips strings without measuring them).
     */
    private static final int MAX_LAZY = MAPPER.getFactory().streamReadConstraints().getMaxStringLength();

    /** The alert as a whole tree: what every alert was parsed to before, now only for text the pass refused. */
    private static Alert tree(byte[] bytes) {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
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
        return new Alert((ObjectNode) node, hasId ? null : "sha256:" + digest(bytes, 0, bytes.length));
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
