package io.github.mispcorrelator.arch;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.github.mispcorrelator.correlate.Correlator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packages of the service depend on each other one way only (README, Layout): read from the compiled classes
 * (every package, the root one included, as "(root)"), any cycle fails this test and is named with the class
 * dependencies that make it. The only cycles allowed are the edges in {@link #KNOWN}, each named, with who removes
 * it; an entry that no longer occurs fails too, so the list cannot outlive its reason.
 */
class PackageCyclesTest {
    static final String BASE = "io.github.mispcorrelator";

    /**
     * Package edges that still close a cycle, until the branch removing them is merged. Delete a line when its
     * edge is gone (this test says so).
     */
    static final Set<String> KNOWN = Set.of(
    );

    static Map<String, Map<String, Set<String>>> graph;

    @BeforeAll
    static void read() {
        JavaClasses classes;
        try {
            // the product's classes only (target/classes), read from where they are: no classpath scan, no tests
            Path main = Path.of(Correlator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .importPath(main);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        graph = new TreeMap<>();
        for (JavaClass c : classes) {
            String from = slice(c.getPackageName());
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String target = d.getTargetClass().getPackageName();
                if (!target.equals(BASE) && !target.startsWith(BASE + ".")) {
                    continue;
                }
                String to = slice(target);
                if (!to.equals(from)) {
                    graph.computeIfAbsent(from, k -> new TreeMap<>()).computeIfAbsent(to, k -> new TreeSet<>())
                            .add(c.getSimpleName() + " -> " + d.getTargetClass().getSimpleName());
                }
            }
        }
    }

    /** The top-level package under {@link #BASE}: a sub-package (e.g. {@code misp.mirror}) belongs to its parent. */
    static String slice(String pkg) {
        if (pkg.equals(BASE)) {
            return "(root)";
        }
        String rest = pkg.substring(BASE.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    @Test
    void theClassesWereRead() {
        // a wrong import location would find no package and no cycle: the test would pass on nothing
        assertThat(graph.keySet()).contains("correlate", "http", "store", "misp", "wazuh", "rules", "alert");
    }

    @Test
    void noPackageCycles() {
        Map<String, Set<String>> edges = new TreeMap<>();
        graph.forEach((from, tos) -> {
            for (String to : tos.keySet()) {
                if (!KNOWN.contains(from + " -> " + to)) {
                    edges.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
                }
            }
        });
        List<String> problems = new ArrayList<>();
        for (Set<String> cycle : cycles(edges)) {
            StringBuilder b = new StringBuilder("packages in a cycle: " + cycle);
            for (String from : cycle) {
                for (String to : edges.getOrDefault(from, Set.of())) {
                    if (cycle.contains(to)) {
                        List<String> why = List.copyOf(graph.get(from).get(to));
                        b.append("\n  ").append(from).append(" -> ").append(to).append(" (e.g. ")
                                .append(String.join(", ", why.subList(0, Math.min(3, why.size())))).append(')');
                    }
                }
            }
            problems.add(b.toString());
        }
        assertThat(problems).as("package dependencies must go one way (README, Layout)").isEmpty();
    }

    @Test
    void everyKnownExceptionStillOccurs() {
        for (String edge : KNOWN) {
            String[] p = edge.split(" -> ");
            assertThat(graph.getOrDefault(p[0], Map.of()).containsKey(p[1]))
                    .as("'%s' no longer occurs: delete its line from PackageCyclesTest.KNOWN", edge).isTrue();
        }
    }

    /** Strongly connected components of more than one package (Tarjan's algorithm). */
    static List<Set<String>> cycles(Map<String, Set<String>> edges) {
        Set<String> nodes = new TreeSet<>(edges.keySet());
        edges.values().forEach(nodes::addAll);
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new LinkedHashSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String n : nodes) {
            if (!index.containsKey(n)) {
                connect(n, edges, index, low, stack, onStack, out, counter);
            }
        }
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> edges, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : edges.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, edges, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                out.add(component);
            }
        }
    }

    @Test
    void aCycleIsFound() {
        // the check itself: a -> b -> c -> a is one cycle, d outside it
        List<Set<String>> found = cycles(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d")));
        assertThat(found).containsExactly(new TreeSet<>(List.of("a", "b", "c")));
    }
}
