package io.github.mispcorrelator.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One Kafka record's value as a Wazuh alert, as the shippers write it: the alert itself (Filebeat or Vector decoding
 * the JSON, Fluent Bit with {@code Merge_Log}, Logstash's json codec); or an envelope holding the alert's JSON text in
 * {@code message} (Filebeat, Logstash's plain codec, Vector's default), {@code log} (Fluent Bit's tail input) or
 * {@code event.original} (Logstash with ECS); or that text as a JSON string. An object with a {@code rule} object is
 * the alert; extra envelope fields ({@code @timestamp}, {@code host}, {@code input}...) stay in it.
 */
final class KafkaRecords {
    /** Envelopes inside envelopes: a shipper writing to Kafka what another shipper read from Kafka. */
    private static final int MAX_DEPTH = 3;

    private KafkaRecords() {
    }

    /** @throws InvalidAlertException with the reason that goes to the dead-letter topic */
    static Alert alert(byte[] value) {
        if (value == null || value.length == 0) {
            throw new InvalidAlertException("empty record: expected one Wazuh alert as JSON");
        }
        return alert(value, 0);
    }

    private static Alert alert(byte[] text, int depth) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new InvalidAlertException("malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (node != null && node.isTextual() && depth < MAX_DEPTH) {
            return alert(node.textValue().getBytes(StandardCharsets.UTF_8), depth + 1);
        }
        if (node == null || !node.isObject()) {
            throw new InvalidAlertException("expected a Wazuh alert as a JSON object, got "
                    + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        if (node.path("rule").isObject()) {
            // parsed again by the one parser every ingest uses: the same id for an alert without one, the same limits
            return AlertParser.parse(text);
        }
        if (depth < MAX_DEPTH) {
            for (JsonNode inner : new JsonNode[]{node.get("message"), node.get("log"), node.path("event").get("original")}) {
                if (inner != null && inner.isTextual() && inner.textValue().strip().startsWith("{")) {
                    return alert(inner.textValue().getBytes(StandardCharsets.UTF_8), depth + 1);
                }
                if (inner != null && inner.isObject() && inner.path("rule").isObject()) {
                    return alert(inner.toString().getBytes(StandardCharsets.UTF_8), depth + 1);
                }
            }
        }
        throw new InvalidAlertException("not a Wazuh alert: no rule object, and no message, log or event.original "
                + "field holding one");
    }
}
