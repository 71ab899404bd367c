package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.json.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks a MISP server with {@code POST /attributes/restSearch}, one request per alert carrying all its values, without
 * blocking. Every failure — unreachable, timeout, 403, 429, 5xx, a body that is not MISP's JSON — becomes an error for
 * the alert's indicators, worded so a SOC analyst knows what to fix.
 */
public final class MispClient implements MispSource {
    private final WebClient client;
    private final MispSettings settings;
    private final String searchUrl;

    public MispClient(Vertx vertx, MispSettings settings) {
        this.settings = settings;
        this.searchUrl = settings.url() + "/attributes/restSearch";
        WebClientOptions options = new WebClientOptions()
                .setUserAgent("misp-correlator")
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis()))
                .setKeepAlive(true);
        if (settings.url().startsWith("https:")) {
            options.setSsl(true);
            if (!settings.verifyTls()) {
                options.setTrustAll(true).setVerifyHost(false);
            }
        }
        // a few connections are plenty: one request carries all of an alert's values
        this.client = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(8));
    }

    @Override
    public String name() {
        // never the URL itself: it may carry user info or a key in its query (MispSettings#name)
        return settings.name();
    }

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        if (indicators.isEmpty()) {
            return Future.succeededFuture(LookupResult.empty());
        }
        Map<Indicator, String> unchecked = new LinkedHashMap<>();
        List<Indicator> asked = new ArrayList<>();
        for (Indicator i : indicators) {
            String why = RestSearchRequest.reinterpreted(i.value());
            if (why != null) {
                unchecked.put(i, why);
            } else {
                asked.add(i);
            }
        }
        if (asked.isEmpty()) {
            return Future.succeededFuture(new LookupResult(Map.of(), unchecked));
        }
        return search(asked, settings.timeout())
                .map(attributes -> new LookupResult(AttributeMatcher.match(asked, attributes), unchecked))
                .otherwise(failure -> {
                    Map<Indicator, String> errors = new LinkedHashMap<>(unchecked);
                    asked.forEach(i -> errors.put(i, failure.getMessage()));
                    return new LookupResult(Map.of(), errors);
                });
    }

    /**
     * One {@code POST /attributes/restSearch} for all the indicators; fails with {@link MispException}.
     *
     * @param timeout the longest this request may take, connection included
     */
    public Future<List<MispAttribute>> search(List<Indicator> indicators, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        return page(indicators, 1, new ArrayList<>(), deadline);
    }

    /**
     * restSearch answers at most {@link RestSearchRequest#LIMIT} attributes a page; while MISP's row count says the
     * page was full ({@link RestSearchRequest#morePages}: warning lists may shorten a full page) the next one is
     * fetched (within the same deadline) — a value with many attributes must not push the other values of its batch
     * off the first page.
     */
    private Future<List<MispAttribute>> page(List<Indicator> indicators, int page, List<MispAttribute> sofar,
                                             long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return Future.failedFuture(new MispException("MISP did not answer within "
                    + settings.timeout().toMillis() + " ms", true, null));
        }
        if (page > RestSearchRequest.MAX_PAGES) {
            return Future.failedFuture(new MispException("MISP holds more than " + RestSearchRequest.MAX_PAGES
                    * RestSearchRequest.LIMIT + " attributes for these values; not all could be read", false, null));
        }
        return restSearch(RestSearchRequest.body(indicators, settings, page), Duration.ofNanos(left))
                .recover(e -> Future.failedFuture(e instanceof MispException m && m.getMessage().startsWith("MISP did not answer")
                        // the analyst needs the configured timeout, not what was left of it for this page
                        ? new MispException("MISP did not answer within " + settings.timeout().toMillis() + " ms", true, null)
                        : e))
                .compose(response -> answer(response).map(attributes -> {
                    sofar.addAll(attributes);
                    return RestSearchRequest.morePages(resultCount(response), attributes.size(), RestSearchRequest.LIMIT,
                            settings.enforceWarninglist());
                }))
                .compose(more -> more ? page(indicators, page + 1, sofar, deadlineNanos) : Future.succeededFuture(sofar));
    }

    /** Posts a restSearch body with the headers and the bounded wait every request gets. */
    private Future<HttpResponse<Buffer>> restSearch(JsonObject body, Duration timeout) {
        long timeoutMs = Math.max(1, timeout.toMillis());
        var request = client.postAbs(searchUrl)
                .timeout(timeoutMs)
                .putHeader(HttpHeaders.ACCEPT.toString(), "application/json")
                .putHeader(HttpHeaders.CONTENT_TYPE.toString(), "application/json");
        if (settings.key() != null) {
            request.putHeader(HttpHeaders.AUTHORIZATION.toString(), settings.key());
        }
        return request.sendJsonObject(body)
                // the request timeout is an idle timeout; this bounds the whole exchange
                .timeout(timeoutMs + 50, TimeUnit.MILLISECONDS)
                .recover(failure -> Future.failedFuture(describe(failure, timeoutMs)));
    }

    /** One restSearch page as MISP sent it: the raw body and its {@code X-Result-Count} (null when absent). */
    public record SearchPage(Buffer body, Integer resultCount) {
    }

    /**
     * One page of a {@code POST /attributes/restSearch} with the given body (the local mirror's bulk pull: no
     * {@code value}, with {@code page} and {@code limit}). Answers MISP's raw 200 body, to be parsed off the event
     * loop, with its row count; fails with {@link MispException} as {@link #search} does.
     */
    public Future<SearchPage> searchPage(JsonObject body, Duration timeout) {
        return restSearch(body, timeout)
                .compose(response -> response.statusCode() == 200
                        ? Future.succeededFuture(new SearchPage(response.body() == null ? Buffer.buffer() : response.body(),
                        resultCount(response)))
                        : Future.failedFuture(statusError(response.statusCode(), response.body(),
                        response.getHeader("Retry-After"), response.getHeader("X-Rate-Limit-Reset"))));
    }

    /**
     * A plain GET of MISP's API (the warning lists), answering the JSON body of a 200; fails with
     * {@link MispException} otherwise.
     */
    public Future<JsonNode> getJson(String path, Duration timeout) {
        long timeoutMs = Math.max(1, timeout.toMillis());
        var request = client.getAbs(settings.url() + path).timeout(timeoutMs)
                .putHeader(HttpHeaders.ACCEPT.toString(), "application/json");
        if (settings.key() != null) {
            request.putHeader(HttpHeaders.AUTHORIZATION.toString(), settings.key());
        }
        return request.send()
                .timeout(timeoutMs + 50, TimeUnit.MILLISECONDS)
                .recover(failure -> Future.failedFuture(describe(failure, timeoutMs)))
                .compose(response -> {
                    if (response.statusCode() != 200) {
                        return Future.failedFuture(statusError(response.statusCode(), response.body(),
                                response.getHeader("Retry-After"), response.getHeader("X-Rate-Limit-Reset")));
                    }
                    Buffer b = response.body();
                    if (b != null && b.length() > MAX_ANSWER_BYTES) {
                        return Future.failedFuture(new MispException("MISP answered " + b.length() + " bytes, more than "
                                + MAX_ANSWER_BYTES + " allowed", false, null));
                    }
                    try {
                        return Future.succeededFuture(Json.MAPPER.readTree(b == null ? new byte[0] : b.getBytes()));
                    } catch (IOException e) {
                        return Future.failedFuture(new MispException("MISP answered " + path + " with a body that is not JSON: "
                                + snippet(b), true, null));
                    }
                });
    }

    private static Integer resultCount(HttpResponse<Buffer> response) {
        String h = response.getHeader("X-Result-Count");
        if (h == null) {
            return null;
        }
        try {
            return Integer.parseInt(h.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code GET /servers/getVersion.json}: whether MISP answers again, and accepts our key (circuit breaker probe). */
    public Future<Boolean> probe() {
        var request = client.getAbs(settings.url() + "/servers/getVersion.json")
                .timeout(Math.max(1, settings.timeout().toMillis()))
                .putHeader(HttpHeaders.ACCEPT.toString(), "application/json");
        if (settings.key() != null) {
            request.putHeader(HttpHeaders.AUTHORIZATION.toString(), settings.key());
        }
        return request.send().map(r -> r.statusCode() == 200).otherwise(false);
    }

    /** A restSearch answer larger than this is refused: a broken MISP or proxy must not exhaust the heap. */
    static final long MAX_ANSWER_BYTES = 64L << 20;

    private Future<List<MispAttribute>> answer(HttpResponse<Buffer> response) {
        int status = response.statusCode();
        Buffer body = response.body();
        if (body != null && body.length() > MAX_ANSWER_BYTES) {
            return Future.failedFuture(new MispException("MISP answered " + body.length() + " bytes, more than "
                    + MAX_ANSWER_BYTES + " allowed", false, null));
        }
        if (status != 200) {
            return Future.failedFuture(statusError(status, body, response.getHeader("Retry-After"),
                    response.getHeader("X-Rate-Limit-Reset")));
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body == null ? new byte[0] : body.getBytes());
        } catch (IOException e) {
            return Future.failedFuture(new MispException("MISP answered 200 with a body that is not JSON ("
                    + contentType(response) + "): " + snippet(body), true, null));
        }
        if (root == null || root.isMissingNode()) {
            return Future.failedFuture(new MispException("MISP answered 200 with an empty body", true, null));
        }
        try {
            return Future.succeededFuture(MispJson.restSearchAttributes(root, name()));
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new MispException(
                    "MISP answered 200 but not with a restSearch result: " + e.getMessage(), false, null));
        }
    }

    private static MispException statusError(int status, Buffer body, String retryAfter, String rateLimitReset) {
        String detail = "";
        try {
            if (body != null && body.length() > 0) {
                detail = MispJson.errorText(Json.MAPPER.readTree(body.getBytes()));
            }
        } catch (IOException ignored) {
            detail = body.length() > 0 ? ": " + snippet(body) : "";
        }
        Duration wait = seconds(retryAfter != null ? retryAfter : rateLimitReset);
        return switch (status) {
            case 401, 403 -> new MispException("MISP refused the request (HTTP " + status
                    + "): check MISP_KEY and the user's role" + detail, false, null);
            case 405 -> new MispException("MISP does not allow API searches for this user (HTTP 405)" + detail, false, null);
            // MISP sends X-Rate-Limit-Reset, never Retry-After (app/Controller/AppController.php:874-900); until the
            // reset every restSearch of this key is refused (app/Controller/Component/RateLimitComponent.php:47-53)
            case 429 -> new MispException("MISP rate limit exceeded (HTTP 429)"
                    + (retryAfter != null ? ", retry after " + retryAfter + " s"
                    : rateLimitReset != null ? ", limit resets in " + rateLimitReset + " s" : "") + detail, true, wait, true);
            default -> status >= 500
                    ? new MispException("MISP server error (HTTP " + status + ")" + detail, true, wait)
                    : new MispException("MISP answered HTTP " + status + detail, false, null);
        };
    }

    private static Duration seconds(String header) {
        if (header == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(header.strip())));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static MispException describe(Throwable failure, long timeoutMs) {
        if (failure instanceof MispException m) {
            return m;
        }
        if (failure instanceof TimeoutException || String.valueOf(failure.getMessage()).contains("timeout")
                || failure.getClass().getSimpleName().contains("Timeout")) {
            return new MispException("MISP did not answer within " + timeoutMs + " ms", true, null);
        }
        if (failure instanceof ConnectException || failure.getCause() instanceof ConnectException) {
            return new MispException("MISP unreachable: " + failure.getMessage(), true, null);
        }
        return new MispException("MISP request failed: " + failure.getClass().getSimpleName() + ": "
                + failure.getMessage(), true, null);
    }

    private static String contentType(HttpResponse<Buffer> response) {
        String ct = response.getHeader("Content-Type");
        return ct == null ? "no content type" : ct;
    }

    private static String snippet(Buffer body) {
        String s = body == null ? "" : body.toString().strip().replaceAll("\\s+", " ");
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }

    @Override
    public Future<Void> close() {
        client.close();
        return Future.succeededFuture();
    }
}
