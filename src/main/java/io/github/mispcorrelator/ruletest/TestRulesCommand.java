package io.github.mispcorrelator.ruletest;

import io.github.mispcorrelator.alert.InvalidAlertException;
import io.github.mispcorrelator.cli.Cli;
import io.github.mispcorrelator.config.CorrelatorConfig;
import io.github.mispcorrelator.correlate.Hit;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.misp.FeedSource;
import io.github.mispcorrelator.misp.MispSettings;
import io.github.mispcorrelator.rules.RuleCompilationException;
import io.github.mispcorrelator.rules.RuleSet;
import io.github.mispcorrelator.rules.RuleSetLoader;
import io.github.mispcorrelator.wazuh.WazuhEvents;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code test-rules}: like {@code wazuh-logtest}, for DRL. Compiles the rules, runs alerts (or golden cases) through
 * them and an offline MISP answer, and prints what fired, what was extracted and how hits were scored. Nothing is
 * stored, nothing is sent, no MISP is contacted.
 */
@Command(name = "test-rules", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "Run alerts through the DRL offline, like wazuh-logtest (see drl/README.md).",
        footer = "Exit status: 0 all good, 1 rules do not compile or a golden case failed, 2 bad usage.")
public final class TestRulesCommand implements Callable<Integer> {
    @Option(names = "--drl", paramLabel = "DIR",
            description = "the rules to test (default: drl_dir of the configuration, ./drl)")
    private Path drl;
    @Option(names = "--feed", paramLabel = "DIR", description = "MISP feed to look indicators up in when the case "
            + "brings no \"misp\" list (default: feed_dir of the configuration, config/demo-feed)")
    private Path feed;
    @Option(names = "--json", description = "print the answer as JSON, as POST /v1/rules/test does")
    private boolean json;
    @Option(names = "--golden", description = "run every case in DIR/tests/*.json and compare with its \"expect\"")
    private boolean golden;
    @Parameters(paramLabel = "ALERT.json", arity = "0..*", description = "a Wazuh alert (as in alerts.json, pretty or "
            + "one line) or a test case {\"alert\": …, \"misp\": [attributes], \"expect\": …} as in drl/tests/")
    private List<Path> files = new ArrayList<>();
    @Spec
    private CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    public TestRulesCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public int run(List<String> args) {
        return Cli.run(this, args, out, err);
    }

    @Override
    public Integer call() {
        if (!golden && files.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give ALERT.json files to test, or --golden");
        }
        CorrelatorConfig config = CorrelatorConfig.load();
        Path drlDir = drl != null ? drl : config.get(CorrelatorConfig.DRL_DIR);
        RuleSet rules;
        try {
            rules = RuleSetLoader.load(drlDir);
        } catch (RuleCompilationException e) {
            err.println(e.getMessage());
            return 1;
        }
        try {
            return golden ? golden(rules, drlDir) : alerts(rules, files, feed != null ? feed : config.get(CorrelatorConfig.FEED_DIR), json);
        } finally {
            rules.dispose();
        }
    }

    private int golden(RuleSet rules, Path drlDir) {
        List<Path> cases = GoldenRunner.cases(drlDir);
        if (cases.isEmpty()) {
            err.println("no golden cases in " + drlDir.resolve(GoldenRunner.TESTS_DIR));
            return 1;
        }
        int failed = 0;
        for (Path f : cases) {
            GoldenRunner.Outcome o;
            try {
                o = GoldenRunner.run(rules, RuleTestCase.fromFile(f));
            } catch (InvalidAlertException e) {
                out.println("FAIL " + f + "\n     " + e.getMessage());
                failed++;
                continue;
            }
            if (o.passed()) {
                out.println("ok   " + f);
            } else {
                failed++;
                out.println("FAIL " + f);
                o.failures().forEach(x -> out.println("     " + x));
            }
        }
        out.println((cases.size() - failed) + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private int alerts(RuleSet rules, List<Path> files, Path feedDir, boolean json) {
        FeedSource feed = null;
        int status = 0;
        for (Path f : files) {
            RuleTestCase c;
            try {
                c = Files.isRegularFile(f) ? RuleTestCase.fromRequest(Files.readAllBytes(f)) : null;
            } catch (InvalidAlertException | IOException e) {
                err.println(f + ": " + e.getMessage());
                status = 1;
                continue;
            }
            if (c == null) {
                err.println(f + ": no such file");
                status = 1;
                continue;
            }
            if (c.misp().isEmpty() && feed == null) {
                feed = FeedSource.load(feedDir, new MispSettings(null, null, true, Duration.ofSeconds(1), true, true));
            }
            RuleTestCase withSource = c.misp().isPresent() ? c : new RuleTestCase(c.name(), c.description(), c.alert(),
                    Optional.of(feed), c.expect());
            GoldenRunner.Outcome o = GoldenRunner.run(rules, withSource);
            if (json) {
                out.println(toJson(rules, o).encodePrettily());
            } else {
                print(f, rules, o);
            }
            if (c.expect().isPresent() && !o.passed()) {
                status = 1;
            }
        }
        return status;
    }

    private void print(Path file, RuleSet rules, GoldenRunner.Outcome o) {
        var alert = o.testCase().alert();
        out.printf("%s: alert %s (rule %s, agent %s, groups %s)%n", file, alert.getId(), alert.getRuleId(),
                alert.getAgentId(), alert.getGroups());
        out.println("  rule set " + rules.version());
        List<String> extractRules = new ArrayList<>(o.indicators().stream().map(Indicator::rule).distinct().toList());
        out.println("  extraction rules that found something: " + (extractRules.isEmpty() ? "none" : String.join("; ", extractRules)));
        if (o.indicators().isEmpty()) {
            out.println("  no indicators");
        }
        for (Indicator i : o.indicators()) {
            out.printf("  indicator %-7s %s  from %s%n", i.type().id(), i.value(), i.field());
        }
        if (o.hits().isEmpty() && !o.indicators().isEmpty()) {
            out.println("  no hits");
        }
        for (Hit h : o.hits()) {
            out.printf("  HIT %s %s → MISP %s %s in event %s \"%s\" (threat %d, tags %s): severity %d%s%s, decided by %s%n",
                    h.getType(), h.getValue(), h.getMispType(), h.attribute().uuid(), h.attribute().eventId(),
                    h.attribute().eventInfo(), h.getThreatLevel(), h.getTags(), h.getSeverity(),
                    h.isSuppressed() ? " SUPPRESSED" : "", h.getLabels().isEmpty() ? "" : " labels " + h.getLabels(),
                    h.getDecidedBy());
        }
        if (o.testCase().expect().isPresent()) {
            out.println(o.passed() ? "  expectation: ok" : "  expectation FAILED:");
            o.failures().forEach(x -> out.println("    " + x));
        } else if (!o.failures().isEmpty() && !o.failures().get(0).startsWith("no \"expect\"")) {
            o.failures().forEach(x -> out.println("  error: " + x));
        }
    }

    static JsonObject toJson(RuleSet rules, GoldenRunner.Outcome o) {
        JsonArray ind = new JsonArray();
        o.indicators().forEach(i -> ind.add(new JsonObject().put("type", i.type().id()).put("value", i.value())
                .put("field", i.field()).put("rule", i.rule())));
        JsonArray hits = new JsonArray();
        o.hits().forEach(h -> hits.add(WazuhEvents.hit(o.testCase().alert(), h, rules.version())
                .put("suppressed", h.isSuppressed())));
        List<String> failures = o.failures().stream().filter(f -> !f.startsWith("no \"expect\"")).toList();
        return new JsonObject().put("alert_id", o.testCase().alert().getId()).put("ruleset", rules.version())
                .put("indicators", ind).put("hits", hits).put("failures", new JsonArray(failures));
    }
}
