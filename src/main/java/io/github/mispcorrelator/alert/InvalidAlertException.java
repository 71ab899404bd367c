package io.github.mispcorrelator.alert;

/** The input is not a Wazuh alert; the message says why, for a 400 or a skipped line. */
public class InvalidAlertException extends RuntimeException {
    public InvalidAlertException(String message) {
        super(message);
    }
}
