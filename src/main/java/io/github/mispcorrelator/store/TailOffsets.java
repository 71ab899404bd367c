package io.github.mispcorrelator.store;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;

/** Where the tailer resumes: one row per followed file, in PostgreSQL with the hits, off the event loop. */
public final class TailOffsets {
    public record Offset(String fileKey, long position) {
    }

    // a row of node '' was written before offsets were per node (migrations/V9_1): this node resumes from it
    private static final String SELECT = """
            SELECT file_key, position FROM tail_offsets WHERE node IN (?, '') AND path = ? ORDER BY node = '' LIMIT 1
            """;
    private static final String UPSERT = """
            INSERT INTO tail_offsets (node, path, file_key, position, updated_at) VALUES (?, ?, ?, ?, now())
            ON CONFLICT (node, path) DO UPDATE SET file_key = EXCLUDED.file_key, position = EXCLUDED.position,
                                             updated_at = now()
            """;

    private final Jdbc jdbc;
    private final String node;

    public TailOffsets(DataSource dataSource, WorkerExecutor jdbc) {
        this(dataSource, jdbc, "");
    }

    /**
     * @param node the manager node whose files these are: on a Wazuh cluster every node writes alerts.json at the same
     *             path, each followed by the correlator next to it (its CORRELATOR_INSTANCE_ID names the node)
     */
    public TailOffsets(DataSource dataSource, WorkerExecutor jdbc, String node) {
        this.jdbc = new Jdbc(dataSource, jdbc);
        this.node = node;
    }

    public Future<Optional<Offset>> load(String path) {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(SELECT)) {
                ps.setString(1, node);
                ps.setString(2, path);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Offset(rs.getString(1), rs.getLong(2))) : Optional.<Offset>empty();
                }
            }
        });
    }

    public Future<Void> save(String path, Offset offset) {
        return jdbc.run(c -> {
            try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                ps.setString(1, node);
                ps.setString(2, path);
                ps.setString(3, offset.fileKey());
                ps.setLong(4, offset.position());
                ps.executeUpdate();
                return null;
            }
        });
    }
}
