package io.github.mispcorrelator.audit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** CSV that spreadsheets read safely, and links to MISP events. */
class HitRowsTest {

    @Test
    void csvQuotesWhatNeedsQuoting() {
        assertThat(HitRows.csvField("plain")).isEqualTo("plain");
        assertThat(HitRows.csvField("a,b")).isEqualTo("\"a,b\"");
        assertThat(HitRows.csvField("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
        assertThat(HitRows.csvField("two\nlines")).isEqualTo("\"two\nlines\"");
    }

    @Test
    void csvDefusesFormulas() {
        assertThat(HitRows.csvField("=HYPERLINK(\"http://evil\")")).startsWith("\"'=HYPERLINK(");
        assertThat(HitRows.csvField("+1")).isEqualTo("'+1");
        assertThat(HitRows.csvField("-cmd")).isEqualTo("'-cmd");
        assertThat(HitRows.csvField("@SUM(A1)")).isEqualTo("'@SUM(A1)");
        assertThat(HitRows.csvField("10")).isEqualTo("10");
    }

    @Test
    void aRecordFollowsTheHeader() {
        JsonObject hit = new JsonObject();
        AuditSql.COLUMNS.forEach(c -> hit.putNull(c));
        hit.put("id", 7).put("misp_tags", new JsonArray().add("tlp:green").add("x,y")).put("agent_name", "=evil");
        String line = HitRows.csv(hit, false);
        assertThat(line).endsWith("\r\n");
        assertThat(line).startsWith("7,");
        assertThat(line).contains("\"[\"\"tlp:green\"\",\"\"x,y\"\"]\"").contains(",'=evil,");
        assertThat(HitRows.csvHeader(false)).startsWith("id,occurred_at,").endsWith("misp_event_url\r\n");
        assertThat(HitRows.csvHeader(true)).endsWith(",misp_event_url,alert\r\n");
    }

    @Test
    void eventLinksOnlyForMispUrls() {
        assertThat(HitRows.eventUrl("https://misp.example.org/", "25")).isEqualTo("https://misp.example.org/events/view/25");
        assertThat(HitRows.eventUrl("feed:config/demo-feed", "25")).isNull();
        assertThat(HitRows.eventUrl("https://misp.example.org", "")).isNull();
        assertThat(HitRows.eventUrl("javascript:alert(1)", "25")).isNull();
    }
}
