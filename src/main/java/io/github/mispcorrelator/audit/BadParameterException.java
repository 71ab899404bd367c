package io.github.mispcorrelator.audit;

/** A query parameter the API cannot use; the message names it and says what was expected. Answered with 400. */
public final class BadParameterException extends RuntimeException {
    private final String parameter;

    public BadParameterException(String parameter, String problem) {
        super(parameter + ": " + problem);
        this.parameter = parameter;
    }

    public String parameter() {
        return parameter;
    }
}
