package io.github.mispcorrelator.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Identifiers from the alert fit the b-tree indexes whatever their length (issue 17, defect 4). */
class BoundedIdentifiersTest {

    @Test
    void shortValuesAreKeptAsTheyAre() {
        assertThat(PostgresHitStore.key("1760000000.123")).isEqualTo("1760000000.123");
        assertThat(PostgresHitStore.key("é".repeat(128))).isEqualTo("é".repeat(128));
    }

    @Test
    void longValuesBecomeAPrefixAndADigestWithinTheLimit() {
        String a = "x".repeat(5000) + "a";
        String b = "x".repeat(5000) + "b";
        assertThat(PostgresHitStore.key(a).getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(PostgresHitStore.MAX_KEY_BYTES);
        assertThat(PostgresHitStore.key(a)).startsWith("xxxx").contains("~").isNotEqualTo(PostgresHitStore.key(b));
        assertThat(PostgresHitStore.key(a)).isEqualTo(PostgresHitStore.key(a));
        String wide = "😀".repeat(3000);
        assertThat(PostgresHitStore.key(wide).getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(PostgresHitStore.MAX_KEY_BYTES);
        assertThat(PostgresHitStore.key(wide)).startsWith("😀").doesNotContain("\uFFFD");
    }
}
