package io.github.mispcorrelator.indicator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static io.github.mispcorrelator.indicator.IndicatorType.DOMAIN;
import static io.github.mispcorrelator.indicator.IndicatorType.IP;
import static io.github.mispcorrelator.indicator.IndicatorType.MD5;
import static io.github.mispcorrelator.indicator.IndicatorType.SHA1;
import static io.github.mispcorrelator.indicator.IndicatorType.SHA256;
import static org.assertj.core.api.Assertions.assertThat;

class NormaliserTest {

    @Test
    void hashesAreLowerCasedAndCheckedForLength() {
        assertThat(Normaliser.normalise(MD5, " 2E5A8590CF6848968FC23DE3FA1E25F1 ")).hasValue("2e5a8590cf6848968fc23de3fa1e25f1");
        assertThat(Normaliser.normalise(MD5, "2E5A8590CF6848968FC23DE3FA1E25F")).isEmpty();
        assertThat(Normaliser.normalise(SHA1, "2E5A8590CF6848968FC23DE3FA1E25F1")).isEmpty();
        assertThat(Normaliser.normalise(SHA256, "9785001B0DCF755EDDB8AF294A373C0B87B2498660F724E76C4D53F9C217C7A3"))
                .hasValue("9785001b0dcf755eddb8af294a373c0b87b2498660f724e76c4d53f9c217c7a3");
        assertThat(Normaliser.normalise(SHA256, "zz85001B0DCF755EDDB8AF294A373C0B87B2498660F724E76C4D53F9C217C7A3")).isEmpty();
        assertThat(Normaliser.normalise(IndicatorType.IMPHASH, "00000000000000000000000000000000")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "-"})
    void emptyValuesAreDropped(String raw) {
        for (IndicatorType t : IndicatorType.values()) {
            assertThat(Normaliser.normalise(t, raw)).as(t.id()).isEmpty();
        }
    }

    @ParameterizedTest
    @CsvSource({
            "81.2.69.142, 81.2.69.142",
            "2A02:CF40:ADD:4411:1234::42, 2a02:cf40:add:4411:1234::42",
            "2a02:cf40:0:0:0:0:0:1, 2a02:cf40::1",
            "2001:4860:4860:0:0:0:0:8888, 2001:4860:4860::8888",
            "2a02:0:0:1:0:0:0:1, 2a02:0:0:1::1",
            "[2a02:cf40::1], 2a02:cf40::1",
            "::ffff:81.2.69.142, 81.2.69.142"
    })
    void globalAddressesArePrintedCanonically(String raw, String expected) {
        assertThat(Normaliser.normalise(IP, raw)).hasValue(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.80.9", "127.0.0.1", "169.254.10.10",
            "100.64.0.1", "100.127.255.254", "224.0.0.251", "239.255.255.250", "255.255.255.255", "0.0.0.0",
            "192.0.2.10", "198.51.100.7", "203.0.113.99", "198.18.0.5", "240.0.0.1",
            "::", "::1", "fe80::1", "fe80::1%eth0", "fd00:1::15", "fc00::1", "ff02::1", "2001:db8::1", "3fff::1",
            "::ffff:10.0.0.1"
    })
    void nonGlobalAddressesAreSkipped(String raw) {
        assertThat(Normaliser.normalise(IP, raw)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"256.1.1.1", "1.2.3", "example.com", "1.2.3.4.5", "12345::abcd::1", "::g"})
    void malformedAddressesAreDroppedWithoutALookup(String raw) {
        assertThat(Normaliser.normalise(IP, raw)).isEmpty();
    }

    @Test
    void domainsAreLowerCasedWithoutTheTrailingDot() {
        assertThat(Normaliser.normalise(DOMAIN, "Update.Evil-Example.NET.")).hasValue("update.evil-example.net");
        assertThat(Normaliser.normalise(DOMAIN, "bücher.example")).hasValue("xn--bcher-kva.example");
        assertThat(Normaliser.normalise(DOMAIN, "localhost")).isEmpty();
        assertThat(Normaliser.normalise(DOMAIN, "81.2.69.142")).isEmpty();
        assertThat(Normaliser.normalise(DOMAIN, "bad..example.com")).isEmpty();
        assertThat(Normaliser.normalise(DOMAIN, "wpad.local")).isEmpty();
    }

    @Test
    void repeatsWithinAnAlertAreRemovedKeepingTheFirstSource() {
        List<Indicator> out = Normaliser.normaliseAll(List.of(
                new Candidate(MD5, "ABCDEF0123456789ABCDEF0123456789", "f1", "r1"),
                new Candidate(MD5, "abcdef0123456789abcdef0123456789", "f2", "r2"),
                new Candidate(IP, "10.0.0.1", "f3", "r3"),
                new Candidate(IP, "81.2.69.142", "f4", "r4")));

        assertThat(out).containsExactly(
                new Indicator(MD5, "abcdef0123456789abcdef0123456789", "f1", "r1"),
                new Indicator(IP, "81.2.69.142", "f4", "r4"));
    }
}
