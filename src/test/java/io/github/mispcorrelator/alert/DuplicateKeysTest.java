package io.github.mispcorrelator.alert;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A key twice in one object is refused at every depth (two readers of one alert could see two different values),
 * and the same name in different objects is fine.
 */
class DuplicateKeysTest {

    @Test
    void aKeyTwiceInOneObjectIsRefusedAtAnyDepth() {
        for (String body : List.of(
                "{\"id\":\"1\",\"id\":\"2\"}",
                "{\"data\":{\"win\":{\"eventdata\":{\"ipAddress\":\"1.2.3.4\",\"ipAddress\":\"5.6.7.8\"}}}}",
                "{\"rule\":{\"groups\":[{\"a\":1,\"a\":1}]}}",
                "{\"data\":[[{\"x\":{\"y\":1,\"y\":{}}}]]}")) {
            assertThatThrownBy(() -> AlertParser.parse(body)).as(body).isInstanceOf(InvalidAlertException.class)
                    .hasMessageContaining("Duplicate field")
                    // the reader's words, not Jackson's configuration
                    .hasMessageNotContaining("DeserializationFeature");
        }
    }

    @Test
    void theSameNameInDifferentObjectsIsFine() {
        Alert a = AlertParser.parse("{\"id\":\"1\",\"data\":{\"id\":\"2\",\"x\":{\"id\":\"3\"}},\"agent\":{\"id\":\"001\"}}");
        assertThat(a.getId()).isEqualTo("1");
        assertThat(a.field("data.x.id")).isEqualTo("3");
        assertThat(a.getAgentId()).isEqualTo("001");
    }
}
