package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.vertx.core.Future;

/** Where an alert waits whose values MISP could not check, until MISP answers again (implemented by {@code store.RecheckQueue}). */
public interface UncheckedAlerts {

    /** Keeps the alert for a re-check; {@code reason} is the lookup error that left it unchecked. */
    Future<Void> add(Alert alert, String reason);
}
