package io.github.mispcorrelator.config;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13, item 7: a key is declared once, as a {@code ConfigKey} constant of {@link CorrelatorConfig};
 * {@link CorrelatorConfig#KEYS} (what is loaded, validated, logged and documented) is derived from the constants.
 */
class ConfigKeysTest {
    private static final Path SOURCE = Path.of("src/main/java/io/github/mispcorrelator/config/CorrelatorConfig.java");
    private static final Pattern DECLARATION = Pattern.compile("static final ConfigKey<.*?> (\\w+) =", Pattern.DOTALL);

    @Test
    void keysAreEveryConstantInTheOrderTheSourceDeclaresThem() throws Exception {
        // the order is the documentation's: reflection gives fields in declaration order, the source says what it is
        List<String> declared = new ArrayList<>();
        Matcher m = DECLARATION.matcher(Files.readString(SOURCE));
        while (m.find()) {
            declared.add(m.group(1));
        }
        assertThat(declared).hasSizeGreaterThan(50);
        assertThat(CorrelatorConfig.KEYS).extracting(ConfigKey::name).containsExactlyElementsOf(declared);
    }

    @Test
    void eachConstantIsNamedAfterItsKeyAndNoNameIsTakenTwice() throws Exception {
        for (Field field : CorrelatorConfig.class.getDeclaredFields()) {
            if (field.getType() == ConfigKey.class && Modifier.isStatic(field.getModifiers())) {
                assertThat(((ConfigKey<?>) field.get(null)).name()).as(field.getName()).isEqualTo(field.getName());
            }
        }
        assertThat(CorrelatorConfig.KEYS).extracting(ConfigKey::name).doesNotHaveDuplicates();
        assertThat(CorrelatorConfig.KEYS).extracting(ConfigKey::yamlKey).doesNotHaveDuplicates();
    }
}
