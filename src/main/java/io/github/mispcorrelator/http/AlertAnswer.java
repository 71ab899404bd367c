package io.github.mispcorrelator.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.HitJson;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.wazuh.AnalysisdMessage;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The answer for one alert: the body of {@code POST /v1/alerts}, a batch line's result, and (with what fired) of
 * {@code POST /v1/rules/test}. Hits render through {@link HitJson}, events through {@link WazuhEvents#of}, once each
 * (the analysisd lines are made from those same events). The answers of {@code /v1/alerts} and of the batch are
 * written straight into the response buffer by a Jackson generator ({@link #encoded}, {@link #writeFields}; issue
 * 16): the same bytes as the {@link JsonObject} of {@link #of} encoded, without building it.
 */
public final class AlertAnswer {
    /** Vert.x encodes its JSON with a default factory: the same one here gives the same bytes. */
    private static final JsonFactory FACTORY = new JsonFactory();

    private AlertAnswer() {
    }

    /** {@code {"alert_id", "indicators", "hits", "events", "ruleset"}}. */
    static JsonObject of(Correlation c) {
        return of(c, false);
    }

    /**
     * As {@link #of(Correlation)}; with {@code analysisdLines} ({@code ?format=analysisd}) also {@code analysisd}: each
     * event as its analysisd message ({@code 1:<location>:<json>}), what the integratord forwarder writes to the
     * socket as is, and {@code analysisd_unfit}, how many events were left out because even shrunk they do not fit
     * one message.
     */
    public static JsonObject of(Correlation c, boolean analysisdLines) {
        List<JsonObject> events = WazuhEvents.of(c);
        JsonArray indicators = new JsonArray();
        c.indicators().forEach(i -> indicators.add(HitJson.indicatorWithRule(i)));
        JsonArray hits = new JsonArray();
        c.hits().forEach(h -> hits.add(HitJson.answer(h)));
        JsonObject answer = new JsonObject()
                .put("alert_id", c.alert().getId())
                .put("indicators", indicators)
                .put("hits", hits)
                .put("events", new JsonArray(events))
                .put("ruleset", c.ruleset());
        if (analysisdLines) {
            AnalysisdMessage.Lines lines = AnalysisdMessage.lines(c.alert(), events);
            answer.put("analysisd", new JsonArray(lines.lines())).put("analysisd_unfit", lines.unfit());
        }
        return answer;
    }

    /** {@link #of(Correlation, boolean)}, encoded: written into the buffer as it goes. */
    public static Buffer encoded(Correlation c, boolean analysisdLines) {
        BufferStream out = new BufferStream(Buffer.buffer(512));
        try (JsonGenerator g = generator(out)) {
            g.writeStartObject();
            List<JsonObject> events = WazuhEvents.of(c);
            writeFields(g, c.alert().getId(), c.indicators(), c.hits(), events);
            g.writeStringField("ruleset", c.ruleset());
            if (analysisdLines) {
                AnalysisdMessage.Lines lines = AnalysisdMessage.lines(c.alert(), events);
                g.writeFieldName("analysisd");
                g.writeStartArray();
                for (String line : lines.lines()) {
                    g.writeString(line);
                }
                g.writeEndArray();
                g.writeNumberField("analysisd_unfit", lines.unfit());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.buffer();
    }

    /**
     * Writes {@code "alert_id", "indicators", "hits", "events"} into the open object: the answer but its
     * {@code ruleset} (a batch's lines share it). The small parts (an indicator, a hit, an event) are still built as
     * {@link HitJson} and {@link WazuhEvents} build them, so their fields are defined once.
     */
    static void writeFields(JsonGenerator g, String alertId, List<Indicator> indicators, List<Hit> hits,
                            List<JsonObject> events) throws IOException {
        g.writeStringField("alert_id", alertId);
        g.writeFieldName("indicators");
        g.writeStartArray();
        for (Indicator i : indicators) {
            JacksonCodec.encodeJson(HitJson.indicatorWithRule(i), g);
        }
        g.writeEndArray();
        g.writeFieldName("hits");
        g.writeStartArray();
        for (Hit h : hits) {
            JacksonCodec.encodeJson(HitJson.answer(h), g);
        }
        g.writeEndArray();
        g.writeFieldName("events");
        g.writeStartArray();
        for (JsonObject e : events) {
            JacksonCodec.encodeJson(e, g);
        }
        g.writeEndArray();
    }

    static JsonGenerator generator(OutputStream out) throws IOException {
        return FACTORY.createGenerator(out);
    }

    /** The body of {@code POST /v1/rules/test}: the alert's answer plus which rules fired and what went unchecked. */
    static JsonObject ofTest(Correlation c) {
        JsonObject errors = new JsonObject();
        c.lookupErrors().forEach((i, e) -> errors.put(i.key(), e));
        return of(c)
                .put("fired", new JsonObject()
                        .put("extract", new JsonArray(List.copyOf(c.firedRules())))
                        .put("score", new JsonArray(List.copyOf(c.scoringRules()))))
                .put("lookup_errors", errors)
                .put("stored", false);
    }

    /** A Vert.x buffer as the generator's output: the generator hands over its own chunks, appended as they come. */
    static final class BufferStream extends OutputStream {
        private final Buffer buffer;

        BufferStream(Buffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public void write(int b) {
            buffer.appendByte((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            buffer.appendBytes(b, off, len);
        }

        Buffer buffer() {
            return buffer;
        }
    }
}
