package io.github.mispcorrelator.misp;

import java.util.List;

/**
 * Told of the attributes a MISP source has just gained or changed (a mirror pull, a look-back poll, a feed load), so
 * that the values can be joined with what was seen before. Called off the event loop; must return quickly (queue the
 * work), and must not keep the list beyond the call unless it copies it.
 */
@FunctionalInterface
public interface AttributeListener {
    AttributeListener NONE = attributes -> { };

    void attributesChanged(List<MispAttribute> attributes);
}
