package io.github.mispcorrelator.misp;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.json.Json;
import io.github.mispcorrelator.support.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MispJsonTest {

    private static JsonNode json(String resource) throws Exception {
        return Json.MAPPER.readTree(Fixtures.bytes(resource));
    }

    @Test
    void readsEventContextAndTagsFromIncludeContextAnswers() throws Exception {
        List<MispAttribute> attrs = MispJson.restSearchAttributes(json("misp/restsearch-context.json"), "misp-a");
        MispAttribute first = attrs.get(0);
        assertThat(first.eventId()).isEqualTo("42");
        assertThat(first.eventUuid()).isEqualTo("e1000000-0000-4000-8000-000000000042");
        assertThat(first.eventInfo()).isEqualTo("Loader campaign");
        assertThat(first.threatLevel()).isEqualTo(1);
        assertThat(first.toIds()).isTrue();
        assertThat(first.timestamp()).isEqualTo(1756800000L);
        assertThat(first.tags()).containsExactly("misp-galaxy:malpedia=\"Loki\"", "tlp:green");
        assertThat(first.instance()).isEqualTo("misp-a");
    }

    @Test
    void emptyAnswersOfNewAndOldServersAreEmpty() throws Exception {
        assertThat(MispJson.restSearchAttributes(json("misp/restsearch-empty.json"), "m")).isEmpty();
        assertThat(MispJson.restSearchAttributes(json("misp/restsearch-empty-pre-2018.json"), "m")).isEmpty();
    }

    @Test
    void anErrorBodyIsNotMistakenForAnEmptyAnswer() {
        assertThatThrownBy(() -> MispJson.restSearchAttributes(json("misp/error-403.json"), "m"))
                .hasMessageContaining("Authentication failed");
    }

    @Test
    void readsEveryRealRestSearchAnswerInTheReferenceData() throws Exception {
        Path dir = Fixtures.sharedData("misp/responses");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("restsearch_")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            List<MispAttribute> attrs = MispJson.restSearchAttributes(Json.MAPPER.readTree(f.toFile()), "shared");
            assertThat(attrs).as(f.getFileName().toString()).isNotEmpty()
                    .allSatisfy(a -> {
                        assertThat(a.uuid()).isNotBlank();
                        assertThat(a.type()).isNotBlank();
                        assertThat(a.value()).isNotBlank();
                    });
        }
    }

    @Test
    void readsEveryRealEventExportInTheReferenceData() throws Exception {
        Path dir = Fixtures.sharedData("misp/events");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) {
                List<MispAttribute> attrs = MispJson.eventAttributes(Json.MAPPER.readTree(f.toFile()), "shared");
                assertThat(attrs).as(f.getFileName().toString()).isNotEmpty()
                        .allSatisfy(a -> assertThat(a.eventUuid()).isNotBlank());
            }
        }
    }
}
