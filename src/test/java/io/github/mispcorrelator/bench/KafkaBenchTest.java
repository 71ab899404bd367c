package io.github.mispcorrelator.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code bench --kafka}'s arguments, records and report; the run itself is {@code KafkaBenchIT} (opt-in). */
class KafkaBenchTest {
    @Test
    void defaultsAreTheIssuesRunsAndOptionsOverrideThem() {
        KafkaBench.Options d = KafkaBench.parse(new String[] {"--kafka"});
        assertThat(d.records()).isEqualTo(30_000);
        assertThat(d.instances()).containsExactly(1, 2, 3);
        assertThat(d.bootstrap()).isNull();
        assertThat(d.events()).isTrue();

        KafkaBench.Options o = KafkaBench.parse(new String[] {"--records", "500", "--instances", "2, 3",
                "--bootstrap", "k:9092", "--partitions", "4", "--hit-every", "3", "--no-events"});
        assertThat(o.records()).isEqualTo(500);
        assertThat(o.instances()).containsExactly(2, 3);
        assertThat(o.bootstrap()).isEqualTo("k:9092");
        assertThat(o.partitions()).isEqualTo(4);
        assertThat(o.hitEvery()).isEqualTo(3);
        assertThat(o.events()).isFalse();
    }

    @Test
    void badArgumentsAreExitTwoWithTheReason() {
        assertThatThrownBy(() -> KafkaBench.parse(new String[] {"--records", "0"})).hasMessageContaining("--records");
        assertThatThrownBy(() -> KafkaBench.parse(new String[] {"--records"})).hasMessageContaining("missing value");
        assertThatThrownBy(() -> KafkaBench.parse(new String[] {"--what", "x"})).hasMessageContaining("unknown option");
        assertThat(KafkaBench.run(new String[] {"--instances", "one"}, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8))).isEqualTo(2);
    }

    @Test
    void eachRecordIsTheSampleWithItsOwnIdAndAPlantedHitOnlyWhereAsked() throws Exception {
        String template = Files.readString(Path.of("config/samples/sysmon-eid3-c2.json")).strip();
        String planted = KafkaBench.alert(template, "kb1.0", true);
        String clean = KafkaBench.alert(template, "kb1.1", false);
        assertThat(planted).contains("\"id\":\"kb1.0\"").contains("\"destinationIp\":\"81.2.69.192\"");
        // (the event's message text keeps the sample's address: no rule extracts indicators from it)
        assertThat(clean).contains("\"id\":\"kb1.1\"").doesNotContain("\"destinationIp\":\"81.2.69.192\"")
                .contains("\"destinationIp\":\"203.0.113.");
    }

    @Test
    void theReportSaysTheCoresBoundIt() {
        String report = KafkaBench.report(KafkaBench.parse(new String[0]), List.of(
                new KafkaBench.Result(1, 1000, 2.0, 1.0, 100, 100, 0, 3.0, 0.5, 0.97),
                new KafkaBench.Result(2, 1000, 2.5, 1.0, 100, 100, 0, 4.0, 0.5, 0.99)));
        assertThat(report).contains("| 1 | 1,000 | 2.0 | **500** | 500 | 1.50 | 0.25 | 97 % | 100 / 100 | 0 |")
                .contains("| 2 | 1,000 | 2.5 | **400** | 200 |")
                .contains("share the same CPUs");
    }
}
