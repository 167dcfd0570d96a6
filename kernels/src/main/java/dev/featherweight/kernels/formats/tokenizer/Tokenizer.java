package dev.featherweight.kernels.formats.tokenizer;

import dev.featherweight.kernels.formats.FormatException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face {@code tokenizer.json} BPE tokenizer, in the two flavours Llama-family models ship:
 * <ul>
 *   <li>SentencePiece-style BPE (Llama 2, the shared tok512 models): the normalizer turns spaces into
 *   "▁" and prepends one; the whole text is one word; characters missing from the vocabulary fall back
 *   to {@code <0xNN>} byte tokens;</li>
 *   <li>byte-level BPE (GPT-2, Llama 3, Qwen2): a regex pre-tokenizer splits words, every UTF-8 byte is
 *   mapped to a printable character (GPT-2's byte↔unicode table) and merges apply within a word.</li>
 * </ul>
 * Merging follows the tokenizers library: repeatedly merge the adjacent pair of lowest merge rank,
 * leftmost first. Added tokens (e.g. {@code <s>}) are matched in the raw text before normalization.
 */
public final class Tokenizer {
    private enum Kind { SENTENCEPIECE_BPE, BYTE_LEVEL_BPE }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Kind kind;
    private final String[] pieces;
    private final Map<String, Integer> ids;
    /** (left id, right id) packed in a long → rank in the high half, merged id in the low half. */
    private final Map<Long, Long> merges;
    private final int[] byteTokens; // <0xNN> ids for byte fallback, -1 when absent
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final List<AddedToken> added;
    private final boolean[] special;
    private final Pattern splitPattern; // byte-level pre-tokenizer regex
    private final boolean prependSpace; // SentencePiece normalizer Prepend("▁")
    private final boolean addPrefixSpace; // byte-level add_prefix_space
    private final int bosId;
    private final int eosId;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean stripLeadingSpaceOnDecode;

    private record AddedToken(String content, int id, boolean special) {
    }

    private Tokenizer(Builder b) {
        this.kind = b.kind;
        this.pieces = b.pieces;
        this.ids = b.ids;
        this.merges = b.merges;
        this.byteTokens = b.byteTokens;
        this.unkId = b.unkId;
        this.fuseUnk = b.fuseUnk;
        this.ignoreMerges = b.ignoreMerges;
        this.added = b.added;
        this.special = new boolean[pieces.length];
        for (AddedToken t : added) if (t.special && t.id < special.length) special[t.id] = true;
        this.splitPattern = b.splitPattern;
        this.prependSpace = b.prependSpace;
        this.addPrefixSpace = b.addPrefixSpace;
        this.bosId = b.bosId;
        this.eosId = b.eosId;
        this.addBos = b.addBos;
        this.addEos = b.addEos;
        this.stripLeadingSpaceOnDecode = b.stripLeadingSpace;
    }

    private static final class Builder {
        Kind kind;
        String[] pieces;
        Map<String, Integer> ids = new HashMap<>();
        Map<Long, Long> merges = new HashMap<>();
        int[] byteTokens = new int[256];
        int unkId = -1;
        boolean fuseUnk;
        boolean ignoreMerges;
        List<AddedToken> added = new ArrayList<>();
        Pattern splitPattern;
        boolean prependSpace;
        boolean addPrefixSpace;
        int bosId = -1, eosId = -1;
        boolean addBos, addEos;
        boolean stripLeadingSpace;
    }

    /** Loads tokenizer.json (and tokenizer_config.json when present) from a Hugging Face model folder. */
    public static Tokenizer fromHfFolder(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) throw new FormatException(file, "tokenizer.json not found");
        JsonNode root = read(file);
        JsonNode config = Files.isRegularFile(dir.resolve("tokenizer_config.json")) ? read(dir.resolve("tokenizer_config.json")) : null;
        return fromJson(file, root, config);
    }

    private static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new FormatException(file, null, "malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    static Tokenizer fromJson(Path file, JsonNode root, JsonNode config) {
        JsonNode model = root.get("model");
        if (model == null || !"BPE".equals(model.path("type").asString(null))) {
            throw new FormatException(file, "unsupported tokenizer model '" + (model == null ? null : model.path("type").asString(null)) + "' (supported: BPE)");
        }
        Builder b = new Builder();
        JsonNode vocab = model.get("vocab");
        int size = 0;
        for (Map.Entry<String, JsonNode> e : vocab.properties()) size = Math.max(size, e.getValue().asInt() + 1);
        for (JsonNode t : root.path("added_tokens")) size = Math.max(size, t.get("id").asInt() + 1);
        b.pieces = new String[size];
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            b.pieces[e.getValue().asInt()] = e.getKey();
            b.ids.put(e.getKey(), e.getValue().asInt());
        }
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.get("content").asString();
            int id = t.get("id").asInt();
            b.added.add(new AddedToken(content, id, t.path("special").asBoolean(false)));
            if (b.pieces[id] == null) b.pieces[id] = content;
            b.ids.putIfAbsent(content, id);
        }
        // Longest added tokens first so "<|end|>" wins over "<|e" style prefixes.
        b.added.sort((x, y) -> Integer.compare(y.content.length(), x.content.length()));
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String left, right;
            if (m.isArray()) {
                left = m.get(0).asString();
                right = m.get(1).asString();
            } else {
                String s = m.asString();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw new FormatException(file, "malformed merge '" + s + "'");
                left = s.substring(0, sp);
                right = s.substring(sp + 1);
            }
            Integer l = b.ids.get(left), r = b.ids.get(right), merged = b.ids.get(left + right);
            if (l == null || r == null || merged == null) {
                throw new FormatException(file, "merge '" + left + " " + right + "' names pieces missing from the vocabulary");
            }
            b.merges.putIfAbsent(pair(l, r), ((long) rank << 32) | merged);
            rank++;
        }
        Arrays.fill(b.byteTokens, -1);
        for (int i = 0; i < 256; i++) {
            Integer id = b.ids.get(String.format("<0x%02X>", i));
            if (id != null) b.byteTokens[i] = id;
        }
        String unk = model.path("unk_token").asString(null);
        if (unk != null && b.ids.containsKey(unk)) b.unkId = b.ids.get(unk);
        b.fuseUnk = model.path("fuse_unk").asBoolean(false);
        b.ignoreMerges = model.path("ignore_merges").asBoolean(false);

        boolean byteLevel = containsType(root.get("pre_tokenizer"), "ByteLevel") || containsType(root.get("decoder"), "ByteLevel");
        if (byteLevel) {
            b.kind = Kind.BYTE_LEVEL_BPE;
            b.splitPattern = findSplitPattern(file, root.get("pre_tokenizer"));
            b.addPrefixSpace = findBoolean(root.get("pre_tokenizer"), "ByteLevel", "add_prefix_space");
        } else {
            b.kind = Kind.SENTENCEPIECE_BPE;
            JsonNode norm = root.get("normalizer");
            b.prependSpace = containsType(norm, "Prepend");
            if (norm != null && !norm.isNull() && !containsType(norm, "Replace") && !containsType(norm, "Prepend")) {
                throw new FormatException(file, "unsupported normalizer " + norm.path("type").asString(null));
            }
            // Llama-2 style with a Metaspace pre-tokenizer instead of the normalizer.
            JsonNode pre = root.get("pre_tokenizer");
            if (containsType(pre, "Metaspace")) b.prependSpace = !"never".equals(findString(pre, "Metaspace", "prepend_scheme"));
            b.stripLeadingSpace = containsType(root.get("decoder"), "Strip") || containsType(root.get("decoder"), "Metaspace");
        }

        b.bosId = idOf(b, config, "bos_token", "<s>");
        b.eosId = idOf(b, config, "eos_token", "</s>");
        if (config != null && config.has("add_bos_token")) b.addBos = config.get("add_bos_token").asBoolean();
        else b.addBos = postProcessorAddsBos(root.get("post_processor"), b);
        if (config != null && config.has("add_eos_token")) b.addEos = config.get("add_eos_token").asBoolean();
        return new Tokenizer(b);
    }

    private static int idOf(Builder b, JsonNode config, String key, String dflt) {
        String name = dflt;
        if (config != null && config.has(key)) {
            JsonNode v = config.get(key);
            name = v.isObject() ? v.path("content").asString(null) : v.isNull() ? null : v.asString();
        }
        Integer id = name == null ? null : b.ids.get(name);
        return id == null ? -1 : id;
    }

    private static boolean postProcessorAddsBos(JsonNode pp, Builder b) {
        if (pp == null || pp.isNull() || b.bosId < 0) return false;
        for (JsonNode item : pp.path("single")) {
            if (item.has("SpecialToken")) return b.ids.getOrDefault(item.get("SpecialToken").path("id").asString(), -2) == b.bosId;
            if (item.has("Sequence")) return false;
        }
        for (JsonNode p : pp.path("processors")) if (postProcessorAddsBos(p, b)) return true;
        return false;
    }

    private static boolean containsType(JsonNode node, String type) {
        if (node == null || node.isNull()) return false;
        if (type.equals(node.path("type").asString(null))) return true;
        for (String list : new String[]{"normalizers", "pretokenizers", "decoders", "processors"}) {
            for (JsonNode child : node.path(list)) if (containsType(child, type)) return true;
        }
        return false;
    }

    private static JsonNode findNode(JsonNode node, String type) {
        if (node == null || node.isNull()) return null;
        if (type.equals(node.path("type").asString(null))) return node;
        for (String list : new String[]{"normalizers", "pretokenizers", "decoders", "processors"}) {
            for (JsonNode child : node.path(list)) {
                JsonNode f = findNode(child, type);
                if (f != null) return f;
            }
        }
        return null;
    }

    private static boolean findBoolean(JsonNode node, String type, String field) {
        JsonNode n = findNode(node, type);
        return n != null && n.path(field).asBoolean(false);
    }

    private static String findString(JsonNode node, String type, String field) {
        JsonNode n = findNode(node, type);
        return n == null ? null : n.path(field).asString(null);
    }

    /** GPT-2's pre-tokenizer regex, used when ByteLevel splits by itself (use_regex true). */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static Pattern findSplitPattern(Path file, JsonNode pre) {
        JsonNode split = findNode(pre, "Split");
        if (split != null) {
            JsonNode p = split.path("pattern");
            String regex = p.has("Regex") ? p.get("Regex").asString() : Pattern.quote(p.path("String").asString());
            try {
                // The Rust regex (onig) syntax of these patterns is the subset Java shares; \p{L}/\p{N} need UNICODE_CHARACTER_CLASS for \s.
                return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
            } catch (RuntimeException e) {
                throw new FormatException(file, null, "pre-tokenizer regex not supported: " + e.getMessage(), e);
            }
        }
        JsonNode bl = findNode(pre, "ByteLevel");
        if (bl != null && bl.path("use_regex").asBoolean(true)) return Pattern.compile(GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
        return null;
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    // ---------------------------------------------------------------- encoding

    /** Encodes text the way the model expects it: with BOS when the model adds one. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /** Encodes text; with {@code addSpecial} BOS/EOS are added as the tokenizer config says. */
    public int[] encode(String text, boolean addSpecial) {
        IntList out = new IntList(text.length() / 2 + 4);
        if (addSpecial && addBos && bosId >= 0) out.add(bosId);
        int start = 0;
        // Added tokens are matched in the raw text first; the text between them is normalized and merged.
        while (start < text.length()) {
            int bestPos = -1;
            AddedToken best = null;
            for (AddedToken t : added) {
                int p = text.indexOf(t.content, start);
                if (p >= 0 && (bestPos < 0 || p < bestPos)) {
                    bestPos = p;
                    best = t;
                }
            }
            int end = best == null ? text.length() : bestPos;
            if (end > start) encodeSegment(text.substring(start, end), out);
            if (best == null) break;
            out.add(best.id);
            start = bestPos + best.content.length();
        }
        if (addSpecial && addEos && eosId >= 0) out.add(eosId);
        return out.toArray();
    }

    private void encodeSegment(String segment, IntList out) {
        if (kind == Kind.SENTENCEPIECE_BPE) {
            String normalized = (prependSpace ? "▁" : "") + segment.replace(' ', '▁');
            mergeWord(symbolsSentencePiece(normalized), out);
        } else {
            String s = addPrefixSpace && !segment.startsWith(" ") ? " " + segment : segment;
            if (splitPattern == null) {
                mergeWord(symbolsByteLevel(s), out);
                return;
            }
            Matcher m = splitPattern.matcher(s);
            int last = 0;
            while (m.find()) {
                if (m.start() > last) encodeWord(s.substring(last, m.start()), out); // Split behaviour "Isolated": gaps are words too
                if (m.end() > m.start()) encodeWord(s.substring(m.start(), m.end()), out);
                last = m.end();
            }
            if (last < s.length()) encodeWord(s.substring(last), out);
        }
    }

    private final Map<String, int[]> wordCache = new java.util.concurrent.ConcurrentHashMap<>();

    private void encodeWord(String word, IntList out) {
        int[] cached = wordCache.get(word);
        if (cached == null) {
            IntList wordIds = new IntList(word.length());
            // ignore_merges (Llama 3): a word that is itself in the vocabulary is taken whole.
            Integer whole = ignoreMerges ? ids.get(ByteLevel.encode(word)) : null;
            if (whole != null) wordIds.add(whole);
            else mergeWord(symbolsByteLevel(word), wordIds);
            cached = wordIds.toArray();
            if (wordCache.size() < 100_000) wordCache.put(word, cached);
        }
        out.addAll(cached);
    }

    /** Initial symbols of a SentencePiece word: one per character, or its UTF-8 bytes when not in the vocabulary. */
    private IntList symbolsSentencePiece(String s) {
        IntList syms = new IntList(s.length());
        boolean lastUnk = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            Integer id = ids.get(s.substring(i, i + n));
            if (id != null) {
                syms.add(id);
                lastUnk = false;
            } else {
                byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte by : bytes) all &= byteTokens[by & 0xFF] >= 0;
                if (all) {
                    for (byte by : bytes) syms.add(byteTokens[by & 0xFF]);
                    lastUnk = false;
                } else if (!(fuseUnk && lastUnk)) {
                    if (unkId < 0) throw new IllegalArgumentException("character U+" + Integer.toHexString(cp) + " has no token and no <unk>");
                    syms.add(unkId);
                    lastUnk = true;
                }
            }
            i += n;
        }
        return syms;
    }

    private IntList symbolsByteLevel(String word) {
        String mapped = ByteLevel.encode(word);
        IntList syms = new IntList(mapped.length());
        for (int i = 0; i < mapped.length(); ) {
            int cp = mapped.codePointAt(i);
            int n = Character.charCount(cp);
            Integer id = ids.get(mapped.substring(i, i + n));
            if (id == null) {
                if (unkId < 0) throw new IllegalArgumentException("byte symbol '" + mapped.substring(i, i + n) + "' missing from the vocabulary");
                id = unkId;
            }
            syms.add(id);
            i += n;
        }
        return syms;
    }

    /**
     * BPE over a symbol sequence: a doubly linked list plus a heap of candidate merges ordered by
     * (rank, position), as the tokenizers library's Word::merge_all — stale heap entries are skipped.
     */
    private void mergeWord(IntList symbols, IntList out) {
        int n = symbols.size();
        if (n == 0) return;
        int[] id = symbols.toArray();
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int i = 0; i + 1 < n; i++) push(heap, id, i, i + 1);
        while (!heap.isEmpty()) {
            long[] top = heap.poll();
            int left = (int) top[1], right = (int) top[2];
            // Stale: either side was merged away or changed since this candidate was pushed.
            if (id[left] < 0 || id[right] < 0 || next[left] != right || id[left] != (int) top[3] || id[right] != (int) top[4]) continue;
            id[left] = (int) top[5];
            id[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) push(heap, id, prev[left], left);
            if (next[left] >= 0) push(heap, id, left, next[left]);
        }
        for (int i = 0; i >= 0; i = next[i]) out.add(id[i]);
    }

    private void push(PriorityQueue<long[]> heap, int[] id, int left, int right) {
        Long m = merges.get(pair(id[left], id[right]));
        if (m != null) heap.add(new long[]{m >>> 32, left, right, id[left], id[right], m & 0xFFFFFFFFL});
    }

    // ---------------------------------------------------------------- decoding

    /** Decodes ids to text, skipping special tokens (BOS/EOS/unk markers). */
    public String decode(int[] tokens) {
        return decode(tokens, true);
    }

    public String decode(int[] tokens, boolean skipSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean first = true;
        for (int t : tokens) {
            if (t < 0 || t >= pieces.length || pieces[t] == null) throw new IllegalArgumentException("token id " + t + " out of the vocabulary");
            if (skipSpecial && special[t]) continue;
            if (kind == Kind.BYTE_LEVEL_BPE) {
                if (special[t] || isAddedNonByteLevel(t)) bytes.writeBytes(pieces[t].getBytes(StandardCharsets.UTF_8));
                else bytes.writeBytes(ByteLevel.decode(pieces[t]));
                continue;
            }
            int b = byteOf(t);
            if (b >= 0) {
                bytes.write(b);
            } else {
                String s = pieces[t].replace('▁', ' ');
                if (first && stripLeadingSpaceOnDecode && s.startsWith(" ")) s = s.substring(1);
                bytes.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            }
            first = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private boolean isAddedNonByteLevel(int t) {
        for (AddedToken a : added) if (a.id == t) return true;
        return false;
    }

    private int byteOf(int t) {
        String p = pieces[t];
        if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">") && byteTokens[Integer.parseInt(p.substring(3, 5), 16)] == t) {
            return Integer.parseInt(p.substring(3, 5), 16);
        }
        return -1;
    }

    // ---------------------------------------------------------------- vocabulary

    public String tokenPiece(int id) {
        return pieces[id];
    }

    public int vocabSize() {
        return pieces.length;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public boolean addsBos() {
        return addBos;
    }

    /** Growable int array without boxing. */
    private static final class IntList {
        int[] a;
        int n;

        IntList(int cap) {
            a = new int[Math.max(4, cap)];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] vs) {
            for (int v : vs) add(v);
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
