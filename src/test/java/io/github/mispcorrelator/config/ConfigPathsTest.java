package io.github.mispcorrelator.config;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Relative paths never depend on the working directory of whoever started the service (issue 14). */
class ConfigPathsTest {

    @TempDir
    Path dir;

    @AfterEach
    void noHome() {
        System.clearProperty(CorrelatorConfig.HOME_PROPERTY);
    }

    @Test
    void aRelativePathInTheFileIsRelativeToTheFilesDirectory() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.createDirectories(etc.resolve("drl"));
        Files.createDirectories(dir.resolve("feed"));
        Path yaml = Files.writeString(etc.resolve("correlator.yaml"),
                "drl_dir: drl\nfeed_dir: ../feed\ndata_dir: ../var\ntail_file: alerts.json\n");
        CorrelatorConfig c = CorrelatorConfig.load(yaml, Map.of());
        assertThat(c.get(CorrelatorConfig.DRL_DIR)).isEqualTo(etc.resolve("drl").toAbsolutePath());
        assertThat(c.get(CorrelatorConfig.FEED_DIR)).isEqualTo(dir.resolve("feed").toAbsolutePath());
        assertThat(c.get(CorrelatorConfig.DATA_DIR)).isEqualTo(dir.resolve("var").toAbsolutePath());
        assertThat(c.get(CorrelatorConfig.TAIL_FILE)).isEqualTo(etc.resolve("alerts.json").toAbsolutePath());
        assertThat(c.file()).contains(yaml.toAbsolutePath());
    }

    @Test
    void aRelativePathFromTheEnvironmentIsRelativeToTheFilesDirectoryToo() throws Exception {
        Files.createDirectories(dir.resolve("my-rules"));
        Path yaml = Files.writeString(dir.resolve("c.yaml"), "http_port: 9000\n");
        CorrelatorConfig c = CorrelatorConfig.load(yaml, Map.of("CORRELATOR_DRL_DIR", "my-rules"));
        assertThat(c.get(CorrelatorConfig.DRL_DIR)).isEqualTo(dir.resolve("my-rules").toAbsolutePath());
    }

    @Test
    void aMissingDirectoryIsNamedWhereItWasLookedFor() throws Exception {
        Path yaml = Files.writeString(dir.resolve("c.yaml"), "drl_dir: rules-here\n");
        assertThatThrownBy(() -> CorrelatorConfig.load(yaml, Map.of()))
                .hasMessageContaining("no such directory: " + dir.resolve("rules-here").toAbsolutePath());
    }

    @Test
    void theShippedFileFindsTheProjectsRulesFeedAndDataFromAnyWorkingDirectory() {
        CorrelatorConfig c = CorrelatorConfig.load(Path.of("config/correlator.yaml").toAbsolutePath(), Map.of());
        Path root = Path.of("").toAbsolutePath();
        assertThat(c.get(CorrelatorConfig.DRL_DIR)).isEqualTo(root.resolve("drl"));
        assertThat(c.get(CorrelatorConfig.FEED_DIR)).isEqualTo(root.resolve("config/demo-feed"));
        assertThat(c.get(CorrelatorConfig.DATA_DIR)).isEqualTo(root.resolve("data"));
    }

    @Test
    void withAnInstallDirectoryDefaultsAndEnvironmentPathsAreRelativeToIt() throws Exception {
        Path home = dir.resolve("misp-correlator-1.0");
        Files.createDirectories(home.resolve("drl"));
        Files.createDirectories(home.resolve("config/demo-feed"));
        Files.createDirectories(home.resolve("other-feed"));
        System.setProperty(CorrelatorConfig.HOME_PROPERTY, home.toString());
        CorrelatorConfig c = CorrelatorConfig.load(null, Map.of("CORRELATOR_FEED_DIR", "other-feed"));
        assertThat(c.get(CorrelatorConfig.DRL_DIR)).isEqualTo(home.resolve("drl").toAbsolutePath());
        assertThat(c.get(CorrelatorConfig.FEED_DIR)).isEqualTo(home.resolve("other-feed").toAbsolutePath());
        assertThat(c.get(CorrelatorConfig.DATA_DIR)).isEqualTo(home.resolve("data").toAbsolutePath());
    }

    @Test
    void withAnInstallDirectoryTheDefaultFileIsItsConfigCorrelatorYaml() throws Exception {
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("drl"));
        Files.createDirectories(home.resolve("config/demo-feed"));
        Files.writeString(home.resolve("config/correlator.yaml"), "http_port: 9123\ndrl_dir: ../drl\n");
        System.setProperty(CorrelatorConfig.HOME_PROPERTY, home.toString());
        CorrelatorConfig c = CorrelatorConfig.load(Map.of());
        assertThat(c.get(CorrelatorConfig.HTTP_PORT)).isEqualTo(9123);
        assertThat(c.file()).contains(home.resolve("config/correlator.yaml").toAbsolutePath());
    }

    @Test
    void withoutFileOrInstallDirectoryPathsStayAsGiven() {
        CorrelatorConfig c = CorrelatorConfig.load(null, Map.of());
        assertThat(c.get(CorrelatorConfig.DRL_DIR)).isEqualTo(Path.of("./drl"));
        assertThat(c.file()).isEmpty();
    }
}
