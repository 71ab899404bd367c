package io.github.mispcorrelator.http;

import io.github.mispcorrelator.config.ApiTokens;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who may call what. API tokens carry roles: {@code ingest} (alerts in), {@code read} (hits, rule status, the auditors'
 * page) and {@code admin} (rule reload; admin may do everything). Only SHA-256 digests of the tokens are kept, and a
 * presented token is compared with every configured digest in constant time. Status pages ({@code GET /metrics},
 * {@code GET /v1/misp/status}, {@code GET /v1/cluster}) are {@code read}, like {@code GET /v1/rules}; a Prometheus
 * scrape job sends the token as its bearer token. Without any token configured every request is served, which is
 * safe only because the service then listens on loopback alone (checked at start-up, see {@link ApiTokens#isLoopback}).
 * {@code /health/*} is always open.
 *
 * <p>Tokens come as {@code Authorization: Bearer <token>}; for GET and HEAD also as HTTP Basic with the token as
 * password (any user name), so that a browser can open {@code /ui/} and download exports. Basic credentials, which a
 * browser resends on its own, are refused for anything that changes state.
 */
public final class AccessControl implements Handler<RoutingContext> {
    private static final Logger LOG = LoggerFactory.getLogger(AccessControl.class);
    static final String REALM = "misp-correlator";

    public enum Role {
        INGEST, READ, ADMIN;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private record Grant(byte[] sha256, Role role) {
    }

    private final List<Grant> grants;
    private Warnings warnings = new Warnings(null, Duration.ofMinutes(1));

    private AccessControl(List<Grant> grants) {
        this.grants = List.copyOf(grants);
    }

    /** @param tokens the digests configured for each role (a role may have none, or several during a rotation) */
    /** Unknown tokens are warned about through {@code warnings}: counted, and logged at most once a minute. */
    public AccessControl withWarnings(Warnings warnings) {
        this.warnings = warnings;
        return this;
    }

    public static AccessControl of(Map<Role, List<ApiTokens.Digest>> tokens) {
        List<Grant> grants = new ArrayList<>();
        tokens.forEach((role, digests) -> {
            if (digests != null) {
                digests.forEach(d -> grants.add(new Grant(d.sha256(), role)));
            }
        });
        return new AccessControl(grants);
    }

    /** Whether any token is configured; without one, everything is allowed (on loopback). */
    public boolean enabled() {
        return !grants.isEmpty();
    }

    /**
     * The role an endpoint needs: empty for the open health checks. Anything not listed needs {@code admin}, so an
     * endpoint added without thought here is closed rather than open.
     */
    static Optional<Role> required(HttpMethod method, String path) {
        String p = path == null ? "" : path;
        if (p.startsWith("/health/")) {
            return Optional.empty();
        }
        boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD;
        if (method == HttpMethod.POST && (p.equals("/v1/alerts") || p.equals("/v1/alerts/batch"))) {
            return Optional.of(Role.INGEST);
        }
        if (read && (p.equals("/v1/hits") || p.startsWith("/v1/hits/") || p.equals("/v1/rules") || p.equals("/v1/coverage")
                || p.equals("/metrics") || p.equals("/v1/misp/status") || p.equals("/v1/cluster")
                || p.equals("/v1/observations")
                || p.equals("/ui") || p.startsWith("/ui/"))) {
            return Optional.of(Role.READ);
        }
        if (method == HttpMethod.POST && p.equals("/v1/rules/test")) {
            return Optional.of(Role.READ);
        }
        return Optional.of(Role.ADMIN);
    }

    /** The roles a presented token carries (empty: unknown token). Every digest is compared, in constant time. */
    Set<Role> rolesOf(String token) {
        byte[] presented = ApiTokens.sha256(token);
        EnumSet<Role> roles = EnumSet.noneOf(Role.class);
        for (Grant g : grants) {
            if (MessageDigest.isEqual(presented, g.sha256())) {
                roles.add(g.role());
            }
        }
        if (roles.contains(Role.ADMIN)) {
            roles.addAll(EnumSet.allOf(Role.class));
        }
        return roles;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpMethod method = ctx.request().method();
        String path = ctx.normalizedPath();
        var needed = required(method, path);
        if (needed.isEmpty()) {
            ctx.next();
            return;
        }
        if (!enabled()) {
            // no tokens: the server listens on loopback only; refuse anything else in case it is reached anyway
            SocketAddress remote = ctx.request().remoteAddress();
            if (remote != null && remote.hostAddress() != null && !isLoopbackAddress(remote.hostAddress())) {
                Responses.error(ctx, 403, "no API tokens configured: only clients on this host are served");
                return;
            }
            ctx.next();
            return;
        }
        String authorization = ctx.request().getHeader("Authorization");
        String token = null;
        boolean basic = false;
        if (authorization != null) {
            String a = authorization.strip();
            if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
                token = a.substring(7).strip();
            } else if (a.regionMatches(true, 0, "Basic ", 0, 6)) {
                basic = true;
                token = basicPassword(a.substring(6).strip());
            }
        }
        if (token == null || token.isEmpty()) {
            challenge(ctx, "an API token is required: send Authorization: Bearer <token>");
            return;
        }
        if (basic && !(method == HttpMethod.GET || method == HttpMethod.HEAD)) {
            challenge(ctx, "Basic credentials are accepted for GET only; send Authorization: Bearer <token>");
            return;
        }
        Set<Role> roles = rolesOf(token);
        if (roles.isEmpty()) {
            warnings.warn(LOG, "unknown_token", "Unknown API token from {} for {} {}", ctx.request().remoteAddress(),
                    method, path);
            challenge(ctx, "unknown API token");
            return;
        }
        if (!roles.contains(needed.get())) {
            Responses.error(ctx, 403, method + " " + path + " needs the " + needed.get().id() + " role; this token has "
                    + roles.stream().map(Role::id).collect(Collectors.joining(", ")));
            return;
        }
        ctx.put("roles", roles);
        ctx.next();
    }

    private static boolean isLoopbackAddress(String literal) {
        try {
            // a literal address: no name lookup happens
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The password of {@code Basic base64(user:password)}, or null when it is not that. */
    static String basicPassword(String encoded) {
        try {
            String decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            return colon < 0 ? null : decoded.substring(colon + 1);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static void challenge(RoutingContext ctx, String message) {
        // Basic lets a browser ask for the token once and reuse it for the page's own requests
        ctx.response().headers()
                .add("WWW-Authenticate", "Bearer realm=\"" + REALM + "\"")
                .add("WWW-Authenticate", "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
        Responses.json(ctx, 401, new JsonObject().put("error", message));
    }
}
