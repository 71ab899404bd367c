package io.github.mispcorrelator.http;

import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.correlate.RuleFailure;
import io.github.mispcorrelator.store.StoreUnavailableException;

/**
 * What went wrong with one alert, as the status it is answered with: one mapping for {@code POST /v1/alerts}, each
 * line of {@code POST /v1/alerts/batch} and {@code POST /v1/rules/test}. The only 5xx an input can cause is 503 (the
 * database is down: nothing was stored, send again); anything else unexpected is a 500 naming only the exception's
 * class, never its message (it may carry alert data).
 *
 * @param status the HTTP status ({@code 503} wants a {@code Retry-After})
 * @param error  the {@code error} text of the answer
 */
record IngestFailure(int status, String error) {

    /** @param inBatch whether the alert is a line of a batch (the advice is to send the batch, not the line) */
    static IngestFailure of(Throwable e, boolean inBatch) {
        if (e instanceof StoreUnavailableException) {
            return new IngestFailure(503, inBatch
                    ? "hit store unavailable; nothing was stored for this line, send it again"
                    : "hit store unavailable; nothing was stored, send the alert again");
        }
        if (e instanceof InvalidAlertException) {
            return new IngestFailure(400, e.getMessage());
        }
        if (e instanceof RuleFailure) {
            // a rule's bug on this alert: the alert is fine, the rule set is not
            return new IngestFailure(422, e.getMessage());
        }
        return new IngestFailure(500, "internal error: " + e.getClass().getSimpleName());
    }

    /** Whether the sender should try again later (the answer carries {@code Retry-After}). */
    boolean retry() {
        return status == 503;
    }
}
