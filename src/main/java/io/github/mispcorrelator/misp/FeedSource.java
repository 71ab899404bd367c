package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.IndicatorType;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.json.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A MISP feed directory held in memory: {@code manifest.json} lists the events, one {@code <uuid>.json} file holds
 * each ({@code {"Event": …}}, the format of MISP's own feeds). Answers the same lookups as {@link MispClient}, with
 * the same {@code to_ids} and {@code published} filters, and no network.
 */
public final class FeedSource implements MispSource {
    private static final Logger LOG = LoggerFactory.getLogger(FeedSource.class);

    private final String name;
    private final Map<String, List<MispAttribute>> index;
    /** CIDR ip-src/ip-dst attributes: they match every address inside, not one key. */
    private final CidrBlocks<MispAttribute> blocks;
    private final int attributeCount;

    private final AttributeFilter filter;
    /** Events the manifest lists whose file is missing (a feed copied half-way): loaded without them, reported. */
    private List<String> missingEvents = List.of();

    private FeedSource(String name, Map<String, List<MispAttribute>> index, CidrBlocks<MispAttribute> blocks, int attributeCount,
                       AttributeFilter filter) {
        this.name = name;
        this.index = index;
        this.blocks = blocks;
        this.attributeCount = attributeCount;
        this.filter = filter;
    }

    /** Indexes one attribute: under each exact key, or under its block when it is CIDR. */
    private static void index(MispAttribute a, Map<String, List<MispAttribute>> index, CidrBlocks<MispAttribute> blocks) {
        for (String key : AttributeMatcher.keys(a)) {
            index.computeIfAbsent(key, k -> new ArrayList<>(1)).add(a);
        }
        AttributeMatcher.cidr(a).ifPresent(block -> blocks.add(block, a));
    }

    /**
     * Reads every event the manifest lists (or, without a manifest, every {@code *.json} file). An event the manifest
     * lists without a file is left out, logged and reported ({@link #missingEvents()}): the rest still loads.
     *
     * @throws IllegalArgumentException when the directory or an event file cannot be read, naming the file
     */
    public static FeedSource load(Path dir, MispSettings filters) {
        return load(dir, filters, Warninglists.NONE);
    }

    /**
     * As {@link #load(Path, MispSettings)}, leaving out attributes on these warning lists when
     * {@code enforceWarninglist} is set (as MISP would drop them from a restSearch answer).
     */
    public static FeedSource load(Path dir, MispSettings filters, Warninglists warninglists) {
        String name = "feed:" + dir;
        int warned = 0;
        List<String> missing = new ArrayList<>();
        List<Path> eventFiles = eventFiles(dir, missing);
        Map<String, List<MispAttribute>> index = new HashMap<>();
        CidrBlocks<MispAttribute> blocks = new CidrBlocks<>();
        int count = 0;
        for (Path file : eventFiles) {
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(file.toFile());
            } catch (IOException e) {
                throw new IllegalArgumentException("MISP feed event " + file + " is not valid JSON: " + e.getMessage());
            }
            if (filters.published() && !MispJson.published(root)) {
                continue;
            }
            for (MispAttribute a : MispJson.eventAttributes(root, name)) {
                if (filters.toIds() && !a.toIds()) {
                    continue;
                }
                if (filters.enforceWarninglist() && warninglists.listed(a)) {
                    warned++;
                    continue;
                }
                count++;
                index(a, index, blocks);
            }
        }
        LOG.info("Loaded MISP feed {}: {} events, {} attributes usable for detection{}", dir, eventFiles.size(), count,
                warninglists.isEmpty() ? "" : " (" + warned + " left out: on " + warninglists.size() + " warning lists)");
        if (!missing.isEmpty()) {
            LOG.warn("MISP feed {}: the manifest lists {} event(s) with no file, left out: {}", dir, missing.size(),
                    missing.size() <= 20 ? missing : missing.subList(0, 20) + " …");
        }
        FeedSource feed = new FeedSource(name, Map.copyOf(index), blocks, count, filters.filter());
        feed.missingEvents = List.copyOf(missing);
        return feed;
    }

    /** An in-memory source over given attributes (a rule test case's own MISP answer), with the same matching. */
    public static FeedSource of(String name, List<MispAttribute> attributes) {
        Map<String, List<MispAttribute>> index = new HashMap<>();
        CidrBlocks<MispAttribute> blocks = new CidrBlocks<>();
        for (MispAttribute a : attributes) {
            index(a, index, blocks);
        }
        return new FeedSource(name, Map.copyOf(index), blocks, attributes.size(), AttributeFilter.NONE);
    }

    private static List<Path> eventFiles(Path dir, List<String> missing) {
        Path manifest = dir.resolve("manifest.json");
        List<Path> files = new ArrayList<>();
        try {
            if (Files.isRegularFile(manifest)) {
                JsonNode m = Json.MAPPER.readTree(manifest.toFile());
                for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
                    String uuid = it.next();
                    Path f = dir.resolve(uuid + ".json");
                    if (!Files.isRegularFile(f)) {
                        missing.add(uuid);
                        continue;
                    }
                    files.add(f);
                }
            } else {
                try (var stream = Files.list(dir)) {
                    stream.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read MISP feed " + dir + ": " + e.getMessage());
        }
        return files;
    }

    @Override
    public Future<LookupResult> lookup(List<Indicator> indicators) {
        Map<Indicator, List<MispAttribute>> matches = new LinkedHashMap<>();
        for (Indicator i : indicators) {
            List<MispAttribute> found = index.get(i.key());
            if (i.type() == IndicatorType.IP && blocks.size() > 0) {
                List<MispAttribute> inBlocks = blocks.containing(i.value());
                if (!inBlocks.isEmpty()) {
                    found = found == null ? inBlocks : Stream.concat(found.stream(), inBlocks.stream()).toList();
                }
            }
            if (found != null) {
                found = filter.apply(i.type(), found, Instant.now());
                if (!found.isEmpty()) {
                    matches.put(i, found);
                }
            }
        }
        return Future.succeededFuture(new LookupResult(matches, Map.of()));
    }

    @Override
    public String name() {
        return name;
    }

    public int attributeCount() {
        return attributeCount;
    }

    /** The feed's entry in {@code GET /v1/misp/status}: its attributes and the events its manifest lists but lacks. */
    @Override
    public JsonObject status() {
        return new JsonObject().put("instance", name).put("mode", "feed").put("attributes", attributeCount)
                .put("missing_events", new JsonArray(new ArrayList<>(missingEvents)));
    }

    /** The uuids of events the manifest lists but whose file is missing. */
    public List<String> missingEvents() {
        return missingEvents;
    }

    /** Every attribute held, each once (the look-back joins them with what was seen when the feed is loaded). */
    public List<MispAttribute> attributes() {
        Set<MispAttribute> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        index.values().forEach(distinct::addAll);
        return List.copyOf(distinct);
    }
}
