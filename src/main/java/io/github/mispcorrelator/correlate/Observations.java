package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.indicator.Indicator;

import java.util.List;

/** Where every extracted indicator is recorded, hit or not, for the look-back (implemented by {@code store.ObservationIndex}). */
public interface Observations {

    /** Records the alert's indicators; must not block. */
    void record(Alert alert, List<Indicator> indicators);
}
