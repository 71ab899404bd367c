package io.github.mispcorrelator.rules;

import java.util.List;
import java.util.stream.Collectors;

/** The DRL did not compile; lists every problem with file, line and message. */
public class RuleCompilationException extends RuntimeException {
    private final List<RuleProblem> problems;

    public RuleCompilationException(List<RuleProblem> problems) {
        super("DRL does not compile:\n  " + problems.stream().map(RuleProblem::toString)
                .collect(Collectors.joining("\n  ")));
        this.problems = List.copyOf(problems);
    }

    public RuleCompilationException(String message) {
        super(message);
        this.problems = List.of();
    }

    public List<RuleProblem> problems() {
        return problems;
    }
}
