package io.github.mispcorrelator.correlate;

import io.vertx.core.Future;

/**
 * Where the events of a correlation go to Wazuh: analysisd's socket ({@code wazuh.AnalysisdSocket}), a Kafka topic
 * ({@code ingest.KafkaIngest}), or nowhere ({@link #NONE}). One sink serves the tail, the re-check and the replay.
 */
public interface EventSink {

    /** Sends nothing. */
    EventSink NONE = c -> Future.succeededFuture();

    /** Delivers the correlation's events; fails when the destination did not take all of them. */
    Future<Void> deliver(Correlation c);
}
