package io.github.mispcorrelator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A real HTTP server standing in for MISP, in the bench's process: it answers {@code POST /attributes/restSearch}
 * ({@code value} a string, a list or {@code {"OR":[…]}}; {@code type} likewise, honoured when present) with the
 * attributes of the planted bad values, after a fixed latency, and {@code GET /attributes/restSearch/value:X} as the
 * old script asks. It counts requests and values asked, so a run can report MISP requests per alert. With a mirror
 * size ({@code bench --sweep}'s mirror series) it also answers the local mirror's paged pulls ({@code page}/{@code
 * limit}, no {@code value}): the planted bad values' attributes first, then generated ones that no alert carries, up to
 * that many attributes, 500 events shared among them.
 */
final class FakeMispServer implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One bad value: its type, its pool and index (for stable ids), and how many attributes match it. */
    private record Bad(IndicatorType type, int namespace, int index, int attributes) {
    }

    /** One attribute of a planted bad value, in the order the mirror's pages list them. */
    private record Planted(String value, Bad bad, int n) {
    }

    /** An answer's body and the {@code X-Result-Count} MISP would send with it. */
    private record Answer(String body, int resultCount) {
    }

    /** Counters at one moment; subtract two to get a phase's share. */
    record Counters(long requests, long legacyRequests, long values, long repeatedValues, long distinctValues,
                    long answeredAttributes, int maxValuesPerRequest, int maxInFlight, long abandoned) {
        Counters minus(Counters before) {
            return new Counters(requests - before.requests, legacyRequests - before.legacyRequests,
                    values - before.values, repeatedValues - before.repeatedValues,
                    distinctValues - before.distinctValues, answeredAttributes - before.answeredAttributes,
                    maxValuesPerRequest, maxInFlight, abandoned - before.abandoned);
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final long latencyMs;
    private final Map<String, Bad> bad = new HashMap<>();
    private final List<Planted> planted = new ArrayList<>();
    private final long mirrorAttributes;
    private final long timestamp = Instant.now().minusSeconds(86_400).getEpochSecond();

    private final LongAdder requests = new LongAdder();
    private final LongAdder legacyRequests = new LongAdder();
    private final LongAdder values = new LongAdder();
    private final LongAdder repeated = new LongAdder();
    private final LongAdder answered = new LongAdder();
    /** Every value asked, with when it was first asked (nanoTime). */
    private final Map<String, Long> asked = new ConcurrentHashMap<>();
    private final AtomicInteger maxValues = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    /** The first values asked a second time, to show which ones a cache or single-flight let through. */
    private final Queue<String> repeatedSample = new ConcurrentLinkedQueue<>();

    FakeMispServer(long latencyMs, List<Workload.Pool> pools) {
        this(latencyMs, pools, 0);
    }

    /** @param mirrorAttributes attributes a mirror's full pull finds (at least the planted ones); 0: no pages */
    FakeMispServer(long latencyMs, List<Workload.Pool> pools, long mirrorAttributes) {
        this.latencyMs = latencyMs;
        for (Workload.Pool pool : pools) {
            for (IndicatorType t : Workload.TYPES) {
                for (int k = 0; k < pool.size(t); k++) {
                    if (pool.isBad(t, k)) {
                        Bad b = new Bad(t, pool.namespace, k, pool.attributes(t, k));
                        String value = pool.value(t, k);
                        bad.put(value, b);
                        for (int n = 0; n < b.attributes(); n++) {
                            planted.add(new Planted(value, b, n));
                        }
                    }
                }
            }
        }
        this.mirrorAttributes = mirrorAttributes > 0 ? Math.max(mirrorAttributes, planted.size()) : 0;
        // its own event loops: the load generator's work must not delay MISP's answers
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(1));
        try {
            this.server = vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true).setIdleTimeout(0))
                    .requestHandler(this::handle)
                    .listen(0, "127.0.0.1")
                    .await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("fake MISP cannot listen: " + e.getMessage(), e);
        }
    }

    String url() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    int badValues() {
        return bad.size();
    }

    /** What a mirror's full pull finds: 0 without a mirror size. */
    long mirrorAttributes() {
        return mirrorAttributes;
    }

    Counters counters() {
        return new Counters(requests.sum(), legacyRequests.sum(), values.sum(), repeated.sum(), asked.size(),
                answered.sum(), maxValues.get(), maxInFlight.get(), abandoned.get());
    }

    /** Starts a new maximum window for the per-phase maxima. */
    void resetMaxima() {
        maxValues.set(0);
        maxInFlight.set(0);
    }

    /** Values asked more than once (the first few of the whole run), and whether MISP knows them. */
    List<String> repeatedSample() {
        List<String> out = new ArrayList<>();
        for (String v : repeatedSample) {
            String value = v.substring(0, v.indexOf(' '));
            out.add(v + (bad.containsKey(value) ? " (known to MISP)" : ""));
        }
        return out;
    }

    long refused() {
        return refused.get();
    }

    private void handle(HttpServerRequest req) {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        req.body().onComplete(ar -> {
            if (ar.failed()) {
                inFlight.decrementAndGet();
                return;
            }
            String path = req.path();
            String answer;
            int status = 200;
            int resultCount = -1;
            if (req.method().name().equals("POST") && path.startsWith("/attributes/restSearch")) {
                requests.increment();
                Answer a = search(ar.result());
                if (a == null) {
                    status = 400;
                    answer = "{\"name\":\"Invalid request\",\"message\":\"body is not a restSearch filter\"}";
                    refused.incrementAndGet();
                } else {
                    answer = a.body();
                    resultCount = a.resultCount();
                }
            } else if (req.method().name().equals("GET") && path.startsWith("/attributes/restSearch/value:")) {
                legacyRequests.increment();
                String value = URLDecoder.decode(path.substring("/attributes/restSearch/value:".length()),
                        StandardCharsets.UTF_8);
                answer = answer(List.of(value), null, false);
            } else {
                status = 404;
                answer = "{\"name\":\"Not Found\",\"message\":\"Not Found\",\"url\":\"" + path + "\"}";
            }
            int code = status;
            String body = answer;
            int count = resultCount;
            Runnable send = () -> {
                inFlight.decrementAndGet();
                if (req.response().closed()) {
                    abandoned.incrementAndGet(); // the client gave up (timeout) before the answer
                    return;
                }
                req.response().setStatusCode(code).putHeader("Content-Type", "application/json");
                if (code == 200 && path.startsWith("/attributes/restSearch")) {
                    // as MISP: the page's row count (AppController.php:1442), plus one when a mirror's page came back full
                    req.response().putHeader("X-Result-Count", Integer.toString(count >= 0 ? count
                            : occurrences(body, "\"event_id\":\"")));
                }
                req.response().end(Buffer.buffer(body));
            };
            if (latencyMs > 0) {
                vertx.setTimer(latencyMs, t -> send.run());
            } else {
                send.run();
            }
        });
    }

    /** The answer to a restSearch body, or null when the body is not a filter. */
    String restSearch(Buffer body) {
        Answer a = search(body);
        return a == null ? null : a.body();
    }

    private Answer search(Buffer body) {
        JsonNode filter;
        try {
            filter = MAPPER.readTree(body.getBytes());
        } catch (Exception e) {
            return null;
        }
        if (filter == null || !filter.isObject()) {
            return null;
        }
        JsonNode request = filter.has("request") ? filter.path("request") : filter;
        List<String> asked = list(request.path("value"));
        if (asked.isEmpty()) {
            return mirrorAttributes > 0 && request.has("page") && request.has("limit") ? mirrorPage(request) : null;
        }
        List<String> typeList = list(request.path("type"));
        return new Answer(answer(asked, typeList.isEmpty() ? null : new HashSet<>(typeList), true), -1);
    }

    /**
     * A page of a mirror's pull in id order. An incremental pull (changed since a timestamp) or one by uuid finds
     * nothing: nothing here changes.
     */
    private Answer mirrorPage(JsonNode request) {
        if (request.has("timestamp") || request.has("event_timestamp") || request.has("publish_timestamp")
                || request.has("uuid")) {
            return new Answer("{\"response\":{\"Attribute\":[]}}", 0);
        }
        int limit = Math.max(1, request.path("limit").asInt());
        long from = (Math.max(1, request.path("page").asLong()) - 1) * limit;
        long to = Math.min(mirrorAttributes, from + limit);
        StringBuilder sb = new StringBuilder(64 + 720 * (int) Math.max(0, to - from));
        sb.append("{\"response\":{\"Attribute\":[");
        for (long i = from; i < to; i++) {
            if (i > from) {
                sb.append(',');
            }
            if (i < planted.size()) {
                Planted p = planted.get((int) i);
                String type = p.n() == 0 ? primaryType(p.bad().type()) : compositeType(p.bad().type());
                attribute(sb, i + 1, p.value(), eventOf(p.bad()), p.bad().type(), p.n(), type);
            } else {
                filler(sb, i);
            }
        }
        int rows = (int) Math.max(0, to - from);
        return new Answer(sb.append("]}}").toString(), rows + (rows >= limit ? 1 : 0));
    }

    /** Attribute {@code i} of the mirror beyond the planted ones: a value of the README's mix no alert carries. */
    private void filler(StringBuilder sb, long i) {
        int bucket = (int) (i % 20);
        // 30 % SHA-256, 15 % MD5, 10 % SHA-1, 20 % IPv4 (10/8, no pool's), 15 % domains, 10 % URLs
        IndicatorType t = bucket < 6 ? IndicatorType.SHA256 : bucket < 9 ? IndicatorType.MD5
                : bucket < 11 ? IndicatorType.SHA1 : bucket < 15 ? IndicatorType.IP
                : bucket < 18 ? IndicatorType.DOMAIN : IndicatorType.URL;
        String value = switch (t) {
            case SHA256 -> fillerHex(i, 64);
            case MD5 -> fillerHex(i, 32);
            case SHA1 -> fillerHex(i, 40);
            case IP -> "10." + (i >>> 16 & 0xff) + "." + (i >>> 8 & 0xff) + "." + (i & 0xff);
            case DOMAIN -> "f" + Long.toString(i, 36) + ".filler.bench.test";
            default -> "http://f" + Long.toString(i, 36) + ".filler.bench.test/x";
        };
        String type = t == IndicatorType.URL ? "url" : primaryType(t);
        attribute(sb, i + 1, value, 1 + Math.floorMod(Workload.mix(13, 0, i), 500L), t, 0, type);
    }

    private static String fillerHex(long i, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int salt = 0; sb.length() < length; salt++) {
            String h = Long.toHexString(Workload.mix(0x5eed, 400 + salt, i));
            sb.append("0".repeat(16 - h.length())).append(h);
        }
        return sb.substring(0, length);
    }

    private static long eventOf(Bad b) {
        return 1 + Math.floorMod(Workload.mix(7, b.namespace(), b.index()), 500L);
    }

    private static int occurrences(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    /** {@code "x"}, {@code ["x","y"]} or {@code {"OR":["x","y"]}} as a list. */
    private static List<String> list(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isTextual()) {
            out.add(node.asText());
        } else if (node.isArray()) {
            node.forEach(n -> out.add(n.asText()));
        } else if (node.isObject() && node.has("OR")) {
            return list(node.path("OR"));
        }
        return out;
    }

    /** @param track count the values as asked by the service (the old script's lookups are not) */
    private String answer(List<String> askedValues, Set<String> types, boolean track) {
        if (!track) {
            return attributes(askedValues, types);
        }
        values.add(askedValues.size());
        maxValues.accumulateAndGet(askedValues.size(), Math::max);
        for (String v : askedValues) {
            long now = System.nanoTime();
            Long firstAsked = asked.putIfAbsent(v, now);
            if (firstAsked != null) {
                repeated.increment();
                if (repeatedSample.size() < 10) {
                    repeatedSample.add(v + " (again after " + (now - firstAsked) / 1_000_000 + " ms)");
                }
            }
        }
        return attributes(askedValues, types);
    }

    private String attributes(List<String> askedValues, Set<String> types) {
        StringBuilder sb = new StringBuilder(64 + 64 * askedValues.size());
        sb.append("{\"response\":{\"Attribute\":[");
        boolean first = true;
        int count = 0;
        for (String v : askedValues) {
            Bad b = bad.get(v);
            if (b == null) {
                continue;
            }
            for (int n = 0; n < b.attributes(); n++) {
                String type = n == 0 ? primaryType(b.type()) : compositeType(b.type());
                if (types != null && !types.contains(type)) {
                    continue;
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                attribute(sb, b.namespace() * 10_000_000L + b.index() * 2L + n, v, eventOf(b), b.type(), n, type);
                count++;
            }
        }
        answered.add(count);
        return sb.append("]}}").toString();
    }

    private void attribute(StringBuilder sb, long id, String value, long eventId, IndicatorType indicator, int n,
                           String type) {
        int threatLevel = 1 + (int) (eventId % 4);
        String attributeValue = switch (type) {
            case "ip-dst|port" -> value + "|443";
            case "filename|md5", "filename|sha1", "filename|sha256", "filename|imphash" -> "payload.bin|" + value;
            default -> value;
        };
        sb.append("{\"id\":\"").append(id)
                .append("\",\"event_id\":\"").append(eventId)
                .append("\",\"object_id\":\"0\",\"object_relation\":null,\"category\":\"")
                .append(indicator == IndicatorType.IP || indicator == IndicatorType.DOMAIN || indicator == IndicatorType.URL
                        ? "Network activity" : "Payload delivery")
                .append("\",\"type\":\"").append(type)
                .append("\",\"to_ids\":true,\"uuid\":\"")
                .append(UUID.nameUUIDFromBytes(("attribute|" + value + "|" + n).getBytes(StandardCharsets.UTF_8)))
                .append("\",\"timestamp\":\"").append(timestamp)
                .append("\",\"distribution\":\"5\",\"sharing_group_id\":\"0\",\"comment\":\"\",\"deleted\":false,")
                .append("\"disable_correlation\":false,\"first_seen\":null,\"last_seen\":null,\"value\":\"")
                .append(attributeValue)
                .append("\",\"Event\":{\"org_id\":\"1\",\"distribution\":\"1\",\"id\":\"").append(eventId)
                .append("\",\"info\":\"Bench campaign ").append(eventId)
                .append("\",\"orgc_id\":\"1\",\"uuid\":\"")
                .append(UUID.nameUUIDFromBytes(("event|" + eventId).getBytes(StandardCharsets.UTF_8)))
                .append("\",\"threat_level_id\":\"").append(threatLevel)
                .append("\",\"published\":true},\"Tag\":[{\"id\":\"1\",\"name\":\"tlp:green\",\"colour\":\"#33FF00\"}]}");
    }

    static String primaryType(IndicatorType t) {
        return switch (t) {
            case IP -> "ip-dst";
            case DOMAIN -> "domain";
            default -> t.id();
        };
    }

    static String compositeType(IndicatorType t) {
        return switch (t) {
            case IP -> "ip-dst|port";
            case DOMAIN -> "hostname";
            default -> "filename|" + t.id();
        };
    }

    @Override
    public void close() {
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the bench is ending anyway
        }
    }
}
