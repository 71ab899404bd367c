package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.http.Responses;
import io.github.mispcorrelator.http.Routes;
import io.github.mispcorrelator.store.Jdbc;
import io.github.mispcorrelator.store.StoreUnavailableException;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;
import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The hit history over HTTP: {@code GET /v1/hits} (filters, keyset pages, CSV and NDJSON exports of any size),
 * {@code GET /v1/hits/{id}} (one hit with its alert), {@code GET /v1/hits/stats}, and the auditors' page at
 * {@code /ui/}. Queries run read-only on their own small worker pool, never on the event loop, so that exports cannot
 * take every connection from ingest.
 */
public final class HitsApi implements Routes {
    private static final Logger LOG = LoggerFactory.getLogger(HitsApi.class);
    /** The page's scripts and styles are its own files; nothing else may run in it. */
    static final String UI_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private final Jdbc jdbc;

    /** @param executor workers for the audit queries; each holds one connection of {@code dataSource} while it runs */
    public HitsApi(DataSource dataSource, WorkerExecutor executor) {
        this.jdbc = new Jdbc(dataSource, executor);
    }

    /** Adds the hits endpoints and the page to a router (behind its access control). */
    @Override
    public void mount(Router router) {
        router.get("/v1/hits").handler(this::list);
        router.get("/v1/hits/stats").handler(this::stats);
        router.get("/v1/hits/:id").handler(this::one);
        router.get("/ui").handler(ctx -> {
            if (ctx.request().path().equals("/ui")) {
                ctx.redirect("/ui/");
            } else {
                ctx.next();
            }
        });
        router.route("/ui/*").handler(ctx -> {
            ctx.response().putHeader("Content-Security-Policy", UI_SECURITY_POLICY)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer");
            ctx.next();
        });
        router.route("/ui/*").handler(StaticHandler.create("ui").setMaxAgeSeconds(60).setIncludeHidden(false));
    }

    private void list(RoutingContext ctx) {
        HitQuery.ListRequest request;
        try {
            request = HitQuery.list(ctx.queryParams());
        } catch (BadParameterException e) {
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        if (request.format() == HitQuery.Format.JSON) {
            query(ctx, c -> page(c, request), page -> Responses.json(ctx, 200, page));
        } else {
            export(ctx, request);
        }
    }

    private JsonObject page(Connection c, HitQuery.ListRequest request) throws SQLException {
        int limit = request.effectiveLimit();
        AuditSql.Where where = AuditSql.where(request.filter(), request.cursor());
        JsonArray hits = new JsonArray();
        boolean more = false;
        try (PreparedStatement ps = c.prepareStatement(AuditSql.page(where, request.withAlert(), limit + 1))) {
            bind(ps, where.args());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (hits.size() == limit) {
                        more = true;
                        break;
                    }
                    hits.add(HitRows.json(rs, request.withAlert()));
                }
            }
        }
        String next = more ? HitRows.cursor(hits.getJsonObject(hits.size() - 1)).encode() : null;
        return new JsonObject().put("hits", hits).put("next_cursor", next);
    }

    private void one(RoutingContext ctx) {
        long id;
        try {
            id = Long.parseLong(ctx.pathParam("id"));
            if (id <= 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            Responses.error(ctx, 400, "id: expected a positive whole number");
            return;
        }
        if (!ctx.queryParams().isEmpty()) {
            String name = ctx.queryParams().names().iterator().next();
            Responses.error(ctx, 400, name + ": unknown parameter (GET /v1/hits/{id} takes none)");
            return;
        }
        query(ctx, c -> {
            try (PreparedStatement ps = c.prepareStatement(AuditSql.ONE)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? HitRows.json(rs, true) : null;
                }
            }
        }, hit -> {
            if (hit == null) {
                Responses.error(ctx, 404, "no hit with id " + id);
            } else {
                Responses.json(ctx, 200, hit);
            }
        });
    }

    private void stats(RoutingContext ctx) {
        HitQuery.StatsRequest request;
        try {
            request = HitQuery.stats(ctx.queryParams(), Instant.now());
        } catch (BadParameterException e) {
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        // the four answers describe one snapshot
        query(ctx, Connection.TRANSACTION_REPEATABLE_READ, c -> stats(c, request), stats -> Responses.json(ctx, 200, stats));
    }

    private JsonObject stats(Connection c, HitQuery.StatsRequest request) throws SQLException {
        HitQuery.Filter f = request.filter();
        AuditSql.Where where = AuditSql.where(f, null);
        Map<LocalDate, Long> perDay = new LinkedHashMap<>();
        JsonArray byAgent = new JsonArray();
        JsonArray byType = new JsonArray();
        JsonArray byEvent = new JsonArray();
        long total = 0;
        for (LocalDate d = day(f.from()); !d.isAfter(lastDay(f.to())) && perDay.size() <= 3660; d = d.plusDays(1)) {
            perDay.put(d, 0L);
        }
        try (PreparedStatement ps = c.prepareStatement(AuditSql.statsByDay(where))) {
            bind(ps, where.args());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    perDay.put(rs.getObject(1, LocalDate.class), rs.getLong(2));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(AuditSql.statsByIndicatorType(where))) {
            bind(ps, where.args());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    total += rs.getLong(2);
                    byType.add(new JsonObject().put("indicator_type", rs.getString(1)).put("hits", rs.getLong(2)));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(AuditSql.statsByAgent(where, request.top()))) {
            bind(ps, where.args());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byAgent.add(new JsonObject().put("manager", rs.getString(1)).put("agent_id", rs.getString(2))
                            .put("agent_name", rs.getString(3)).put("hits", rs.getLong(4)));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(AuditSql.statsByMispEvent(where, request.top()))) {
            bind(ps, where.args());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byEvent.add(new JsonObject().put("misp_instance", rs.getString(1))
                            .put("misp_event_uuid", rs.getString(2)).put("misp_event_id", rs.getString(3))
                            .put("misp_event_info", rs.getString(4)).put("hits", rs.getLong(5))
                            .put(HitRows.EVENT_URL, HitRows.eventUrl(rs.getString(1), rs.getString(3))));
                }
            }
        }
        JsonArray byDay = new JsonArray();
        perDay.forEach((d, n) -> byDay.add(new JsonObject().put("day", d.toString()).put("hits", n)));
        return new JsonObject()
                .put("from", f.from().toString())
                .put("to", f.to().toString())
                .put("total", total)
                .put("by_day", byDay)
                .put("by_agent", byAgent)
                .put("by_indicator_type", byType)
                .put("by_misp_event", byEvent);
    }

    private static LocalDate day(Instant t) {
        return t.atOffset(ZoneOffset.UTC).toLocalDate();
    }

    /** The last UTC day [from, to) touches. */
    private static LocalDate lastDay(Instant to) {
        return to.minusNanos(1).atOffset(ZoneOffset.UTC).toLocalDate();
    }

    // ---- exports ------------------------------------------------------------------------------------------------

    private void export(RoutingContext ctx, HitQuery.ListRequest request) {
        boolean csv = request.format() == HitQuery.Format.CSV;
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(Instant.now().atOffset(ZoneOffset.UTC));
        Context context = Vertx.currentContext();
        ExportStream out = new ExportStream(context, ctx.response(), response -> response
                .setStatusCode(200)
                .setChunked(true)
                .putHeader("Content-Type", csv ? "text/csv; charset=utf-8" : "application/x-ndjson")
                .putHeader("Content-Disposition", "attachment; filename=\"hits-" + stamp + (csv ? ".csv\"" : ".ndjson\""))
                .putHeader("Cache-Control", "no-store"));
        // no statement timeout: an export of a year takes as long as it takes
        jdbc.readOnly(Connection.TRANSACTION_READ_COMMITTED, c -> {
            stream(c, request, csv, out);
            return null;
        }).onComplete(ar -> {
            if (ar.succeeded() || ar.cause() instanceof ExportStream.Aborted) {
                return;
            }
            if (out.started()) {
                LOG.warn("Export cut short: {}", ar.cause().getMessage());
                out.cutShort();
            } else {
                failed(ctx, ar.cause());
            }
        });
    }

    /** Worker thread: rows through a server-side cursor, never all in memory. */
    private void stream(Connection c, HitQuery.ListRequest request, boolean csv, ExportStream out) throws SQLException {
        AuditSql.Where where = AuditSql.where(request.filter(), request.cursor());
        try (PreparedStatement ps = c.prepareStatement(AuditSql.page(where, request.withAlert(),
                request.effectiveLimit()), ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            ps.setFetchSize(1000);
            bind(ps, where.args());
            if (csv) {
                out.append(HitRows.csvHeader(request.withAlert()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    JsonObject hit = HitRows.json(rs, request.withAlert());
                    out.append(csv ? HitRows.csv(hit, request.withAlert()) : HitRows.ndjson(hit));
                }
            }
        }
        out.finish();
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------

    private <T> void query(RoutingContext ctx, Jdbc.Work<T> work, Consumer<T> reply) {
        query(ctx, Connection.TRANSACTION_READ_COMMITTED, work, reply);
    }

    /** A read-only transaction with a time limit, on the audit workers. */
    private <T> void query(RoutingContext ctx, int isolation, Jdbc.Work<T> work, Consumer<T> reply) {
        jdbc.readOnly(isolation, c -> {
            try (Statement s = c.createStatement()) {
                s.execute(AuditSql.QUERY_TIMEOUT);
            }
            return work.run(c);
        }).onSuccess(reply::accept).onFailure(e -> failed(ctx, e));
    }

    private static void failed(RoutingContext ctx, Throwable e) {
        if (e instanceof StoreUnavailableException) {
            ctx.response().putHeader("Retry-After", "5");
            Responses.error(ctx, 503, "hit store unavailable, try again");
        } else if ("57014".equals(Jdbc.sqlState(e))) {
            Responses.error(ctx, 503, "query took too long; narrow it with from/to or another filter");
        } else {
            LOG.error("Hit query failed", e);
            Responses.error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        }
    }

    private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
        int i = 0;
        for (Object a : args) {
            Object v = AuditSql.bindable(a);
            if (v instanceof String[] array) {
                ps.setArray(++i, ps.getConnection().createArrayOf("text", array));
            } else {
                ps.setObject(++i, v);
            }
        }
    }
}
