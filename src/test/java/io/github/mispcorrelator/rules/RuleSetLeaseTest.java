package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A retired rule set lives until the last alert using it is done, then is released. */
class RuleSetLeaseTest {

    @Test
    void aRetiredRuleSetInUseIsDisposedWhenReleased(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.drl"), """
                package t;
                import io.github.mispcorrelator.alert.Alert;
                rule "any" when Alert() then end
                """);
        RuleSet rs = RuleSetLoader.load(dir);

        assertThat(rs.acquire()).isTrue();
        rs.retire();
        assertThat(rs.disposed()).isFalse();
        rs.extract(Fixtures.alert("sysmon-eid1-stock.json"));
        rs.release();

        assertThat(rs.disposed()).isTrue();
        assertThat(rs.acquire()).isFalse();
    }
}
