package io.github.mispcorrelator.config;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/configuration.md is generated from the declared keys: a key added without regenerating it fails here. */
class ConfigurationDocTest {

    @Test
    void docsConfigurationMdListsEveryDeclaredKeyAsGenerated() throws Exception {
        String expected = ConfigurationDoc.render();
        if (Boolean.getBoolean("config.doc.update")) {
            Files.writeString(ConfigurationDoc.FILE, expected, StandardCharsets.UTF_8);
        }
        assertThat(Files.exists(ConfigurationDoc.FILE)).as("docs/configuration.md exists").isTrue();
        String actual = Files.readString(ConfigurationDoc.FILE, StandardCharsets.UTF_8);
        assertThat(actual)
                .as("docs/configuration.md is stale: regenerate it with "
                        + "mvn -o -q test -Dtest=ConfigurationDocTest -Dconfig.doc.update=true")
                .isEqualTo(expected);
    }

    @Test
    void everyKeyHasADescriptionAndAppearsOnce() {
        String doc = ConfigurationDoc.render();
        for (ConfigKey<?> key : CorrelatorConfig.KEYS) {
            assertThat(key.description()).as(key.name()).isNotBlank();
            assertThat(doc).containsOnlyOnce("| `" + key.envVar() + "` |");
        }
        assertThat(doc).contains("| `misp_key` 🔒 | `CORRELATOR_MISP_KEY` | unset |");
    }
}
