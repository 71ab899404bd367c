package io.github.mispcorrelator.store;

import io.github.mispcorrelator.alert.Alert;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.concurrent.Callable;

/**
 * The JDBC plumbing every store shares: a connection from the pool, used on a worker of the JDBC executor (never on
 * the caller's event loop), in auto-commit or in one transaction, and an {@link SQLException} turned into
 * {@link StoreUnavailableException} when the database cannot be reached (the caller may retry) or into an
 * {@link IllegalStateException} when it is a defect. The SQL itself stays with each store.
 */
public final class Jdbc {

    /** Work on one connection; whatever it throws is translated by the caller of the work. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Blocking work without a connection of its own (it takes them through {@link #now} and friends). */
    @FunctionalInterface
    public interface Blocking<T> {
        T run() throws SQLException;
    }

    private final DataSource dataSource;
    private final WorkerExecutor workers;

    /** @param workers the JDBC workers, as many as the pool has connections; null for blocking use only */
    public Jdbc(DataSource dataSource, WorkerExecutor workers) {
        this.dataSource = dataSource;
        this.workers = workers;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** On a worker: {@code work} on a connection in auto-commit (one statement, or statements that may stand alone). */
    public <T> Future<T> run(Work<T> work) {
        return run(null, work);
    }

    /** As {@link #run(Work)}; a failure names {@code what} could not be done ("cannot load the mirror: ..."). */
    public <T> Future<T> run(String what, Work<T> work) {
        return onWorker(what, () -> raw(work));
    }

    /** On a worker: {@code work} in one transaction, committed when it returns, rolled back when it throws. */
    public <T> Future<T> transaction(Work<T> work) {
        return transaction(null, work);
    }

    public <T> Future<T> transaction(String what, Work<T> work) {
        return onWorker(what, () -> rawTransaction(work));
    }

    /**
     * On a worker: {@code work} in a read-only transaction of that isolation, rolled back at the end (it wrote
     * nothing); the driver streams a result with a fetch size only inside a transaction.
     */
    public <T> Future<T> readOnly(int isolation, Work<T> work) {
        return readOnly(isolation, null, work);
    }

    public <T> Future<T> readOnly(int isolation, String what, Work<T> work) {
        return onWorker(what, () -> {
            try (Connection c = dataSource.getConnection()) {
                c.setReadOnly(true);
                c.setAutoCommit(false);
                c.setTransactionIsolation(isolation);
                try {
                    return work.run(c);
                } finally {
                    // the pool puts read-only, isolation and auto-commit back when the connection returns
                    rollbackQuietly(c);
                }
            }
        });
    }

    /** On a worker, unordered (calls run in parallel up to the executor's size); SQLExceptions translated. */
    public <T> Future<T> blocking(Blocking<T> work) {
        return onWorker(null, work);
    }

    /** Blocking, for callers already on a worker: {@code work} in auto-commit. */
    public <T> T now(Work<T> work) {
        try {
            return raw(work);
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    /** Blocking, for callers already on a worker: {@code work} in one transaction. */
    public <T> T transactionNow(Work<T> work) {
        try {
            return rawTransaction(work);
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    private <T> Future<T> onWorker(String what, Blocking<T> work) {
        Callable<T> translated = () -> {
            try {
                return work.run();
            } catch (SQLException e) {
                throw what == null ? translate(e) : translate(what, e);
            }
        };
        return workers.executeBlocking(translated, false);
    }

    private <T> T raw(Work<T> work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        }
    }

    private <T> T rawTransaction(Work<T> work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return inTransaction(c, work);
        }
    }

    /** {@code work} in one transaction on a connection the caller holds; auto-commit is restored afterwards. */
    public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            if (autoCommit) {
                setAutoCommitQuietly(c);
            }
        }
    }

    /**
     * Whether the failure means "try again later": the connection (class 08), the server shutting down or
     * restarting (57P), resources exhausted (53: too many connections, disk full), a pool timeout (transient).
     * Anything else is a defect of ours or of the data, and stays an error.
     */
    public static boolean unavailable(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return e instanceof SQLTransientException || state.startsWith("08") || state.startsWith("57P")
                || state.startsWith("53");
    }

    /** {@link #unavailable} → {@link StoreUnavailableException}; else an {@link IllegalStateException}. */
    public static RuntimeException translate(SQLException e) {
        if (unavailable(e)) {
            return new StoreUnavailableException("hit store unavailable: "
                    + Alert.abbreviate(String.valueOf(e.getMessage()), 300), e);
        }
        // the server's message may quote a whole value (a row too large for an index): never more than a line; the
        // cause is kept for its SQLState (the audit API tells a query timeout from a defect by it)
        return new IllegalStateException("hit store error (SQLState " + e.getSQLState() + "): "
                + Alert.abbreviate(String.valueOf(e.getMessage()), 300), e);
    }

    /** As {@link #translate}, naming what could not be done (the mirror's messages). */
    public static RuntimeException translate(String what, SQLException e) {
        if (unavailable(e)) {
            return new StoreUnavailableException("cannot " + what + ": database unavailable: " + e.getMessage(), e);
        }
        return new IllegalStateException("cannot " + what + " (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
    }

    /** The SQLState behind a translated failure, or null. */
    public static String sqlState(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException s) {
                return s.getSQLState();
            }
        }
        return null;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; nothing was committed
        }
    }

    private static void setAutoCommitQuietly(Connection c) {
        try {
            c.setAutoCommit(true);
        } catch (SQLException ignored) {
            // a broken connection: the pool discards it
        }
    }
}
