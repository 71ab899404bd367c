package io.github.mispcorrelator.audit;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Query parameters of the hits API: each problem names its parameter. */
class HitQueryTest {

    static MultiMap params(String... pairs) {
        MultiMap m = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i < pairs.length; i += 2) {
            m.add(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    static void rejected(String parameter, String... pairs) {
        assertThatThrownBy(() -> HitQuery.list(params(pairs)))
                .isInstanceOf(BadParameterException.class)
                .satisfies(e -> assertThat(((BadParameterException) e).parameter()).isEqualTo(parameter))
                .hasMessageStartingWith(parameter + ": ");
    }

    @Test
    void everyFilterIsRead() {
        HitQuery.ListRequest r = HitQuery.list(params("from", "2025-08-01", "to", "2025-08-31", "agent_id", "002",
                "agent_name", "WS-1", "indicator", "81.2.69.192", "indicator_type", "ip", "misp_event_id", "25",
                "misp_event_uuid", "u-1", "rule_id", "92052", "min_severity", "10", "ruleset_version", "sha256:abc",
                "origin", "retro-hunt", "manager", "wazuh", "limit", "50", "format", "csv", "with_alert", "true"));
        HitQuery.Filter f = r.filter();
        assertThat(f.from()).isEqualTo(Instant.parse("2025-08-01T00:00:00Z"));
        // a bare date in "to" includes that day
        assertThat(f.to()).isEqualTo(Instant.parse("2025-09-01T00:00:00Z"));
        assertThat(f.agentId()).isEqualTo("002");
        assertThat(f.agentName()).isEqualTo("WS-1");
        assertThat(f.indicatorValues()).containsExactly("81.2.69.192");
        assertThat(f.indicatorType()).isEqualTo("ip");
        assertThat(f.mispEventId()).isEqualTo("25");
        assertThat(f.mispEventUuid()).isEqualTo("u-1");
        assertThat(f.ruleId()).isEqualTo("92052");
        assertThat(f.minSeverity()).isEqualTo(10);
        assertThat(f.rulesetVersion()).isEqualTo("sha256:abc");
        assertThat(f.origin()).isEqualTo("retro-hunt");
        assertThat(f.manager()).isEqualTo("wazuh");
        assertThat(r.limit()).isEqualTo(50);
        assertThat(r.format()).isEqualTo(HitQuery.Format.CSV);
        assertThat(r.withAlert()).isTrue();
    }

    @Test
    void timesInTheFormsAuditorsType() {
        assertThat(HitQuery.time("from", "2025-08-13T08:45:06Z", false)).isEqualTo(Instant.parse("2025-08-13T08:45:06Z"));
        assertThat(HitQuery.time("from", "2025-08-13T10:45:06+02:00", false)).isEqualTo(Instant.parse("2025-08-13T08:45:06Z"));
        // an unencoded '+' in a query string arrives as a space
        assertThat(HitQuery.time("from", "2025-08-13T10:45:06 02:00", false)).isEqualTo(Instant.parse("2025-08-13T08:45:06Z"));
        assertThat(HitQuery.time("from", "2025-08-13T08:45:06.785+0000", false)).isEqualTo(Instant.parse("2025-08-13T08:45:06.785Z"));
        assertThat(HitQuery.time("from", "2025-08-13T08:45", false)).isEqualTo(Instant.parse("2025-08-13T08:45:00Z"));
        assertThat(HitQuery.time("to", "2025-08-13", true)).isEqualTo(Instant.parse("2025-08-14T00:00:00Z"));
    }

    @Test
    void badParametersAreNamed() {
        rejected("from", "from", "yesterday");
        rejected("to", "to", "2025-13-01");
        rejected("to", "from", "2025-08-02", "to", "2025-08-01");
        rejected("min_severity", "min_severity", "16");
        rejected("min_severity", "min_severity", "high");
        rejected("limit", "limit", "0");
        rejected("limit", "limit", "1001");
        rejected("indicator_type", "indicator_type", "hash");
        rejected("origin", "origin", "replay");
        rejected("format", "format", "xml");
        rejected("cursor", "cursor", "not-a-cursor");
        rejected("with_alert", "with_alert", "maybe");
        rejected("agent_id", "agent_id", "1", "agent_id", "2");
        rejected("agnet_id", "agnet_id", "1");
        rejected("indicator", "indicator", "x".repeat(2000));
        // exports have no page size ceiling
        assertThat(HitQuery.list(params("format", "ndjson", "limit", "5000000")).limit()).isEqualTo(5_000_000);
        assertThat(HitQuery.list(params("format", "ndjson")).effectiveLimit()).isNull();
        assertThat(HitQuery.list(params()).effectiveLimit()).isEqualTo(100);
    }

    @Test
    void theCursorCarriesMicroseconds() {
        HitQuery.Cursor c = new HitQuery.Cursor(Instant.parse("2025-08-13T08:45:06.123456Z"), 987654321L);
        assertThat(HitQuery.Cursor.decode(c.encode())).isEqualTo(c);
        assertThat(HitQuery.list(params("cursor", c.encode())).cursor()).isEqualTo(c);
        HitQuery.Cursor old = new HitQuery.Cursor(Instant.parse("1969-12-31T23:59:59.5Z"), 1);
        assertThat(HitQuery.Cursor.decode(old.encode())).isEqualTo(old);
    }

    @Test
    void anIndicatorIsAlsoLookedUpAsStored() {
        assertThat(HitQuery.indicatorForms("44D88612FEA8A8F36DE82E1278ABB02F", null))
                .containsExactly("44D88612FEA8A8F36DE82E1278ABB02F", "44d88612fea8a8f36de82e1278abb02f");
        assertThat(HitQuery.indicatorForms("2001:0DB8:0000:0000:0000:0000:0000:0001", "ip")).hasSize(1);
        assertThat(HitQuery.indicatorForms("2a00:1450:4001:0810:0000:0000:0000:200e", "ip"))
                .containsExactly("2a00:1450:4001:0810:0000:0000:0000:200e", "2a00:1450:4001:810::200e");
        assertThat(HitQuery.indicatorForms("C2.Example.NET", "domain")).containsExactly("C2.Example.NET", "c2.example.net");
    }

    @Test
    void statsDefaultToTheLast30Days() {
        Instant now = Instant.parse("2025-09-30T12:00:00Z");
        HitQuery.StatsRequest s = HitQuery.stats(params(), now);
        assertThat(s.filter().to()).isEqualTo(now);
        assertThat(s.filter().from()).isEqualTo(Instant.parse("2025-08-31T12:00:00Z"));
        assertThat(s.top()).isEqualTo(20);
        assertThat(HitQuery.stats(params("to", "2025-08-31"), now).filter().from()).isEqualTo(Instant.parse("2025-08-02T00:00:00Z"));
        assertThatThrownBy(() -> HitQuery.stats(params("limit", "5"), now)).hasMessageStartingWith("limit: unknown parameter");
        assertThatThrownBy(() -> HitQuery.stats(params("top", "0"), now)).hasMessageStartingWith("top: ");
    }
}
