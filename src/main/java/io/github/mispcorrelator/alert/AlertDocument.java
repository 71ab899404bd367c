package io.github.mispcorrelator.alert;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.base.ParserBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.github.mispcorrelator.json.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * One alert's bytes and where each of its values lies in them, read in one streaming pass (issue 16: building the
 * whole Jackson tree of every alert was the largest step of the hot path, and the rules read a dozen of its hundreds
 * of values). The pass checks all of the text as the tree parse did — duplicate keys, UTF-8, escapes, nesting — and
 * records, per value, its kind, first byte and (for objects and arrays) its end, its name and its next sibling; a
 * value is decoded only when a rule asks for it, a subtree built only when asked for as a tree.
 *
 * <p>Values are numbered ("slots") in document order; slot 0 is the root object. Immutable once built but for the
 * caches of decoded text, whose races are benign (two threads decode the same string).
 */
final class AlertDocument {
    static final byte OBJECT = 1;
    static final byte ARRAY = 2;
    static final byte STRING = 3;
    static final byte NUMBER = 4;
    static final byte TRUE = 5;
    static final byte FALSE = 6;
    static final byte NULL = 7;

    private final byte[] bytes;
    private int size;
    private byte[] kinds;
    private int[] starts;
    /** For objects and arrays, the offset after their closing bracket. */
    private int[] ends;
    private int[] firstChildren;
    private int[] nextSiblings;
    private String[] names;
    /** Decoded scalar text, by slot, allocated when first needed. */
    private volatile String[] texts;

    private AlertDocument(byte[] bytes, int capacity) {
        this.bytes = bytes;
        kinds = new byte[capacity];
        starts = new int[capacity];
        ends = new int[capacity];
        firstChildren = new int[capacity];
        nextSiblings = new int[capacity];
        names = new String[capacity];
    }

    /**
     * Reads {@code bytes} (the alert's own, never shared with a batch: an alert may outlive its request in buffers),
     * which must hold one JSON object and nothing after it.
     *
     * @return the document, or null when the text is not one well-formed object: the caller then parses it as a tree
     *         to say why in the tree parser's own words (rare; the message stays what it was)
     */
    static AlertDocument read(byte[] bytes) {
        AlertDocument doc = new AlertDocument(bytes, Math.max(16, bytes.length / 12));
        try (JsonParser parser = Json.STREAMS.createParser(bytes)) {
            ParserBase p = (ParserBase) parser;
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            int[] open = new int[16];
            int[] last = new int[16];
            int depth = 0;
            open[0] = doc.add(OBJECT, at(p), null);
            last[0] = -1;
            String name = null;
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                byte kind;
                switch (t) {
                    case FIELD_NAME -> {
                        name = p.currentName();
                        continue;
                    }
                    case END_OBJECT, END_ARRAY -> {
                        if (t == JsonToken.END_OBJECT && doc.repeatsAName(open[depth])) {
                            return null;
                        }
                        doc.ends[open[depth]] = at(p) + 1;
                        name = null;
                        if (depth-- == 0) {
                            return p.nextToken() == null ? doc : null;
                        }
                        continue;
                    }
                    case START_OBJECT -> kind = OBJECT;
                    case START_ARRAY -> kind = ARRAY;
                    case VALUE_STRING -> kind = STRING;
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> kind = NUMBER;
                    case VALUE_TRUE -> kind = TRUE;
                    case VALUE_FALSE -> kind = FALSE;
                    case VALUE_NULL -> kind = NULL;
                    default -> {
                        return null;
                    }
                }
                int slot = doc.add(kind, at(p), name);
                name = null;
                if (last[depth] < 0) {
                    doc.firstChildren[open[depth]] = slot;
                } else {
                    doc.nextSiblings[last[depth]] = slot;
                }
                last[depth] = slot;
                if (kind == OBJECT || kind == ARRAY) {
                    if (++depth == open.length) {
                        open = Arrays.copyOf(open, depth * 2);
                        last = Arrays.copyOf(last, depth * 2);
                    }
                    open[depth] = slot;
                    last[depth] = -1;
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Where the current value token starts: its quote, bracket or first character. {@link ParserBase} keeps the
     * offset one past it ({@code AlertDocumentTest} holds it to that); {@link JsonParser#currentTokenLocation()}
     * says the same but builds a location per token, a fifth of the pass.
     */
    private static int at(ParserBase p) {
        return (int) p.getTokenCharacterOffset() - 1;
    }

    /**
     * Whether a name occurs twice among an object's members: the pass's own check (the parser's keeps a hash set of
     * names for every object of more than two members). Names come from the parser's symbol table, so equal names
     * are mostly the same string and compare at once; objects of many members go through a set.
     */
    private boolean repeatsAName(int object) {
        int count = 0;
        for (int c = firstChildren[object]; c >= 0; c = nextSiblings[c]) {
            count++;
        }
        if (count <= 16) {
            for (int c = firstChildren[object]; c >= 0; c = nextSiblings[c]) {
                for (int d = nextSiblings[c]; d >= 0; d = nextSiblings[d]) {
                    if (names[c].equals(names[d])) {
                        return true;
                    }
                }
            }
            return false;
        }
        Set<String> seen = new HashSet<>(count * 2);
        for (int c = firstChildren[object]; c >= 0; c = nextSiblings[c]) {
            if (!seen.add(names[c])) {
                return true;
            }
        }
        return false;
    }

    private int add(byte kind, int start, String name) {
        if (size == kinds.length) {
            int capacity = size * 2;
            kinds = Arrays.copyOf(kinds, capacity);
            starts = Arrays.copyOf(starts, capacity);
            ends = Arrays.copyOf(ends, capacity);
            firstChildren = Arrays.copyOf(firstChildren, capacity);
            nextSiblings = Arrays.copyOf(nextSiblings, capacity);
            names = Arrays.copyOf(names, capacity);
        }
        int slot = size++;
        kinds[slot] = kind;
        starts[slot] = start;
        firstChildren[slot] = -1;
        nextSiblings[slot] = -1;
        names[slot] = name;
        return slot;
    }

    byte[] bytes() {
        return bytes;
    }

    byte kind(int slot) {
        return kinds[slot];
    }

    String name(int slot) {
        return names[slot];
    }

    int firstChild(int slot) {
        return firstChildren[slot];
    }

    int nextSibling(int slot) {
        return nextSiblings[slot];
    }

    boolean isContainer(int slot) {
        return kinds[slot] == OBJECT || kinds[slot] == ARRAY;
    }

    /** Whether an object or array holds anything. */
    boolean isEmpty(int slot) {
        return firstChildren[slot] < 0;
    }

    /** The member of an object by its exact name, or -1 (also when {@code object} is -1 or no object). */
    int member(int object, String name) {
        if (object < 0 || kinds[object] != OBJECT) {
            return -1;
        }
        for (int c = firstChildren[object]; c >= 0; c = nextSiblings[c]) {
            if (names[c].equals(name)) {
                return c;
            }
        }
        return -1;
    }

    /** The first member of an object whose name differs from {@code name} only in case, or -1. */
    int memberIgnoringCase(int object, String name) {
        for (int c = firstChildren[object]; c >= 0; c = nextSiblings[c]) {
            if (names[c].equalsIgnoreCase(name)) {
                return c;
            }
        }
        return -1;
    }

    /**
     * A scalar's text as {@link JsonNode#asText()} gives it for the node the tree parser would have built (numbers
     * as Jackson prints them: {@code 1.50} is {@code 1.5}); null for objects and arrays and JSON null.
     */
    String text(int slot) {
        byte kind = kinds[slot];
        switch (kind) {
            case TRUE:
                return "true";
            case FALSE:
                return "false";
            case STRING, NUMBER:
                break;
            default:
                return null;
        }
        String[] cache = texts;
        if (cache == null) {
            cache = new String[size];
            texts = cache;
        }
        String s = cache[slot];
        if (s == null) {
            s = kind == STRING ? string(starts[slot]) : number(slot);
            cache[slot] = s;
        }
        return s;
    }

    /** The value as the tree parser would have built it, on its own (a subtree is parsed from its bytes). */
    JsonNode node(int slot) {
        return switch (kinds[slot]) {
            case STRING -> TextNode.valueOf(text(slot));
            case TRUE -> BooleanNode.TRUE;
            case FALSE -> BooleanNode.FALSE;
            case NULL -> NullNode.instance;
            case NUMBER -> tree(starts[slot], numberEnd(starts[slot]));
            default -> tree(starts[slot], ends[slot]);
        };
    }

    /** The whole alert as a tree, as {@link AlertParser} used to build it for every alert. */
    JsonNode tree() {
        return tree(0, bytes.length);
    }

    private JsonNode tree(int from, int to) {
        try {
            return Json.MAPPER.readTree(bytes, from, to - from);
        } catch (IOException e) {
            // the pass accepted these bytes: the tree parser refusing them now would be a bug of ours
            throw new UncheckedIOException("alert text accepted by the streaming pass refused by the tree parser", e);
        }
    }

    private String number(int slot) {
        int from = starts[slot];
        int to = numberEnd(from);
        // an integer of up to 18 digits prints as written (JSON has no leading zeros), but for -0
        int digits = to - from - (bytes[from] == '-' ? 1 : 0);
        boolean plain = digits <= 18 && !(digits == 1 && bytes[from] == '-' && bytes[from + 1] == '0');
        for (int i = bytes[from] == '-' ? from + 1 : from; plain && i < to; i++) {
            plain = bytes[i] >= '0' && bytes[i] <= '9';
        }
        return plain ? new String(bytes, from, to - from, StandardCharsets.ISO_8859_1) : tree(from, to).asText();
    }

    /** A number as {@link JsonNode#asInt()} reads it (a rule level: read as written when it is a plain int). */
    int intValue(int slot) {
        String s = text(slot);
        if (s.length() <= 9 && s.indexOf('.') < 0 && s.indexOf('e') < 0 && s.indexOf('E') < 0) {
            return Integer.parseInt(s);
        }
        return node(slot).asInt();
    }

    private int numberEnd(int from) {
        int i = from;
        while (i < bytes.length) {
            byte b = bytes[i];
            if ((b >= '0' && b <= '9') || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E') {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    /**
     * The string whose opening quote is at {@code quote}: ASCII, escapes included, decoded here; anything else by
     * Jackson itself, so non-ASCII text decodes exactly as the tree parser decoded it.
     */
    private String string(int quote) {
        int i = quote + 1;
        while (true) {
            byte b = bytes[i];
            if (b == '"') {
                return new String(bytes, quote + 1, i - quote - 1, StandardCharsets.ISO_8859_1);
            }
            if (b == '\\' || b < 0) {
                break;
            }
            i++;
        }
        StringBuilder out = new StringBuilder(i - quote + 16);
        for (int k = quote + 1; k < i; k++) {
            out.append((char) bytes[k]);
        }
        while (true) {
            byte b = bytes[i];
            if (b == '"') {
                return out.toString();
            }
            if (b < 0) {
                return jacksonString(quote);
            }
            if (b != '\\') {
                out.append((char) b);
                i++;
                continue;
            }
            byte e = bytes[i + 1];
            i += 2;
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    out.append((char) Integer.parseInt(new String(bytes, i, 4, StandardCharsets.ISO_8859_1), 16));
                    i += 4;
                }
                // '"', '\\', '/' and, were they allowed, any other escaped character stand for themselves
                default -> out.append((char) e);
            }
        }
    }

    private String jacksonString(int quote) {
        try (JsonParser p = Json.STREAMS.createParser(bytes, quote, bytes.length - quote)) {
            p.nextToken();
            return p.getText();
        } catch (IOException e) {
            throw new UncheckedIOException("alert text accepted by the streaming pass refused by the tree parser", e);
        }
    }
}
