package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.http.Responses;
import io.github.mispcorrelator.http.Routes;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.Normaliser;
import io.github.mispcorrelator.store.Jdbc;
import io.github.mispcorrelator.store.ObservationStore;
import io.github.mispcorrelator.store.StoreUnavailableException;
import io.vertx.core.MultiMap;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code GET /v1/observations?value=…[&type=…][&agents=…]} (role {@code read}): did any agent ever see this value —
 * hit or not — within {@code LOOKBACK_DAYS}, when first and last, on which agents. The value is normalised as alert
 * values are (hashes and domains lower-cased, IPs canonical), for every indicator type it can be, unless {@code type}
 * names one.
 */
public final class ObservationsApi implements Routes {
    private static final Logger LOG = LoggerFactory.getLogger(ObservationsApi.class);
    static final int MAX_VALUE_LENGTH = 8192;
    static final int DEFAULT_AGENTS = 100;
    static final int MAX_AGENTS = 1000;
    private static final Set<String> PARAMETERS = Set.of("value", "type", "agents");

    private final Jdbc jdbc;
    private final int lookbackDays;

    public ObservationsApi(DataSource dataSource, WorkerExecutor executor, int lookbackDays) {
        this.jdbc = new Jdbc(dataSource, executor);
        this.lookbackDays = lookbackDays;
    }

    @Override
    public void mount(Router router) {
        router.get("/v1/observations").handler(this::find);
    }

    /** A question: the normalised value and the types it is asked as. */
    record Question(Map<String, List<String>> typesByValue, String asked, int agents) {
    }

    static Question parse(MultiMap params) {
        for (String name : params.names()) {
            if (!PARAMETERS.contains(name)) {
                throw new BadParameterException(name, "unknown parameter (GET /v1/observations takes value, type, agents)");
            }
            if (params.getAll(name).size() > 1) {
                throw new BadParameterException(name, "given more than once");
            }
        }
        String value = params.get("value");
        if (value == null || value.isBlank()) {
            throw new BadParameterException("value", "required: a hash, an IP address, a domain or a URL");
        }
        if (value.length() > MAX_VALUE_LENGTH) {
            throw new BadParameterException("value", "longer than " + MAX_VALUE_LENGTH + " characters");
        }
        List<IndicatorType> types = new ArrayList<>();
        String type = params.get("type");
        if (type != null) {
            types.add(IndicatorType.of(type).orElseThrow(() -> new BadParameterException("type",
                    "one of " + String.join(", ", List.of(IndicatorType.values()).stream().map(IndicatorType::id).toList()))));
        } else {
            types.addAll(List.of(IndicatorType.values()));
        }
        int agents = DEFAULT_AGENTS;
        String a = params.get("agents");
        if (a != null) {
            try {
                agents = Integer.parseInt(a.strip());
            } catch (NumberFormatException e) {
                agents = -1;
            }
            if (agents < 1 || agents > MAX_AGENTS) {
                throw new BadParameterException("agents", "a whole number from 1 to " + MAX_AGENTS);
            }
        }
        Map<String, List<String>> byValue = new LinkedHashMap<>();
        for (IndicatorType t : types) {
            Optional<String> v = Normaliser.normalise(t, value);
            v.ifPresent(n -> byValue.computeIfAbsent(n, k -> new ArrayList<>()).add(t.id()));
        }
        if (byValue.isEmpty()) {
            throw new BadParameterException("value", type != null
                    ? "not a usable " + type + " (the index keeps only values that can be indicators)"
                    : "not an indicator the index keeps: a hash (md5, sha1, sha256), a global IP address, a domain "
                    + "or a URL (private, loopback and other non-global addresses are never recorded)");
        }
        return new Question(byValue, value, agents);
    }

    private void find(RoutingContext ctx) {
        Question q;
        try {
            q = parse(ctx.queryParams());
        } catch (BadParameterException e) {
            Responses.error(ctx, 400, e.getMessage());
            return;
        }
        jdbc.readOnly(Connection.TRANSACTION_READ_COMMITTED, c -> answer(c, q))
                .onSuccess(body -> Responses.json(ctx, 200, body))
                .onFailure(e -> failed(ctx, e));
    }

    private JsonObject answer(Connection c, Question q) throws SQLException {
        JsonArray found = new JsonArray();
        long hits = 0;
        try (Statement s = c.createStatement()) {
            s.execute(AuditSql.QUERY_TIMEOUT);
        }
        for (Map.Entry<String, List<String>> e : q.typesByValue().entrySet()) {
            for (ObservationStore.ValueHistory h : ObservationStore.historyNow(c, e.getKey(), e.getValue(), q.agents())) {
                found.add(json(h, q.agents()));
            }
            hits += ObservationStore.hitCountNow(c, e.getKey());
        }
        return new JsonObject()
                .put("value", q.asked())
                .put("seen", !found.isEmpty())
                .put("hits", hits)
                .put("lookback_days", lookbackDays)
                .put("observations", found);
    }

    private static JsonObject json(ObservationStore.ValueHistory h, int agentLimit) {
        JsonArray agents = new JsonArray();
        for (ObservationStore.AgentHistory a : h.agents()) {
            agents.add(new JsonObject()
                    .put("manager", a.manager())
                    .put("agent_id", a.agentId())
                    .put("agent_name", a.agentName())
                    .put("first_seen", a.firstSeen().toString())
                    .put("last_seen", a.lastSeen().toString())
                    .put("alerts", a.alerts())
                    .put("days", a.days())
                    .put("first_alert_id", a.firstAlertId())
                    .put("last_alert_id", a.lastAlertId()));
        }
        return new JsonObject()
                .put("type", h.type())
                .put("value", h.value())
                .put("first_seen", h.firstSeen().toString())
                .put("last_seen", h.lastSeen().toString())
                .put("alerts", h.alerts())
                .put("agents", agents)
                .put("agents_truncated", h.agents().size() >= agentLimit);
    }

    private static void failed(RoutingContext ctx, Throwable e) {
        // a query past its time limit (57014) too: the index is busy, asking again later may succeed
        if (e instanceof StoreUnavailableException || "57014".equals(Jdbc.sqlState(e))) {
            ctx.response().putHeader("Retry-After", "5");
            Responses.error(ctx, 503, "observation index unavailable, try again");
        } else {
            LOG.error("Observation query failed", e);
            Responses.error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        }
    }
}
