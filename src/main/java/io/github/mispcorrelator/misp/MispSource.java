package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.vertx.core.Future;

import java.util.List;

/** Where indicators are looked up: a MISP server over HTTP, or a MISP feed held in memory. Never blocks. */
public interface MispSource {

    /**
     * Looks up the indicators of one alert. The future always succeeds: a failed lookup is reported per indicator
     * in {@link LookupResult#errors()}, so the caller can still tell Wazuh that a value went unchecked.
     */
    Future<LookupResult> lookup(List<Indicator> indicators);

    /** Names this source in hits and events ({@code https://misp.example.org} or {@code feed:config/demo-feed}). */
    String name();

    /** Whether lookups can be answered now (for {@code /health/ready}); a remote MISP is not probed here. */
    default boolean ready() {
        return true;
    }

    default Future<Void> close() {
        return Future.succeededFuture();
    }
}
