package io.github.mispcorrelator.coverage;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.indicator.IpAddresses;
import io.github.mispcorrelator.indicator.Normaliser;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Which alert fields hold a value shaped like an indicator — a global IP, a hash, a URL, a domain — judged by the
 * value alone, whatever the field is called: what the blind-spot report counts when no rule read the field. The
 * envelope (agent, manager, rule, decoder, location) and the agent's own name are never intelligence and are skipped.
 */
final class IocShapes {
    private static final int MAX_DEPTH = 12;
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");
    private static final Pattern HASH_LIST = Pattern.compile("(?i)(?:[a-z0-9]+=[0-9a-f]{32,64}[,; ]*)+");
    private static final Pattern URL = Pattern.compile("(?i)(?:https?|ftp)://[^\\s/?#]+[^\\s]*");
    private static final Pattern TLD = Pattern.compile("[a-z]{2,18}|xn--[a-z0-9-]{2,30}");
    /** Dotted names that are files, not hosts: {@code svchost.exe}, {@code sysmon.log}. */
    private static final Set<String> FILE_EXTENSIONS = Set.of("exe", "dll", "sys", "log", "txt", "json", "xml", "conf",
            "cfg", "ini", "ps1", "psm1", "bat", "cmd", "vbs", "js", "py", "sh", "tmp", "dat", "so", "jar", "php", "html",
            "htm", "aspx", "asp", "png", "jpg", "gif", "zip", "gz", "tar", "evtx", "lnk", "msi", "db", "yml", "yaml",
            "csv", "pdf", "doc", "docx", "xls", "xlsx", "service", "socket", "timer", "pem", "crt", "key", "lock",
            "pid", "bak", "old", "swp", "md", "rpm", "deb", "pyc", "class", "mui", "cab", "etl", "manifest", "config",
            "toml", "inf", "cat", "drv", "ocx", "scr", "cpl", "efi", "img", "iso", "vhd", "vhdx", "pf", "mof", "tlb",
            "nls", "ttf", "wim", "local", "localdomain", "internal", "lan", "home", "arpa", "d");
    private static final Set<String> ENVELOPE = Set.of("agent", "manager", "rule", "decoder", "predecoder", "id",
            "timestamp", "location", "cluster", "@timestamp", "input", "previous_output", "full_log", "previous_log");

    private IocShapes() {
    }

    /** The indicator kind a value looks like: {@code ip}, {@code hash}, {@code url}, {@code domain}; empty otherwise. */
    static Optional<String> shapeOf(String raw) {
        String v = raw.strip();
        if (v.length() < 4 || v.length() > 2048) {
            return Optional.empty();
        }
        if (URL.matcher(v).matches()) {
            return Optional.of("url");
        }
        if (IpAddresses.parse(v).map(IpAddresses::isGlobal).orElse(false)) {
            return Optional.of("ip");
        }
        if ((v.length() == 32 || v.length() == 40 || v.length() == 64) && HEX.matcher(v).matches()
                && !v.chars().allMatch(c -> c == '0')) {
            return Optional.of("hash");
        }
        if (v.indexOf('=') > 0 && HASH_LIST.matcher(v).matches()) {
            return Optional.of("hash");
        }
        if (v.indexOf('.') > 0 && v.indexOf(' ') < 0 && v.indexOf('\\') < 0 && v.indexOf('/') < 0) {
            Optional<String> d = Normaliser.normalise(IndicatorType.DOMAIN, v);
            if (d.isPresent()) {
                String name = d.get();
                String tld = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
                if (TLD.matcher(tld).matches() && !FILE_EXTENSIONS.contains(tld) && !Character.isDigit(name.charAt(0))) {
                    return Optional.of("domain");
                }
            }
        }
        return Optional.empty();
    }

    /** Calls {@code sink} with (path, value) for every scalar outside the envelope; a list keeps its name. */
    static void walk(JsonNode alert, BiConsumer<String, String> sink) {
        for (Iterator<Map.Entry<String, JsonNode>> it = alert.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!ENVELOPE.contains(e.getKey())) {
                walk(e.getValue(), e.getKey(), sink, 0);
            }
        }
    }

    private static void walk(JsonNode node, String path, BiConsumer<String, String> sink, int depth) {
        if (depth > MAX_DEPTH) {
            return;
        }
        if (node.isObject()) {
            if (path.equals("data.win.system") || path.equals("data.sca")) {
                // provider, channel, the agent's own computer name; configuration assessment results, whose CIS
                // control numbers (2.3.1.2) look like addresses
                return;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                walk(e.getValue(), path + "." + e.getKey(), sink, depth + 1);
            }
        } else if (node.isArray()) {
            for (JsonNode element : node) {
                walk(element, path, sink, depth + 1);
            }
        } else if (node.isValueNode() && !node.isNull()) {
            sink.accept(path, node.asText(""));
        }
    }
}
