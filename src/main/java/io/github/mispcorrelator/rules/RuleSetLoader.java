package io.github.mispcorrelator.rules;

import org.drools.model.codegen.ExecutableModelProject;
import org.kie.api.KieBase;
import org.kie.api.KieBaseConfiguration;
import org.kie.api.KieServices;
import org.kie.api.builder.KieBuilder;
import org.kie.api.builder.KieFileSystem;
import org.kie.api.builder.Message;
import org.kie.api.builder.ReleaseId;
import org.kie.api.conf.KieBaseMutabilityOption;
import org.kie.api.runtime.KieContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Compiles the {@code *.drl} files of a directory (sub-directories included) with Drools' executable model into a
 * {@link RuleSet}. Slow (seconds) and CPU-bound: never call it on an event loop.
 */
public final class RuleSetLoader {
    private static final Logger LOG = LoggerFactory.getLogger(RuleSetLoader.class);
    private static final String KJAR_ROOT = "src/main/resources/";
    /** Allow-lists live in this sub-directory of the DRL directory. */
    public static final String ALLOWLISTS = "allowlists";
    private static final AtomicLong BUILDS = new AtomicLong();
    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)", Pattern.MULTILINE);

    private RuleSetLoader() {
    }

    /** @throws RuleCompilationException with file, line and message of every error */
    public static RuleSet load(Path dir) {
        List<Path> files = drlFiles(dir);
        if (files.isEmpty()) {
            throw new RuleCompilationException("no .drl files in " + dir.toAbsolutePath());
        }
        long started = System.nanoTime();
        KieServices ks = KieServices.Factory.get();
        // A fresh release id per build: the KieRepository would otherwise hand back the previous build.
        ReleaseId releaseId = ks.newReleaseId("io.github.mispcorrelator", "ruleset", "1.0." + BUILDS.incrementAndGet());
        KieFileSystem kfs = ks.newKieFileSystem();
        kfs.generateAndWritePomXML(releaseId);
        MessageDigest digest = sha256();
        List<String> names = new ArrayList<>();
        Map<String, String> kjarPaths = new HashMap<>();
        List<RuleProblem> metadataProblems = new ArrayList<>();
        Map<String, String> ruleIds = new HashMap<>();
        for (Path file : files) {
            String relative = dir.relativize(file).toString().replace('\\', '/');
            byte[] content = read(file);
            digest.update(relative.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(content);
            String kjarPath = KJAR_ROOT + packageFolder(content) + relative.replace('/', '_');
            kjarPaths.put(kjarPath, relative);
            kfs.write(kjarPath, content);
            names.add(relative);
            metadataProblems.addAll(RuleMetadataCheck.check(file.toString(),
                    new String(content, StandardCharsets.UTF_8), ruleIds));
        }
        AllowLists allowLists = allowLists(dir, digest);
        KieBuilder builder = ks.newKieBuilder(kfs).buildAll(ExecutableModelProject.class);
        List<RuleProblem> problems = builder.getResults().getMessages(Message.Level.ERROR).stream()
                .map(m -> problem(dir, kjarPaths, m))
                .toList();
        if (problems.isEmpty()) {
            // metadata is checked only once the DRL compiles: a syntax error is reported once, by the compiler
            problems = metadataProblems;
        }
        if (!problems.isEmpty()) {
            ks.getRepository().removeKieModule(releaseId);
            throw new RuleCompilationException(problems);
        }
        KieContainer container = ks.newKieContainer(releaseId);
        KieBaseConfiguration conf = ks.newKieBaseConfiguration();
        // immutable: a new rule set is built and swapped whole, never patched in place
        conf.setOption(KieBaseMutabilityOption.DISABLED);
        KieBase kieBase = container.newKieBase(conf);
        ks.getRepository().removeKieModule(releaseId);
        String version = "sha256:" + HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        RuleSet ruleSet = new RuleSet(container, kieBase, version, Instant.now(), names, allowLists);
        LOG.info("Compiled {} DRL file(s), {} rules, version {} in {} ms", names.size(), ruleSet.ruleNames().size(),
                version, (System.nanoTime() - started) / 1_000_000);
        return ruleSet;
    }

    /** {@code allowlists/*.txt} beside the DRL; part of the rule set's identity, so their hash joins the version. */
    private static AllowLists allowLists(Path dir, MessageDigest digest) {
        Path folder = dir.resolve(ALLOWLISTS);
        if (!Files.isDirectory(folder)) {
            return AllowLists.NONE;
        }
        Map<String, AllowList> lists = new HashMap<>();
        List<RuleProblem> problems = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                String name = f.getFileName().toString().replaceFirst("\\.txt$", "");
                byte[] content = Files.readAllBytes(f);
                digest.update((ALLOWLISTS + "/" + f.getFileName()).getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(content);
                try {
                    lists.put(name, AllowList.parse(name,
                            new String(content, StandardCharsets.UTF_8).lines().toList()));
                } catch (IllegalArgumentException e) {
                    String msg = e.getMessage();
                    int line = msg.startsWith("line ") ? Integer.parseInt(msg.substring(5, msg.indexOf(':'))) : -1;
                    problems.add(new RuleProblem(f.toString(), line, msg.substring(msg.indexOf(':') + 1).strip()));
                }
            }
        } catch (IOException e) {
            throw new RuleCompilationException("cannot read " + folder + ": " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new RuleCompilationException(problems);
        }
        return new AllowLists(lists);
    }

    private static RuleProblem problem(Path dir, Map<String, String> kjarPaths, Message m) {
        String text = m.getText() == null ? "" : m.getText().strip();
        String relative = null;
        if (m.getPath() != null) {
            // messages name the file either by its full build path or relative to the resources root
            relative = kjarPaths.entrySet().stream()
                    .filter(e -> e.getKey().equals(m.getPath()) || e.getKey().endsWith("/" + m.getPath()))
                    .map(Map.Entry::getValue)
                    .findFirst().orElse(null);
        }
        if (relative == null) {
            return new RuleProblem(dir.toString(), m.getLine(), text);
        }
        Path file = dir.resolve(relative);
        int line = m.getLine() > 0 ? m.getLine() : locate(file, text);
        return new RuleProblem(file.toString(), line, text);
    }

    /**
     * The executable model reports some constraint errors without a line; the offending expression is quoted in the
     * message, so its first occurrence in the file gives the line a detection engineer needs.
     */
    static int locate(Path file, String message) {
        int colon = message.lastIndexOf(": ");
        if (colon < 0) {
            return -1;
        }
        String fragment = message.substring(colon + 2).strip();
        if (fragment.length() < 3) {
            return -1;
        }
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains(fragment)) {
                    return i + 1;
                }
            }
        } catch (IOException ignored) {
            // the message still names the file
        }
        return -1;
    }

    /**
     * Drools expects a file's folder to match its package; detection engineers should not have to mirror packages
     * in folders, so each file is placed by its package declaration inside the build.
     */
    static String packageFolder(byte[] content) {
        Matcher m = PACKAGE.matcher(new String(content, StandardCharsets.UTF_8));
        return m.find() ? m.group(1).replace('.', '/') + "/" : "";
    }

    private static List<Path> drlFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new RuleCompilationException("DRL directory does not exist: " + dir.toAbsolutePath());
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(".drl") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new RuleCompilationException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
