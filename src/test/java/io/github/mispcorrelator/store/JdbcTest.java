package io.github.mispcorrelator.store;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which database failures mean "try again later" and which are defects: the one classification every store uses. */
class JdbcTest {

    @Test
    void connectionShutdownResourcesAndPoolTimeoutsAreUnavailable() {
        for (String state : new String[]{"08006", "08001", "57P01", "57P03", "53300", "53100"}) {
            RuntimeException e = Jdbc.translate(new SQLException("gone", state));
            assertThat(e).as(state).isInstanceOf(StoreUnavailableException.class).hasMessageStartingWith("hit store unavailable");
            assertThat(Jdbc.sqlState(e)).isEqualTo(state);
        }
        assertThat(Jdbc.translate(new SQLTransientConnectionException("pool timeout")))
                .isInstanceOf(StoreUnavailableException.class);
    }

    @Test
    void anythingElseIsADefectThatKeepsItsState() {
        for (String state : new String[]{"23505", "22023", "54000", "57014", "40P01", "42P01"}) {
            RuntimeException e = Jdbc.translate(new SQLException("x".repeat(1000), state));
            assertThat(e).as(state).isInstanceOf(IllegalStateException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("SQLState " + state);
            // the server's message may quote a whole row: one line at most
            assertThat(e.getMessage().length()).isLessThan(400);
            assertThat(Jdbc.sqlState(e)).isEqualTo(state);
        }
        assertThat(Jdbc.translate(new SQLException("no state"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theMirrorsMessagesNameWhatFailed() {
        assertThat(Jdbc.translate("load the mirror", new SQLException("refused", "08001")))
                .isInstanceOf(StoreUnavailableException.class).hasMessage("cannot load the mirror: database unavailable: refused");
        assertThat(Jdbc.translate("load the mirror", new SQLException("bad", "42P01")))
                .isInstanceOf(IllegalStateException.class).hasMessage("cannot load the mirror (SQLState 42P01): bad");
    }
}
