package io.github.mispcorrelator.rules;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.correlate.Rules;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.Normaliser;
import org.kie.api.KieBase;
import org.kie.api.definition.rule.Rule;
import org.kie.api.event.rule.BeforeMatchFiredEvent;
import org.kie.api.event.rule.DefaultAgendaEventListener;
import org.kie.api.runtime.KieContainer;
import org.kie.api.runtime.KieSession;
import org.kie.api.runtime.KieSessionsPool;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A compiled, immutable set of DRL rules with its identity. Extraction rules match {@link Alert} facts and call the
 * {@code out} global; scoring rules match {@link Hit} facts. Each phase runs in a session of its own for the time of
 * one alert, so the phases never see each other's facts, and a rule set can be swapped whole while alerts are in
 * flight. Sessions come from Drools' session pool ({@link KieBase#newKieSessionsPool}): building one per alert was a
 * fifth of the hot path (issue 16), and a pooled session's {@code dispose()} resets it to a new one's state —
 * facts, globals, agenda and focus, event listeners, node memories — before the next alert takes it.
 */
public final class RuleSet implements Rules {
    /** A rule that keeps re-firing is a bug in the DRL; it must not hold an alert forever. */
    static final int MAX_FIRINGS = 10_000;
    /** Sessions made ready up front: one per event loop of a 2-core machine plus a worker; the pool grows past it. */
    private static final int POOLED_SESSIONS = 4;

    private final KieContainer container;
    private final KieBase kieBase;
    private final String version;
    private final Instant loadedAt;
    private final List<String> files;
    private final boolean declaresOut;
    private final AllowLists allowLists;
    /** Sessions reused alert after alert; grows to the number of alerts evaluated at the same moment. */
    private final KieSessionsPool sessions;
    /** In-flight users; -1 once disposed. A retired rule set is disposed when its last user is done. */
    private final AtomicInteger leases = new AtomicInteger();
    private volatile boolean retired;

    RuleSet(KieContainer container, KieBase kieBase, String version, Instant loadedAt, List<String> files,
            AllowLists allowLists) {
        this.container = container;
        this.kieBase = kieBase;
        this.version = version;
        this.loadedAt = loadedAt;
        this.files = List.copyOf(files);
        this.allowLists = allowLists;
        this.sessions = kieBase.newKieSessionsPool(POOLED_SESSIONS);
        this.declaresOut = kieBase.getKiePackages().stream()
                .anyMatch(p -> p.getGlobalVariables().stream().anyMatch(g -> g.getName().equals("out")));
    }

    /**
     * The named scoring phases, in the order they run: a scoring rule joins one with {@code ruleflow-group "…"}
     * (Drools 10's name for an agenda group; {@code agenda-group} is deprecated).
     * {@code severity} sets the base from MISP, {@code adjust} lowers or labels it, {@code floor} raises it to what an
     * alert of this kind is worth at least, {@code suppress} decides what never reaches Wazuh. A rule outside
     * them runs after the last phase (Drools' MAIN group); {@code salience} still orders rules within a phase.
     */
    public static final List<String> SCORING_PHASES = List.of("severity", "adjust", "floor", "suppress");

    /**
     * What the extraction rules found in one alert.
     *
     * @param takenFields every field a rule pointed at, usable value or not (for the coverage report)
     */
    public record ExtractionResult(List<Indicator> indicators, Set<String> firedRules, Set<String> takenFields)
            implements Rules.Extracted {
        public ExtractionResult(List<Indicator> indicators, Set<String> firedRules) {
            this(indicators, firedRules, Set.of());
        }
    }

    /** The rule's stable {@code @id}, or its name when it declares none. */
    static String idOf(Rule rule) {
        Object id = rule.getMetaData().get("id");
        if (id == null) {
            return rule.getName();
        }
        // the executable model keeps a string annotation's quotes
        String s = id.toString().strip();
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    /**
     * Runs the extraction rules on one alert and normalises what they found.
     *
     * @throws RuleExecutionException when a rule's consequence fails on this alert
     */
    public ExtractionResult extract(Alert alert) {
        if (alert.isCorrelatorEvent()) {
            // our own event handed back by Wazuh: looking its values up again would answer every hit with another
            return new ExtractionResult(List.of(), Set.of(), Set.of());
        }
        Extraction out = new Extraction();
        KieSession session = sessions.newKieSession();
        try {
            if (declaresOut) {
                session.setGlobal("out", out);
            }
            session.addEventListener(new DefaultAgendaEventListener() {
                @Override
                public void beforeMatchFired(BeforeMatchFiredEvent event) {
                    Rule rule = event.getMatch().getRule();
                    out.firing(rule.getName(), idOf(rule));
                }
            });
            session.insert(alert);
            fire(session);
        } finally {
            // back to the pool, reset
            session.dispose();
        }
        out.finish();
        return new ExtractionResult(Normaliser.normaliseAll(out.candidates()), out.firedRules(), out.takenFields());
    }

    /**
     * Runs the scoring rules over the hits of one alert; they set severity, labels and suppression in place.
     *
     * @return the names of the rules that fired
     * @throws RuleExecutionException when a rule's consequence fails
     */
    public Set<String> score(List<Hit> hits) {
        Set<String> fired = new LinkedHashSet<>();
        if (hits.isEmpty()) {
            return fired;
        }
        for (Hit h : hits) {
            h.allowListMatch(allowLists.find(h.indicator()).orElse(""), name -> allowLists.contains(name, h.indicator()));
        }
        KieSession session = sessions.newKieSession();
        try {
            session.addEventListener(new DefaultAgendaEventListener() {
                @Override
                public void beforeMatchFired(BeforeMatchFiredEvent event) {
                    Rule rule = event.getMatch().getRule();
                    fired.add(rule.getName());
                    String id = idOf(rule);
                    for (Object o : event.getMatch().getObjects()) {
                        if (o instanceof Hit h) {
                            h.firing(rule.getName(), id);
                        }
                    }
                }
            });
            hits.forEach(session::insert);
            // focus is a stack: the first phase is pushed last
            for (int p = SCORING_PHASES.size() - 1; p >= 0; p--) {
                var group = session.getAgenda().getAgendaGroup(SCORING_PHASES.get(p));
                if (group != null) {
                    // null when no rule of this rule set joins the phase
                    group.setFocus();
                }
            }
            fire(session);
        } finally {
            // back to the pool, reset
            session.dispose();
        }
        return fired;
    }

    private static void fire(KieSession session) {
        String[] last = {"?"};
        session.addEventListener(new DefaultAgendaEventListener() {
            @Override
            public void beforeMatchFired(BeforeMatchFiredEvent event) {
                last[0] = event.getMatch().getRule().getName();
            }
        });
        try {
            int fired = session.fireAllRules(MAX_FIRINGS);
            if (fired >= MAX_FIRINGS) {
                throw new RuleExecutionException("rules fired " + MAX_FIRINGS + " times on one alert, last '" + last[0]
                        + "': a rule probably re-activates itself");
            }
        } catch (RuleExecutionException e) {
            throw e;
        } catch (RuntimeException e) {
            throw RuleExecutionException.of(e);
        } catch (StackOverflowError e) {
            // e.g. a catastrophic regular expression on a long, attacker-supplied field
            throw new RuleExecutionException("rule '" + last[0] + "' overflowed the stack on this alert");
        }
    }

    /** Content hash of the DRL files ({@code sha256:…}): the same files give the same version. */
    public String version() {
        return version;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    public List<String> files() {
        return files;
    }

    public List<String> ruleNames() {
        return kieBase.getKiePackages().stream()
                .flatMap(p -> p.getRules().stream())
                .map(Rule::getName)
                .sorted()
                .toList();
    }

    public AllowLists allowLists() {
        return allowLists;
    }

    @Override
    public boolean allowListed(Indicator indicator) {
        return allowLists.containsAny(indicator);
    }

    /** Takes a lease for one alert; false when this rule set is already disposed (take the current one instead). */
    public boolean acquire() {
        while (true) {
            int n = leases.get();
            if (n < 0) {
                return false;
            }
            if (leases.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void release() {
        if (leases.decrementAndGet() == 0 && retired && leases.compareAndSet(0, -1)) {
            disposeNow();
        }
    }

    /** No new alert will use this rule set: dispose it now, or when the last alert using it is done. */
    public void retire() {
        retired = true;
        if (leases.compareAndSet(0, -1)) {
            disposeNow();
        }
    }

    private void disposeNow() {
        sessions.shutdown();
        container.dispose();
    }

    public boolean disposed() {
        return leases.get() < 0;
    }

    /** Releases the compiled classes at once; for shutdown. */
    public void dispose() {
        retire();
    }
}
