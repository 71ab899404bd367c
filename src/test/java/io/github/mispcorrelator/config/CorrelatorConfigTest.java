package io.github.mispcorrelator.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CorrelatorConfigTest {

    @TempDir
    Path dir;

    @Test
    void defaultsMatchTheDesign() {
        CorrelatorConfig c = CorrelatorConfig.load(null, Map.of());
        assertThat(c.get(CorrelatorConfig.HTTP_HOST)).isEqualTo("127.0.0.1");
        assertThat(c.get(CorrelatorConfig.HTTP_PORT)).isEqualTo(8080);
        assertThat(c.get(CorrelatorConfig.MISP_VERIFY_TLS)).isTrue();
        assertThat(c.get(CorrelatorConfig.MISP_TIMEOUT)).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.get(CorrelatorConfig.MISP_URL)).isNull();
        assertThat(c.get(CorrelatorConfig.DB_URL)).isNull();
        assertThat(c.get(CorrelatorConfig.DATA_DIR)).isEqualTo(Path.of("./data"));
        assertThat(c.get(CorrelatorConfig.DRL_DIR)).isEqualTo(Path.of("./drl"));
        assertThat(c.get(CorrelatorConfig.FEED_DIR)).isEqualTo(Path.of("config/demo-feed"));
    }

    @Test
    void theShippedYamlLoadsAndEveryKeyInItIsKnown() {
        CorrelatorConfig c = CorrelatorConfig.load(Path.of("config/correlator.yaml"), Map.of());
        assertThat(c.get(CorrelatorConfig.HTTP_PORT)).isEqualTo(8080);
    }

    @Test
    void theEnvironmentOverridesTheFile() throws Exception {
        Path yaml = Files.writeString(dir.resolve("c.yaml"), "http_port: 9000\nmisp_url: https://misp.example.org/\n");
        CorrelatorConfig c = CorrelatorConfig.load(yaml, Map.of("CORRELATOR_HTTP_PORT", "9100",
                "CORRELATOR_MISP_TIMEOUT", "1500ms", "CORRELATOR_MISP_VERIFY_TLS", "false"));
        assertThat(c.get(CorrelatorConfig.HTTP_PORT)).isEqualTo(9100);
        assertThat(c.get(CorrelatorConfig.MISP_URL)).isEqualTo("https://misp.example.org");
        assertThat(c.get(CorrelatorConfig.MISP_TIMEOUT)).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.get(CorrelatorConfig.MISP_VERIFY_TLS)).isFalse();
    }

    @Test
    void everyBadValueIsReportedTogetherNamingItsKey() throws Exception {
        Path yaml = Files.writeString(dir.resolve("c.yaml"), "http_port: 99999\nmisp_timeot: 5s\n");
        assertThatThrownBy(() -> CorrelatorConfig.load(yaml, Map.of(
                "CORRELATOR_MISP_URL", "misp.example.org",
                "CORRELATOR_MISP_VERIFY_TLS", "maybe",
                "CORRELATOR_DRL_DIR", dir.resolve("nope").toString(),
                "CORRELATOR_DB_URL", "postgres://x")))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.problems()).hasSize(6);
                    assertThat(e.getMessage())
                            .contains("CORRELATOR_HTTP_PORT (http_port in")
                            .contains("CORRELATOR_MISP_URL")
                            .contains("CORRELATOR_MISP_VERIFY_TLS")
                            .contains("CORRELATOR_DRL_DIR")
                            .contains("CORRELATOR_DB_URL")
                            .contains("misp_timeot")
                            .contains("unknown key");
                });
    }

    @Test
    void secretsNeverAppearInErrorsOrDescriptions() {
        assertThatThrownBy(() -> CorrelatorConfig.load(null, Map.of("CORRELATOR_DB_URL", "jdbc:postgresql://h/d")))
                .hasMessageContaining("CORRELATOR_DB_USER");
        CorrelatorConfig c = CorrelatorConfig.load(null, Map.of("CORRELATOR_MISP_KEY", "s3cr3t-key"));
        assertThat(c.describe().toString()).doesNotContain("s3cr3t-key").contains("misp_key=****");
    }

    @Test
    void anExplicitConfigFileMustExist() {
        assertThatThrownBy(() -> CorrelatorConfig.load(Map.of("CORRELATOR_CONFIG", dir.resolve("missing.yaml").toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("CORRELATOR_CONFIG");
    }
}
