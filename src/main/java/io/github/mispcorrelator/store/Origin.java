package io.github.mispcorrelator.store;

/** Whether a hit came from an alert as it happened or from re-checking archived alerts later. */
public enum Origin {
    LIVE("live"),
    RETRO_HUNT("retro-hunt");

    private final String sqlValue;

    Origin(String sqlValue) {
        this.sqlValue = sqlValue;
    }

    public String sqlValue() {
        return sqlValue;
    }
}
