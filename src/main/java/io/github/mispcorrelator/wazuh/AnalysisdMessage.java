package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Formats an event for analysisd's datagram socket ({@code queue/sockets/queue}): {@code 1:<location>:<json>}.
 * The location names the agent; analysisd splits it on {@code :} and {@code |}, so both are escaped — an IPv6
 * agent address written raw breaks the message.
 */
public final class AnalysisdMessage {
    /** analysisd reads at most this many bytes of one datagram. */
    public static final int MAX_BYTES = 65_535;

    private AnalysisdMessage() {
    }

    /**
     * The messages for an alert's events, ready for the socket (as text: the bytes are their UTF-8), and how many
     * events could not be made to fit one message even shrunk (left out).
     */
    public record Lines(List<String> lines, int unfit) {
    }

    /** {@link #format} of each event, for a forwarder that writes them to analysisd itself ({@code ?format=analysisd}). */
    public static Lines lines(Alert alert, List<JsonObject> events) {
        List<String> lines = new ArrayList<>(events.size());
        int unfit = 0;
        for (JsonObject e : events) {
            try {
                lines.add(new String(format(alert, e), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException tooLarge) {
                unfit++;
            }
        }
        return new Lines(lines, unfit);
    }

    /** {@code [001] (web-01) 10.0.0.5->misp}, escaped; {@code misp} for the manager's own alerts (agent 000). */
    public static String location(Alert alert) {
        String id = alert.getAgentId();
        if (id.isEmpty() || id.equals("000")) {
            return "misp";
        }
        String raw = "[" + id + "] (" + alert.getAgentName() + ") " + alert.getAgentIp() + "->misp";
        return escape(raw);
    }

    static String escape(String s) {
        return s.replace("|", "||").replace(":", "|:");
    }

    /**
     * The whole message. An event too large for one datagram loses its tag list, then has its long texts cut, so
     * the hit itself still reaches the SOC.
     */
    public static byte[] format(Alert alert, JsonObject event) {
        String prefix = "1:" + location(alert) + ":";
        byte[] bytes = (prefix + event.encode()).getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_BYTES) {
            return bytes;
        }
        JsonObject smaller = event.copy();
        JsonObject misp = smaller.getJsonObject("misp");
        if (misp != null) {
            misp.put("tags", new JsonArray()).put("truncated", true);
            for (String key : new String[]{"event_info", "value"}) {
                if (misp.getValue(key) instanceof String s && s.length() > 1024) {
                    misp.put(key, s.substring(0, 1024));
                }
            }
            JsonObject source = misp.getJsonObject("source");
            if (source != null && source.getString("description", "").length() > 1024) {
                source.put("description", source.getString("description").substring(0, 1024));
            }
        }
        bytes = (prefix + smaller.encode()).getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("event cannot be made to fit one analysisd message ("
                    + bytes.length + " bytes)");
        }
        return bytes;
    }
}
