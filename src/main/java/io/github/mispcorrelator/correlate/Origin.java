package io.github.mispcorrelator.correlate;

/**
 * Whether a hit came from an alert as it happened, from re-checking archived alerts later, or from the look-back: a
 * value in the observation index that MISP learned about after it was seen.
 */
public enum Origin {
    LIVE("live"),
    RETRO_HUNT("retro-hunt"),
    LOOK_BACK("look-back");

    private final String sqlValue;

    Origin(String sqlValue) {
        this.sqlValue = sqlValue;
    }

    public String sqlValue() {
        return sqlValue;
    }
}
