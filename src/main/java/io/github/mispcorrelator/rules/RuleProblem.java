package io.github.mispcorrelator.rules;

/** One compile error in a DRL file, where a detection engineer can find it. */
public record RuleProblem(String file, int line, String message) {
    @Override
    public String toString() {
        return file + (line > 0 ? ":" + line : "") + ": " + message;
    }
}
