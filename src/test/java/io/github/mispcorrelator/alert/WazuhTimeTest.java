package io.github.mispcorrelator.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-read timestamp path never answers differently from the formatters it stands in for. */
class WazuhTimeTest {

    @Test
    void readsWhatWazuhWrites() {
        assertThat(WazuhTime.fast("2025-08-13T08:45:06.785+0000")).isEqualTo(Instant.parse("2025-08-13T08:45:06.785Z"));
        assertThat(WazuhTime.fast("2025-08-13T08:45:06.785-0530")).isEqualTo(Instant.parse("2025-08-13T14:15:06.785Z"));
        assertThat(WazuhTime.fast("2025-08-13T08:45:06Z")).isEqualTo(Instant.parse("2025-08-13T08:45:06Z"));
        assertThat(WazuhTime.fast("2024-02-28T23:59:59.123456+0100")).isEqualTo(Instant.parse("2024-02-28T22:59:59.123456Z"));
    }

    @Test
    void leavesTheUnusualToTheFormatters() {
        // a day past the 28th is clamped by the SMART resolver: only the formatter knows how
        assertThat(WazuhTime.fast("2025-02-30T08:45:06.785+0000")).isNull();
        assertThat(WazuhTime.parse("2025-02-30T08:45:06.785+0000")).contains(Instant.parse("2025-02-28T08:45:06.785Z"));
        assertThat(WazuhTime.fast("2025-08-13T08:45:06.785+00:00")).isNull();
        assertThat(WazuhTime.parse("2025-08-13T08:45:06.785+00:00")).contains(Instant.parse("2025-08-13T08:45:06.785Z"));
        assertThat(WazuhTime.fast("2025-08-13T08:45:06.7851+0000")).isNull();
        assertThat(WazuhTime.fast("2025-08-13T24:00:00+0000")).isNull();
        assertThat(WazuhTime.fast("2025-08-13T08:45:60+0000")).isNull();
        assertThat(WazuhTime.fast("0000-08-13T08:45:06+0000")).isNull();
        assertThat(WazuhTime.parse("  ")).isEmpty();
        assertThat(WazuhTime.parse("yesterday")).isEmpty();
    }

    @Test
    void agreesWithTheFormattersOnEveryShape() {
        Random random = new Random(7);
        List<String> samples = new ArrayList<>();
        String[] fractions = {"", ".1", ".12", ".123", ".1234", ".12345", ".123456", ".123456789", "."};
        String[] offsets = {"Z", "+0000", "-0000", "+0130", "-0800", "+1800", "+1759", "-1900", "+00:00", "-05:30",
                "+2400", "+0060", "", "z", "+000", "+00000"};
        for (int k = 0; k < 20_000; k++) {
            int year = random.nextInt(10) == 0 ? random.nextInt(10_000) : 1960 + random.nextInt(300);
            int month = random.nextInt(14);
            int day = random.nextInt(33);
            int hour = random.nextInt(26);
            int minute = random.nextInt(62);
            int second = random.nextInt(62);
            StringBuilder b = new StringBuilder(String.format("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour,
                    minute, second));
            b.append(fractions[random.nextInt(fractions.length)]).append(offsets[random.nextInt(offsets.length)]);
            String s = b.toString();
            if (random.nextInt(20) == 0) {
                // a stray character anywhere
                int at = random.nextInt(s.length());
                s = s.substring(0, at) + "x/ 9-:T".charAt(random.nextInt(7)) + s.substring(at + 1);
            }
            samples.add(s);
        }
        int fast = 0;
        for (String s : samples) {
            Instant f = WazuhTime.fast(s.strip());
            Optional<Instant> slow = WazuhTime.slow(s.strip());
            if (f != null) {
                fast++;
                assertThat(slow).as(s).contains(f);
            }
            assertThat(WazuhTime.parse(s)).as(s).isEqualTo(slow);
        }
        // the hand path must carry most of the plain shapes, or it is not worth having
        assertThat(fast).isGreaterThan(samples.size() / 20);
    }

    @Test
    void anAlertParsesItsTimestampOnce() {
        Alert alert = AlertParser.parse("{\"id\":\"1\",\"timestamp\":\"2025-08-13T08:45:06.785+0000\"}");
        assertThat(alert.instant()).isSameAs(alert.instant());
        assertThat(alert.getEpochMilli()).hasValue(Instant.parse("2025-08-13T08:45:06.785Z").toEpochMilli());
    }
}
