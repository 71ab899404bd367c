package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.alert.AlertParser;
import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.net.ConnectException;
import java.util.List;
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
        return settings.url();
    }

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        if (indicators.isEmpty()) {
            return Future.succeededFuture(LookupResult.empty());
        }
        long timeoutMs = settings.timeout().toMillis();
        var request = client.postAbs(searchUrl)
                .timeout(timeoutMs)
                .putHeader(HttpHeaders.ACCEPT.toString(), "application/json")
                .putHeader(HttpHeaders.CONTENT_TYPE.toString(), "application/json");
        if (settings.key() != null) {
            request.putHeader(HttpHeaders.AUTHORIZATION.toString(), settings.key());
        }
        return request.sendJsonObject(RestSearchRequest.body(indicators, settings))
                // the request timeout is an idle timeout; this bounds the whole exchange
                .timeout(timeoutMs + 50, TimeUnit.MILLISECONDS)
                .map(response -> answer(indicators, response))
                .otherwise(failure -> LookupResult.failed(indicators, describe(failure, timeoutMs)));
    }

    private LookupResult answer(List<Indicator> indicators, HttpResponse<Buffer> response) {
        int status = response.statusCode();
        Buffer body = response.body();
        if (status != 200) {
            return LookupResult.failed(indicators, statusError(status, body, response.getHeader("Retry-After"),
                    response.getHeader("X-Rate-Limit-Reset")));
        }
        JsonNode root;
        try {
            root = AlertParser.MAPPER.readTree(body == null ? new byte[0] : body.getBytes());
        } catch (IOException e) {
            return LookupResult.failed(indicators, "MISP answered 200 with a body that is not JSON ("
                    + contentType(response) + "): " + snippet(body));
        }
        if (root == null || root.isMissingNode()) {
            return LookupResult.failed(indicators, "MISP answered 200 with an empty body");
        }
        try {
            List<MispAttribute> attributes = MispJson.restSearchAttributes(root, name());
            return new LookupResult(AttributeMatcher.match(indicators, attributes), java.util.Map.of());
        } catch (IllegalArgumentException e) {
            return LookupResult.failed(indicators, "MISP answered 200 but not with a restSearch result: " + e.getMessage());
        }
    }

    private static String statusError(int status, Buffer body, String retryAfter, String rateLimitReset) {
        String detail = "";
        try {
            if (body != null && body.length() > 0) {
                detail = MispJson.errorText(AlertParser.MAPPER.readTree(body.getBytes()));
            }
        } catch (IOException ignored) {
            detail = body.length() > 0 ? ": " + snippet(body) : "";
        }
        return switch (status) {
            case 401, 403 -> "MISP refused the request (HTTP " + status + "): check MISP_KEY and the user's role" + detail;
            case 405 -> "MISP does not allow API searches for this user (HTTP 405)" + detail;
            case 429 -> "MISP rate limit exceeded (HTTP 429)"
                    + (retryAfter != null ? ", retry after " + retryAfter + " s"
                    : rateLimitReset != null ? ", limit resets in " + rateLimitReset + " s" : "") + detail;
            default -> status >= 500
                    ? "MISP server error (HTTP " + status + ")" + detail
                    : "MISP answered HTTP " + status + detail;
        };
    }

    private static String describe(Throwable failure, long timeoutMs) {
        if (failure instanceof TimeoutException || String.valueOf(failure.getMessage()).contains("timeout")
                || failure.getClass().getSimpleName().contains("Timeout")) {
            return "MISP did not answer within " + timeoutMs + " ms";
        }
        if (failure instanceof ConnectException || failure.getCause() instanceof ConnectException) {
            return "MISP unreachable: " + failure.getMessage();
        }
        return "MISP request failed: " + failure.getClass().getSimpleName() + ": " + failure.getMessage();
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
