package io.github.mispcorrelator.http;

import io.vertx.ext.web.Router;

/**
 * Endpoints a feature package adds to the API ({@code audit.HitsApi}, {@code audit.ObservationsApi}): they depend on
 * {@code http} for this and {@link Responses}, and {@code http} does not know them (the service wires them in).
 */
public interface Routes {

    /** Adds the routes, after the access control and limits {@link HttpApi} puts in front of every route. */
    void mount(Router router);
}
