package io.github.mispcorrelator.misp;

import java.util.List;

/**
 * One MISP attribute that matched, with the event context scoring rules need. Ids and timestamps are strings as
 * MISP sends them.
 *
 * @param threatLevel the event's threat level: 1 high, 2 medium, 3 low, 4 undefined (0 when MISP did not say)
 * @param tags        attribute tags and the event's tags, as MISP names them ({@code tlp:green})
 * @param timestamp   the attribute's last change, epoch seconds (0 when unknown)
 * @param instance    which MISP (or feed) answered
 */
public record MispAttribute(String id, String uuid, String eventId, String eventUuid, String eventInfo,
                            String type, String category, String value, boolean toIds, int threatLevel,
                            List<String> tags, long timestamp, String instance) {
}
