package io.github.mispcorrelator.rules;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Holds the rule set in force and replaces it without a restart. A reload compiles on its own worker thread (never
 * an event loop), swaps the new rule set in atomically, and retires the old one, which is released once the alerts
 * still using it are done. A rule set that does not compile is rejected — file, line and message are kept for
 * {@code GET /v1/rules} — and the last good one keeps serving.
 */
public final class RuleManager implements Supplier<RuleSet>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RuleManager.class);

    /** How the last reload ended. */
    public record ReloadOutcome(String outcome, String trigger, Instant at, String version, List<RuleProblem> problems) {
        public boolean loaded() {
            return outcome.equals("loaded");
        }

        public JsonObject toJson() {
            JsonArray p = new JsonArray();
            problems.forEach(x -> p.add(new JsonObject().put("file", x.file()).put("line", x.line()).put("message", x.message())));
            return new JsonObject().put("outcome", outcome).put("trigger", trigger).put("at", at.toString())
                    .put("version", version).put("problems", p);
        }
    }

    private final Path dir;
    private final Vertx vertx;
    private final WorkerExecutor builder;
    private final AtomicReference<RuleSet> current;
    private final AtomicReference<ReloadOutcome> last = new AtomicReference<>();
    private final AtomicLong reloads = new AtomicLong();
    private volatile WatchService watcher;
    private volatile long debounceTimer = -1;

    /**
     * Compiles the rules once, now, on the calling thread (start-up).
     *
     * @throws RuleCompilationException when they do not compile: the service must not start without rules
     */
    public RuleManager(Path dir, Vertx vertx) {
        this.dir = dir;
        this.vertx = vertx;
        // one builder thread: reloads run one at a time, in order
        this.builder = vertx.createSharedWorkerExecutor("drl-build", 1);
        this.current = new AtomicReference<>(RuleSetLoader.load(dir));
    }

    @Override
    public RuleSet get() {
        return current.get();
    }

    /** Compiles the directory again and swaps the result in; the future never fails, it reports the outcome. */
    public Future<ReloadOutcome> reload(String trigger) {
        return builder.executeBlocking(() -> {
            RuleSet next;
            try {
                next = RuleSetLoader.load(dir);
            } catch (RuleCompilationException e) {
                LOG.error("Rules not reloaded ({}); the last good rule set {} keeps serving. {}", trigger,
                        current.get().version(), e.getMessage());
                return record(new ReloadOutcome("rejected", trigger, Instant.now(), current.get().version(),
                        e.problems().isEmpty() ? List.of(new RuleProblem(dir.toString(), -1, e.getMessage())) : e.problems()));
            } catch (RuntimeException e) {
                // a file deleted mid-walk (git pull), a code generator failure: still a rejected reload, still reported
                LOG.error("Rules not reloaded ({}); the last good rule set {} keeps serving.", trigger,
                        current.get().version(), e);
                return record(new ReloadOutcome("rejected", trigger, Instant.now(), current.get().version(),
                        List.of(new RuleProblem(dir.toString(), -1, e.getClass().getSimpleName() + ": " + e.getMessage()))));
            }
            RuleSet previous = current.get();
            if (next.version().equals(previous.version())) {
                next.retire();
                return record(new ReloadOutcome("unchanged", trigger, Instant.now(), previous.version(), List.of()));
            }
            current.set(next);
            previous.retire();
            reloads.incrementAndGet();
            LOG.info("Rules reloaded ({}): version {} replaces {}", trigger, next.version(), previous.version());
            return record(new ReloadOutcome("loaded", trigger, Instant.now(), next.version(), List.of()));
        }, true);
    }

    private ReloadOutcome record(ReloadOutcome outcome) {
        last.set(outcome);
        return outcome;
    }

    /**
     * Watches the directory (and its sub-directories) and reloads once changes have been quiet for
     * {@code debounce}: an editor's save is several events, a {@code git pull} many.
     */
    public void watch(Duration debounce) {
        try {
            WatchService ws = FileSystems.getDefault().newWatchService();
            registerTree(ws, dir);
            this.watcher = ws;
            Thread t = new Thread(() -> watchLoop(ws, debounce), "drl-watch");
            t.setDaemon(true);
            t.start();
            LOG.info("Watching {} for rule changes", dir.toAbsolutePath());
        } catch (IOException e) {
            LOG.warn("Cannot watch {} for changes ({}); use POST /v1/rules/reload", dir, e.getMessage());
        }
    }

    private static void registerTree(WatchService ws, Path root) throws IOException {
        try (Stream<Path> dirs = Files.walk(root)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                d.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_DELETE);
            }
        }
    }

    private void watchLoop(WatchService ws, Duration debounce) {
        while (true) {
            WatchKey key;
            try {
                key = ws.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            boolean relevant = false;
            for (var event : key.pollEvents()) {
                Object ctx = event.context();
                Path changed = ctx instanceof Path p ? ((Path) key.watchable()).resolve(p) : null;
                if (changed != null && Files.isDirectory(changed) && event.kind() == StandardWatchEventKinds.ENTRY_CREATE) {
                    try {
                        registerTree(ws, changed);
                    } catch (IOException ignored) {
                        // the next reload still reads it
                    }
                }
                String name = changed == null ? "" : changed.getFileName().toString();
                // editors write swap and backup files next to the real one; only rules and lists matter
                if (changed == null || name.endsWith(".drl") || name.endsWith(".txt") || Files.isDirectory(changed)
                        || event.kind() == StandardWatchEventKinds.OVERFLOW) {
                    relevant = true;
                }
            }
            key.reset();
            if (relevant) {
                scheduleReload(debounce);
            }
        }
    }

    private synchronized void scheduleReload(Duration debounce) {
        if (debounceTimer >= 0) {
            vertx.cancelTimer(debounceTimer);
        }
        debounceTimer = vertx.setTimer(Math.max(1, debounce.toMillis()), id -> reload("file change"));
    }

    /** The rule set in force and the last reload, for {@code GET /v1/rules}. */
    public JsonObject status() {
        RuleSet r = current.get();
        ReloadOutcome lastReload = last.get();
        return new JsonObject()
                .put("version", r.version())
                .put("loaded_at", r.loadedAt().toString())
                .put("directory", dir.toAbsolutePath().toString())
                .put("files", new JsonArray(r.files()))
                .put("rules", new JsonArray(r.ruleNames()))
                .put("allowlists", new JsonObject(new HashMap<>(r.allowLists().sizes())))
                .put("reloads", reloads.get())
                .put("watching", watcher != null)
                .put("last_reload", lastReload == null ? null : lastReload.toJson());
    }

    @Override
    public void close() {
        WatchService ws = watcher;
        if (ws != null) {
            try {
                ws.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        builder.close();
        current.get().retire();
    }
}
