package io.github.mispcorrelator.rules;

import org.drools.drl.ast.descr.AnnotationDescr;
import org.drools.drl.ast.descr.AttributeDescr;
import org.drools.drl.ast.descr.PackageDescr;
import org.drools.drl.ast.descr.RuleDescr;
import org.drools.drl.parser.DrlParser;
import org.drools.drl.parser.DroolsParserException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks at load time that the metadata the product shows says what the rule does: {@code @indicator} lists exactly
 * the types the consequence's {@code out.*} calls can give, {@code @severity} is a level the consequence sets (or
 * {@code "-N"} it lowers by), {@code @id} is unique, and a {@code ruleflow-group} names a scoring phase (any other
 * group never gets the focus, so its rules would silently never fire). A mismatch fails the load like a compile
 * error, with file and line. Reads the DRL with Drools' own parser; syntax errors are left to the compiler.
 */
final class RuleMetadataCheck {
    private static final Pattern OUT_CALL = Pattern.compile("\\bout\\s*\\.\\s*(\\w+)\\s*\\(([^;]*)\\)");
    private static final Pattern STRING_LITERAL = Pattern.compile("\"([^\"]*)\"");
    private static final Pattern SEVERITY_CALL = Pattern.compile("\\.\\s*(raise|setSeverity|lower)\\s*\\(\\s*(\\d+)\\s*\\)");
    private static final List<String> HASHES = List.of("md5", "sha1", "sha256", "imphash");
    private static final List<String> ALL = List.of("md5", "sha1", "sha256", "imphash", "ip", "domain", "url");

    private RuleMetadataCheck() {
    }

    /** @param ids the {@code @id}s seen so far in this rule set, with where; filled in */
    static List<RuleProblem> check(String file, String drl, Map<String, String> ids) {
        List<RuleProblem> problems = new ArrayList<>();
        PackageDescr pkg;
        try {
            DrlParser parser = new DrlParser();
            pkg = parser.parse(false, drl);
            if (parser.hasErrors() || pkg == null) {
                return problems;
            }
        } catch (DroolsParserException | RuntimeException e) {
            return problems;
        }
        for (RuleDescr rule : pkg.getRules()) {
            String where = "rule \"" + rule.getName() + "\": ";
            int line = rule.getLine();
            String consequence = rule.getConsequence() == null ? "" : rule.getConsequence().toString();

            AnnotationDescr id = rule.getAnnotation("id");
            if (id != null) {
                String value = String.valueOf(id.getSingleValueStripped()).strip();
                String previous = ids.putIfAbsent(value, file + ":" + line);
                if (value.isEmpty()) {
                    problems.add(new RuleProblem(file, line, where + "@id is empty"));
                } else if (previous != null) {
                    problems.add(new RuleProblem(file, line, where + "@id(\"" + value + "\") is already used at " + previous));
                }
            }

            AnnotationDescr indicator = rule.getAnnotation("indicator");
            if (indicator != null) {
                Set<String> declared = new TreeSet<>();
                for (String t : String.valueOf(indicator.getSingleValueStripped()).split(",")) {
                    if (!t.isBlank()) {
                        declared.add(t.strip().toLowerCase(Locale.ROOT));
                    }
                }
                Set<String> produced = produced(consequence);
                if (!declared.equals(produced)) {
                    problems.add(new RuleProblem(file, line, where + "@indicator(\"" + String.join(", ", declared)
                            + "\") but its consequence extracts " + (produced.isEmpty() ? "nothing" : String.join(", ", produced))));
                }
            }

            AnnotationDescr severity = rule.getAnnotation("severity");
            if (severity != null) {
                String declared = String.valueOf(severity.getSingleValueStripped()).strip();
                boolean lowers = declared.startsWith("-");
                String level = lowers ? declared.substring(1) : declared;
                boolean found = false;
                Matcher m = SEVERITY_CALL.matcher(consequence);
                while (m.find()) {
                    boolean isLower = m.group(1).equals("lower");
                    found |= isLower == lowers && m.group(2).equals(level);
                }
                if (!found) {
                    problems.add(new RuleProblem(file, line, where + "@severity(" + declared + ") but its consequence "
                            + (lowers ? "does not lower(" + level + ")" : "neither raises nor sets severity " + level)));
                }
            }

            AttributeDescr group = rule.getAttributes().get("ruleflow-group");
            if (group != null && !RuleSet.SCORING_PHASES.contains(group.getValue())) {
                problems.add(new RuleProblem(file, line, where + "ruleflow-group \"" + group.getValue()
                        + "\" is not a scoring phase (" + String.join(", ", RuleSet.SCORING_PHASES) + "): it would never fire"));
            }
        }
        return problems;
    }

    /** The indicator types the consequence's {@code out.*} calls can give. */
    static Set<String> produced(String consequence) {
        Set<String> types = new TreeSet<>();
        Matcher m = OUT_CALL.matcher(consequence);
        while (m.find()) {
            switch (m.group(1)) {
                case "hashes" -> types.addAll(HASHES);
                case "hash", "value" -> {
                    Matcher lit = STRING_LITERAL.matcher(m.group(2));
                    if (lit.find()) {
                        types.add(lit.group(1).toLowerCase(Locale.ROOT));
                    }
                }
                case "ip", "ipsIn" -> types.add("ip");
                case "domain" -> types.add("domain");
                case "url" -> types.add("url");
                case "urlHost", "host" -> types.addAll(Arrays.asList("domain", "ip"));
                case "fallback" -> types.addAll(ALL);
                default -> { }
            }
        }
        return types;
    }
}
