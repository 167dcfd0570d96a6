package dev.featherweight.kernels.formats.tokenizer;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufValue;
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
 * leftmost first. Added tokens (e.g. {@code <s>}) are matched in the raw text before normalization
 * (their lstrip/rstrip/single_word flags are not applied). {@link #fromGguf} builds the same from
 * llama.cpp's {@code tokenizer.ggml.*} metadata, with llama.cpp's merge-by-score for SentencePiece.
 *
 * <p>Pre-tokenizer regexes run on {@link java.util.regex} with {@code UNICODE_CHARACTER_CLASS}: the
 * patterns GPT-2, Llama 3 and Qwen2 carry use only {@code \p{L}}, {@code \p{N}}, {@code \s}, {@code (?i:…)}
 * and a negative lookahead, all of which Java has. {@code \s} is Unicode White_Space in Java as in
 * Oniguruma (what the tokenizers library uses); {@code \p{L}/\p{N}} follow the JDK's Unicode tables, so
 * characters assigned in a Unicode version newer than one side's tables may classify differently.
 */
public final class Tokenizer {
    private enum Kind {
        /** tokenizer.json BPE over "▁"-escaped text, merges by rank, byte fallback. */
        SENTENCEPIECE_BPE,
        /** llama.cpp's SPM tokenizer (GGUF model "llama"): merges the adjacent pair whose result has the highest score. */
        SENTENCEPIECE_SCORES,
        /** GPT-2 byte-level BPE: regex words, bytes mapped to printable characters, merges by rank. */
        BYTE_LEVEL_BPE
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Kind kind;
    private final String[] pieces;
    private final Map<String, Integer> ids;
    /** (left id, right id) packed in a long → rank in the high half, merged id in the low half. */
    private final Map<Long, Long> merges;
    private final float[] scores; // SENTENCEPIECE_SCORES only
    private final int[] byteTokens; // <0xNN> ids for byte fallback, -1 when absent
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final List<AddedToken> added;
    private final boolean[] special;
    private final boolean[] addedIds; // added tokens keep their text as is (not byte-level mapped) when decoding
    private final Pattern splitPattern; // byte-level pre-tokenizer regex
    private final boolean prependSpace; // SentencePiece normalizer Prepend("▁")
    private final java.text.Normalizer.Form unicodeForm; // NFC/NFKC… normalizer, null when none
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
        this.scores = b.scores;
        this.byteTokens = b.byteTokens;
        this.unkId = b.unkId;
        this.fuseUnk = b.fuseUnk;
        this.ignoreMerges = b.ignoreMerges;
        this.added = b.added;
        this.special = new boolean[pieces.length];
        this.addedIds = new boolean[pieces.length];
        for (AddedToken t : added) {
            if (t.special) special[t.id] = true;
            addedIds[t.id] = true;
        }
        this.splitPattern = b.splitPattern;
        this.prependSpace = b.prependSpace;
        this.unicodeForm = b.unicodeForm;
        this.addPrefixSpace = b.addPrefixSpace;
        this.bosId = b.bosId;
        this.eosId = b.eosId;
        this.addBos = b.addBos;
        this.addEos = b.addEos;
        this.stripLeadingSpaceOnDecode = b.stripLeadingSpace;
        boolean glued = false;
        for (String piece : pieces) glued |= piece != null && GLUED_SPACE.matcher(piece).find();
        this.spaceBoundariesAreFinal = !glued;
    }

    /** A "▁" right after another character: a piece like "a▁" could merge across a word boundary. */
    private static final Pattern GLUED_SPACE = Pattern.compile("[^▁]▁");
    /**
     * SentencePiece text is one word to the tokenizers library (and to llama.cpp), but when no piece has a
     * "▁" after another character, no merge can join a symbol to a following "▁…" one: cutting the text
     * before each such "▁" and merging the parts apart gives the same ids, and lets repeated words hit the cache.
     */
    private final boolean spaceBoundariesAreFinal;

    private static final class Builder {
        Kind kind;
        String[] pieces;
        Map<String, Integer> ids = new HashMap<>();
        Map<Long, Long> merges = new HashMap<>();
        float[] scores;
        int[] byteTokens = new int[256];
        int unkId = -1;
        boolean fuseUnk;
        boolean ignoreMerges;
        List<AddedToken> added = new ArrayList<>();
        Pattern splitPattern;
        boolean prependSpace;
        java.text.Normalizer.Form unicodeForm;
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
        if (vocab == null || !vocab.isObject()) throw new FormatException(file, "model.vocab is missing or not an object of piece → id");
        int size = 0, entries = vocab.size();
        for (Map.Entry<String, JsonNode> e : vocab.properties()) size = Math.max(size, checkId(file, e.getKey(), e.getValue()) + 1);
        for (JsonNode t : root.path("added_tokens")) {
            if (!t.path("content").isString()) throw new FormatException(file, "added token without content: " + t);
            size = Math.max(size, checkId(file, t.get("content").asString(), t.get("id")) + 1);
            entries++;
        }
        // Vocabularies are dense (0..n-1); a far larger id is damage, not a reason to allocate gigabytes.
        if (size > 2L * entries + 1024) throw new FormatException(file, "token ids go up to " + (size - 1) + " for " + entries + " pieces");
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
            addMerge(file, b, left, right, rank++);
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
        checkNormalizer(file, root.get("normalizer"), byteLevel, b);
        if (byteLevel) {
            b.kind = Kind.BYTE_LEVEL_BPE;
            b.splitPattern = findSplitPattern(file, root.get("pre_tokenizer"));
            b.addPrefixSpace = findBoolean(root.get("pre_tokenizer"), "ByteLevel", "add_prefix_space");
        } else {
            b.kind = Kind.SENTENCEPIECE_BPE;
            b.prependSpace = containsType(root.get("normalizer"), "Prepend");
            // Llama-2 style with a Metaspace pre-tokenizer instead of the normalizer.
            JsonNode pre = root.get("pre_tokenizer");
            if (containsType(pre, "Metaspace")) b.prependSpace = !"never".equals(findString(pre, "Metaspace", "prepend_scheme"));
            b.stripLeadingSpace = containsType(root.get("decoder"), "Strip") || containsType(root.get("decoder"), "Metaspace");
        }

        b.bosId = idOf(b, config, "bos_token", "<s>");
        b.eosId = idOf(b, config, "eos_token", "</s>");
        // Without tokenizer_config.json's add_bos_token (Llama 3 has none) the post-processor template decides.
        String templateBos = templateBos(root.get("post_processor"));
        Integer templateBosId = templateBos == null ? null : b.ids.get(templateBos);
        if (b.bosId < 0 && templateBosId != null) b.bosId = templateBosId;
        if (config != null && config.has("add_bos_token") && !config.get("add_bos_token").isNull()) b.addBos = config.get("add_bos_token").asBoolean();
        else b.addBos = templateBosId != null && templateBosId == b.bosId;
        if (config != null && config.has("add_eos_token")) b.addEos = config.get("add_eos_token").asBoolean();
        return new Tokenizer(b);
    }

    private static int checkId(Path file, String piece, JsonNode id) {
        if (id == null || !id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0) {
            throw new FormatException(file, "piece '" + piece + "' has id " + id + ", expected a non-negative integer");
        }
        return id.asInt();
    }

    /**
     * The normalizers these tokenizers use: Unicode forms (Qwen2: NFC) and, for SentencePiece, Prepend("▁")
     * and Replace(" " → "▁"). Anything else would silently change the ids, so it is refused by name.
     */
    private static void checkNormalizer(Path file, JsonNode norm, boolean byteLevel, Builder b) {
        if (norm == null || norm.isNull()) return;
        String type = norm.path("type").asString(null);
        switch (type == null ? "" : type) {
            case "Sequence" -> {
                for (JsonNode n : norm.path("normalizers")) checkNormalizer(file, n, byteLevel, b);
            }
            case "NFC", "NFD", "NFKC", "NFKD" -> {
                if (b.prependSpace || b.unicodeForm != null) throw new FormatException(file, "unsupported normalizer order: " + type + " after another normalizer");
                b.unicodeForm = java.text.Normalizer.Form.valueOf(type);
            }
            case "Prepend" -> {
                if (byteLevel || !"▁".equals(norm.path("prepend").asString(null))) throw new FormatException(file, "unsupported normalizer Prepend '" + norm.path("prepend").asString(null) + "'");
                b.prependSpace = true;
            }
            case "Replace" -> {
                if (byteLevel || !" ".equals(norm.path("pattern").path("String").asString(null)) || !"▁".equals(norm.path("content").asString(null))) {
                    throw new FormatException(file, "unsupported normalizer Replace " + norm.path("pattern") + " → '" + norm.path("content").asString(null) + "' (supported: ' ' → '▁')");
                }
            }
            default -> throw new FormatException(file, "unsupported normalizer '" + type + "' (supported: NFC, NFD, NFKC, NFKD, Prepend ▁, Replace ' ' → ▁, Sequence)");
        }
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

    /**
     * The special token a TemplateProcessing post-processor puts before a single sequence (Llama 2's "<s>",
     * Llama 3's "<|begin_of_text|>"), or null when the template starts with the text itself.
     */
    private static String templateBos(JsonNode pp) {
        if (pp == null || pp.isNull()) return null;
        JsonNode single = pp.path("single");
        if (single.isArray() && !single.isEmpty()) {
            JsonNode first = single.get(0);
            return first.has("SpecialToken") ? first.get("SpecialToken").path("id").asString(null) : null;
        }
        for (JsonNode p : pp.path("processors")) {
            String bos = templateBos(p);
            if (bos != null) return bos;
        }
        return null;
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
            // Llama 3 and Qwen2 isolate each match; the text between matches becomes words of its own.
            if (!"Isolated".equals(split.path("behavior").asString("Isolated")) || split.path("invert").asBoolean(false)) {
                throw new FormatException(file, "unsupported Split pre-tokenizer behaviour '" + split.path("behavior").asString(null)
                        + "' invert=" + split.path("invert").asBoolean(false) + " (supported: Isolated, not inverted)");
            }
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

    // ---------------------------------------------------------------- GGUF

    /** GGUF token types (llama.cpp's llama_token_type). */
    private static final int TYPE_CONTROL = 3, TYPE_USER_DEFINED = 4;

    /** The pre-tokenizer regexes llama.cpp names in tokenizer.ggml.pre (llama-vocab.cpp), as tokenizer.json carries them. */
    static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Opens a .gguf file and reads its tokenizer (see {@link #fromGguf(GgufFile)}). */
    public static Tokenizer fromGguf(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return fromGguf(g);
        }
    }

    /**
     * The tokenizer llama.cpp builds from a GGUF file's {@code tokenizer.ggml.*} metadata: model "llama" is
     * SentencePiece merged by piece score (llm_tokenizer_spm), model "gpt2" byte-level BPE merged by rank
     * with the pre-tokenizer regex {@code tokenizer.ggml.pre} names. CONTROL and USER_DEFINED pieces are
     * matched in the text before the model, as tokenizer.json's added tokens; CONTROL ones count as special.
     */
    public static Tokenizer fromGguf(GgufFile g) {
        try {
            return readGguf(g);
        } catch (ClassCastException | NullPointerException e) {
            throw new FormatException(g.path(), null, "tokenizer.ggml.* metadata of an unexpected type: " + e.getMessage(), e);
        }
    }

    private static Tokenizer readGguf(GgufFile g) {
        Path file = g.path();
        String model = ggufString(g, "tokenizer.ggml.model", null);
        if (model == null) throw new FormatException(file, "no tokenizer.ggml.model: the file carries no tokenizer");
        List<Object> tokens = ggufList(g, "tokenizer.ggml.tokens", true);
        List<Object> types = ggufList(g, "tokenizer.ggml.token_type", false);
        Builder b = new Builder();
        b.pieces = new String[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            b.pieces[i] = (String) tokens.get(i);
            b.ids.putIfAbsent(b.pieces[i], i);
        }
        if (types != null && types.size() != tokens.size()) {
            throw new FormatException(file, "tokenizer.ggml.token_type has " + types.size() + " entries for " + tokens.size() + " tokens");
        }
        for (int i = 0; types != null && i < types.size(); i++) {
            int type = ((Number) types.get(i)).intValue();
            if (type == TYPE_CONTROL || type == TYPE_USER_DEFINED) b.added.add(new AddedToken(b.pieces[i], i, type == TYPE_CONTROL));
        }
        b.added.removeIf(t -> t.content.isEmpty());
        b.added.sort((x, y) -> Integer.compare(y.content.length(), x.content.length()));
        Arrays.fill(b.byteTokens, -1);
        switch (model) {
            case "llama" -> {
                b.kind = Kind.SENTENCEPIECE_SCORES;
                List<Object> scores = ggufList(g, "tokenizer.ggml.scores", true);
                if (scores.size() != tokens.size()) {
                    throw new FormatException(file, "tokenizer.ggml.scores has " + scores.size() + " entries for " + tokens.size() + " tokens");
                }
                b.scores = new float[scores.size()];
                for (int i = 0; i < b.scores.length; i++) b.scores[i] = ((Number) scores.get(i)).floatValue();
                for (int i = 0; i < 256; i++) {
                    Integer id = b.ids.get(String.format("<0x%02X>", i));
                    if (id != null) b.byteTokens[i] = id;
                }
                GgufValue prefix = g.get("tokenizer.ggml.add_space_prefix");
                b.prependSpace = prefix == null || prefix.asBoolean();
                b.stripLeadingSpace = b.prependSpace;
            }
            case "gpt2" -> {
                b.kind = Kind.BYTE_LEVEL_BPE;
                List<Object> merges = ggufList(g, "tokenizer.ggml.merges", true);
                int rank = 0;
                for (Object m : merges) {
                    String s = (String) m;
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) throw new FormatException(file, "malformed tokenizer.ggml.merges entry '" + s + "'");
                    addMerge(file, b, s.substring(0, sp), s.substring(sp + 1), rank++);
                }
                String pre = ggufString(g, "tokenizer.ggml.pre", "default");
                String regex = switch (pre) {
                    case "default", "gpt-2", "gpt2" -> GPT2_PATTERN;
                    case "llama3", "llama-bpe", "llama-v3" -> LLAMA3_PATTERN;
                    case "qwen2" -> QWEN2_PATTERN;
                    default -> throw new FormatException(file, "unsupported tokenizer.ggml.pre '" + pre + "' (supported: default, gpt-2, llama-bpe, qwen2)");
                };
                b.splitPattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
            }
            default -> throw new FormatException(file, "unsupported tokenizer.ggml.model '" + model + "' (supported: llama, gpt2)");
        }
        b.unkId = ggufInt(g, "tokenizer.ggml.unknown_token_id", b.ids.getOrDefault("<unk>", -1));
        b.bosId = ggufInt(g, "tokenizer.ggml.bos_token_id", -1);
        b.eosId = ggufInt(g, "tokenizer.ggml.eos_token_id", -1);
        for (String key : List.of("unknown", "bos", "eos")) {
            int id = key.equals("unknown") ? b.unkId : key.equals("bos") ? b.bosId : b.eosId;
            if (id >= b.pieces.length) throw new FormatException(file, "tokenizer.ggml." + key + "_token_id " + id + " is past the " + b.pieces.length + " tokens");
        }
        GgufValue addBos = g.get("tokenizer.ggml.add_bos_token");
        // llama.cpp's default when the key is absent: SPM adds BOS, BPE does not.
        b.addBos = addBos != null ? addBos.asBoolean() : b.kind == Kind.SENTENCEPIECE_SCORES;
        GgufValue addEos = g.get("tokenizer.ggml.add_eos_token");
        b.addEos = addEos != null && addEos.asBoolean();
        return new Tokenizer(b);
    }

    private static String ggufString(GgufFile g, String key, String dflt) {
        GgufValue v = g.get(key);
        if (v == null) return dflt;
        if (!(v.value() instanceof String s)) throw new FormatException(g.path(), key + " is " + v.type() + ", expected a string");
        return s;
    }

    private static int ggufInt(GgufFile g, String key, int dflt) {
        GgufValue v = g.get(key);
        if (v == null) return dflt;
        if (!(v.value() instanceof Number)) throw new FormatException(g.path(), key + " is " + v.type() + ", expected an integer");
        return (int) v.asLong();
    }

    private static List<Object> ggufList(GgufFile g, String key, boolean required) {
        GgufValue v = g.get(key);
        if (v == null) {
            if (required) throw new FormatException(g.path(), "missing " + key);
            return null;
        }
        if (!(v.value() instanceof List<?>)) throw new FormatException(g.path(), key + " is " + v.type() + ", expected an array");
        return v.asList();
    }

    private static void addMerge(Path file, Builder b, String left, String right, int rank) {
        Integer l = b.ids.get(left), r = b.ids.get(right), merged = b.ids.get(left + right);
        if (l == null || r == null || merged == null) {
            throw new FormatException(file, "merge '" + left + " " + right + "' names pieces missing from the vocabulary");
        }
        b.merges.putIfAbsent(pair(l, r), ((long) rank << 32) | merged);
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
        if (unicodeForm != null) segment = java.text.Normalizer.normalize(segment, unicodeForm);
        if (kind != Kind.BYTE_LEVEL_BPE) {
            String normalized = (prependSpace ? "▁" : "") + segment.replace(' ', '▁');
            if (!spaceBoundariesAreFinal) {
                encodeSentencePieceWord(normalized, out);
                return;
            }
            int from = 0;
            for (int i = 1; i < normalized.length(); i++) {
                if (normalized.charAt(i) == '▁' && normalized.charAt(i - 1) != '▁') {
                    encodeWord(normalized.substring(from, i), out);
                    from = i;
                }
            }
            encodeWord(normalized.substring(from), out);
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

    private void encodeSentencePieceWord(String normalized, IntList out) {
        if (kind == Kind.SENTENCEPIECE_SCORES) mergeByScores(normalized, out);
        else mergeWord(symbolsSentencePiece(normalized), out);
    }

    /** One word (a regex match for byte-level BPE, a "▁" word for SentencePiece) through the cache. */
    private void encodeWord(String word, IntList out) {
        int[] cached = wordCache.get(word);
        if (cached == null) {
            IntList wordIds = new IntList(word.length());
            if (kind != Kind.BYTE_LEVEL_BPE) {
                encodeSentencePieceWord(word, wordIds);
                cached = wordIds.toArray();
                if (wordCache.size() < 100_000) wordCache.put(word, cached);
                out.addAll(cached);
                return;
            }
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

    /**
     * llama.cpp's SPM merge (llm_tokenizer_spm): start from UTF-8 characters, repeatedly merge the adjacent
     * pair whose concatenation is a vocabulary piece of highest score (leftmost on ties). A pair is only a
     * candidate when its text is a piece, so every merged symbol is a piece; a single character that is not
     * becomes its UTF-8 bytes as {@code <0xNN>} tokens (llama.cpp's resegment), or unk without them.
     */
    private void mergeByScores(String s, IntList out) {
        int n = s.codePointCount(0, s.length());
        if (n == 0) return;
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            start[i] = pos;
            len[i] = Character.charCount(s.codePointAt(pos));
            pos += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Entries: {score bits, left, right, size}; highest score first, then leftmost.
        PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> {
            int c = Float.compare(Float.intBitsToFloat((int) b[0]), Float.intBitsToFloat((int) a[0]));
            return c != 0 ? c : Long.compare(a[1], b[1]);
        });
        for (int i = 0; i + 1 < n; i++) pushByScore(heap, s, start, len, i, i + 1);
        while (!heap.isEmpty()) {
            long[] top = heap.poll();
            int left = (int) top[1], right = (int) top[2];
            // Stale: a side was merged away or grew since this candidate was pushed.
            if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != top[3]) continue;
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) pushByScore(heap, s, start, len, prev[left], left);
            if (next[left] >= 0) pushByScore(heap, s, start, len, left, next[left]);
        }
        for (int i = 0; i >= 0; i = next[i]) {
            String piece = s.substring(start[i], start[i] + len[i]);
            Integer id = ids.get(piece);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte by : piece.getBytes(StandardCharsets.UTF_8)) {
                int t = byteTokens[by & 0xFF];
                if (t < 0 && unkId < 0) throw new IllegalArgumentException("character '" + piece + "' has no token, no byte token and no <unk>");
                out.add(t >= 0 ? t : unkId);
            }
        }
    }

    private void pushByScore(PriorityQueue<long[]> heap, String s, int[] start, int[] len, int left, int right) {
        Integer id = ids.get(s.substring(start[left], start[left] + len[left] + len[right]));
        if (id == null) return;
        heap.add(new long[]{Float.floatToRawIntBits(scores[id]), left, right, len[left] + len[right]});
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
        return addedIds[t];
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
