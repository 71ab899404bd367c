package io.github.mispcorrelator.store;

/** The database cannot be reached now; the caller may retry the same alert later and gets no duplicate. */
public class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
