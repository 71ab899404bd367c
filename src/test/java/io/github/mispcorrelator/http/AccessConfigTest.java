package io.github.mispcorrelator.http;

import io.github.mispcorrelator.config.ConfigException;
import io.github.mispcorrelator.config.CorrelatorConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The access keys: tokens masked, TLS files in pairs, and no public address without tokens. */
class AccessConfigTest {

    @Test
    void withoutTokensTheServiceRefusesAnAddressBeyondLoopback() {
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_HTTP_HOST", "0.0.0.0")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("CORRELATOR_HTTP_HOST")
                .hasMessageContaining("not a loopback address")
                .hasMessageContaining("CORRELATOR_READ_TOKEN");
        CorrelatorConfig ok = CorrelatorConfig.load(null, Map.of("CORRELATOR_HTTP_HOST", "0.0.0.0",
                "CORRELATOR_INGEST_TOKEN", "ingest-token-0123456789abcdef"));
        assertThat(ok.get(CorrelatorConfig.INGEST_TOKEN)).hasSize(1);
        assertThat(CorrelatorConfig.load(null, Map.of("CORRELATOR_HTTP_HOST", "localhost")).get(CorrelatorConfig.HTTP_HOST))
                .isEqualTo("localhost");
    }

    @Test
    void tokensNeverAppearInLogsOrErrors() {
        CorrelatorConfig c = CorrelatorConfig.load(null, Map.of("CORRELATOR_READ_TOKEN", "read-token-0123456789abcdef"));
        assertThat(c.describe().get("read_token")).isEqualTo("****");
        assertThat(c.describe().toString()).doesNotContain("read-token-0123456789abcdef");
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_ADMIN_TOKEN", "tooshort")))
                .hasMessageContaining("CORRELATOR_ADMIN_TOKEN").hasMessageNotContaining("tooshort");
    }

    @Test
    void tlsNeedsBothReadableFiles() throws Exception {
        Path cert = Files.createTempFile("cert", ".pem");
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_HTTP_TLS_CERT_FILE", cert.toString())))
                .hasMessageContaining("CORRELATOR_HTTP_TLS_CERT_FILE and CORRELATOR_HTTP_TLS_KEY_FILE: set both or neither");
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_HTTP_TLS_CERT_FILE", cert.toString(),
                "CORRELATOR_HTTP_TLS_KEY_FILE", "/no/such/key.pem")))
                .hasMessageContaining("CORRELATOR_HTTP_TLS_KEY_FILE").hasMessageContaining("no readable file");
        Files.delete(cert);
    }

    @Test
    void retentionDefaultsTo400Days() {
        assertThat(CorrelatorConfig.load(null, Map.of()).get(CorrelatorConfig.RETENTION_DAYS)).isEqualTo(400);
        assertThat(CorrelatorConfig.load(null, Map.of("CORRELATOR_RETENTION_DAYS", "0")).get(CorrelatorConfig.RETENTION_DAYS))
                .isZero();
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_RETENTION_DAYS", "-1")))
                .hasMessageContaining("CORRELATOR_RETENTION_DAYS");
    }
}
