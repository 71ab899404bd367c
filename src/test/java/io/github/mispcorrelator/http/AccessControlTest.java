package io.github.mispcorrelator.http;

import io.github.mispcorrelator.config.ApiTokens;
import io.github.mispcorrelator.http.AccessControl.Role;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tokens, their digests and roles, and which endpoint needs which role. */
class AccessControlTest {
    static final String READER = "read-token-0123456789abcdef";
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String INGESTER = "ingest-token-0123456789abcdef";

    @Test
    void aTokenIsKeptOnlyAsItsDigest() {
        List<ApiTokens.Digest> parsed = ApiTokens.parse(READER + ", " + ApiTokens.digestOf(ADMIN));
        assertThat(parsed).hasSize(2);
        assertThat(parsed.get(0).sha256()).isEqualTo(ApiTokens.sha256(READER));
        assertThat(parsed.get(1).sha256()).isEqualTo(ApiTokens.sha256(ADMIN));
        assertThat(ApiTokens.digestOf("x")).isEqualTo("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
    }

    @Test
    void weakOrMalformedTokensAreRefusedWithoutRepeatingThem() {
        assertThatThrownBy(() -> ApiTokens.parse("short"))
                .hasMessageContaining("token 1").hasMessageContaining("at least 16").hasMessageNotContaining("short");
        assertThatThrownBy(() -> ApiTokens.parse(READER + ",sha256:abc"))
                .hasMessageContaining("token 2").hasMessageContaining("64 hex");
        assertThatThrownBy(() -> ApiTokens.parse("has a space in the middle of it"))
                .hasMessageNotContaining("space in");
        assertThat(ApiTokens.parse(" , ")).isEmpty();
    }

    @Test
    void rolesComeFromTheMatchingDigestsAndAdminImpliesAll() {
        AccessControl ac = AccessControl.of(Map.of(
                Role.READ, ApiTokens.parse(READER),
                Role.INGEST, ApiTokens.parse(INGESTER + "," + READER),
                Role.ADMIN, ApiTokens.parse(ApiTokens.digestOf(ADMIN))));
        assertThat(ac.enabled()).isTrue();
        assertThat(ac.rolesOf(READER)).containsExactlyInAnyOrder(Role.READ, Role.INGEST);
        assertThat(ac.rolesOf(INGESTER)).containsExactly(Role.INGEST);
        assertThat(ac.rolesOf(ADMIN)).isEqualTo(EnumSet.allOf(Role.class));
        assertThat(ac.rolesOf("unknown-token-0123456789")).isEmpty();
        assertThat(AccessControl.of(Map.of()).enabled()).isFalse();
    }

    @Test
    void eachEndpointNeedsItsRoleAndUnknownOnesNeedAdmin() {
        assertThat(AccessControl.required(HttpMethod.POST, "/v1/alerts")).contains(Role.INGEST);
        assertThat(AccessControl.required(HttpMethod.POST, "/v1/alerts/batch")).contains(Role.INGEST);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/hits")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/hits/stats")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/hits/42")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.HEAD, "/v1/hits")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/rules")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/metrics")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/misp/status")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/cluster")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.POST, "/v1/rules/test")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/ui/")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.GET, "/ui/app.js")).contains(Role.READ);
        assertThat(AccessControl.required(HttpMethod.POST, "/v1/rules/reload")).contains(Role.ADMIN);
        assertThat(AccessControl.required(HttpMethod.DELETE, "/v1/hits")).contains(Role.ADMIN);
        assertThat(AccessControl.required(HttpMethod.GET, "/v1/alerts")).contains(Role.ADMIN);
        assertThat(AccessControl.required(HttpMethod.GET, "/anything")).contains(Role.ADMIN);
        assertThat(AccessControl.required(HttpMethod.GET, "/health/live")).isEqualTo(Optional.empty());
        assertThat(AccessControl.required(HttpMethod.GET, "/health/ready")).isEqualTo(Optional.empty());
    }

    @Test
    void basicCredentialsCarryTheTokenAsPassword() {
        String header = Base64.getEncoder().encodeToString(("auditor:" + READER).getBytes(StandardCharsets.UTF_8));
        assertThat(AccessControl.basicPassword(header)).isEqualTo(READER);
        assertThat(AccessControl.basicPassword("not base64!")).isNull();
        assertThat(AccessControl.basicPassword(Base64.getEncoder().encodeToString("nocolon".getBytes()))).isNull();
    }

    @Test
    void onlyLoopbackAddressesAreLoopback() {
        assertThat(ApiTokens.isLoopback("127.0.0.1")).isTrue();
        assertThat(ApiTokens.isLoopback("::1")).isTrue();
        assertThat(ApiTokens.isLoopback("localhost")).isTrue();
        assertThat(ApiTokens.isLoopback("0.0.0.0")).isFalse();
        assertThat(ApiTokens.isLoopback("::")).isFalse();
        assertThat(ApiTokens.isLoopback("192.0.2.10")).isFalse();
        assertThat(ApiTokens.isLoopback("")).isFalse();
        assertThat(ApiTokens.isLoopback("no-such-host.invalid")).isFalse();
    }
}
