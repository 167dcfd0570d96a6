package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.FormatException.Kind;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.gguf.GgufWriter;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import dev.featherweight.kernels.quant.gguf.InvalidBlockDataException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one check every model passes before any work is done with it (every {@code fw} command, the GGUF
 * converter and quantizer, the method quantizer, the model loader and so both workers): a model that
 * fails it is refused with a {@link FormatException} whose {@link FormatException#kind() kind} says which
 * rule broke and whose message names the file, the tensor or key, what was expected and what was found.
 * Nothing is written before it passes.
 *
 * <ol>
 *   <li>layout: tensor data cover the data section exactly (no overlap, gap, or bytes after the last tensor;
 *   for GGUF with the alignment padding llama.cpp writes); every shard tensor listed once in the index;</li>
 *   <li>config: complete and self-consistent ({@link LlamaConfig}, from config.json or the GGUF metadata);</li>
 *   <li>tensors: every tensor the architecture needs, exactly once, with exactly the shape the config implies and
 *   a dtype the forward pass reads; nothing unknown (GPTQ/AWQ/bitsandbytes folders: their own loaders check the
 *   packed tensors against the config);</li>
 *   <li>tokenizer: tokenizer.json ids (or the GGUF token list) agree with the vocabulary size;</li>
 *   <li>values (when asked): no NaN or infinite weight, and for GGUF block types no non-finite block scale.</li>
 * </ol>
 */
public final class ModelCheck {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)");
    /** What the forward pass reads as a matrix ({@code infer.WeightMatrices}). */
    private static final Set<GgmlType> MATRIX_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL,
            GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S, GgmlType.TQ1_0, GgmlType.TQ2_0,
            GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S, GgmlType.IQ1_S, GgmlType.IQ1_M);
    private static final Set<GgmlType> FLOAT_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16);

    private ModelCheck() {
    }

    /**
     * Checks a model completely and returns its config.
     *
     * @param tokenizerDir where tokenizer.json is read from when it is not the model's folder (null: the model's)
     * @param values       also read every weight for NaN/Inf (a pass over the data; off for header-only uses)
     */
    public static LlamaConfig check(TensorSource src, Path tokenizerDir, boolean values) {
        return check(src, tokenizerDir, values, false);
    }

    /**
     * As {@link #check(TensorSource, Path, boolean)}; with {@code releaseChecked} each tensor's mapped pages are
     * dropped from this process once its values are checked, for callers that stream the model tensor by tensor
     * afterwards (quantization): the pass over the values then no longer holds the whole file resident at once.
     */
    public static LlamaConfig check(TensorSource src, Path tokenizerDir, boolean values, boolean releaseChecked) {
        checkLayout(src);
        LlamaConfig cfg;
        Path modelDir = null;
        boolean packed = false;
        if (src instanceof GgufFile g) {
            cfg = LlamaConfig.fromGguf(g);
            checkGgufTokenizer(g, cfg);
        } else {
            modelDir = folderOf(src.path());
            cfg = LlamaConfig.read(modelDir);
            packed = hasQuantizationConfig(modelDir.resolve("config.json"));
        }
        if (!packed) checkTensors(src, cfg, src instanceof GgufFile);
        Path tokDir = tokenizerDir != null ? tokenizerDir : modelDir;
        if (tokDir != null && Files.isRegularFile(tokDir.resolve("tokenizer.json"))) checkTokenizer(tokDir.resolve("tokenizer.json"), cfg.vocabSize());
        if (values) checkValues(src, releaseChecked);
        return cfg;
    }

    /**
     * What {@code fw inspect} checks: the layout always, and everything but the values when the model says which
     * supported architecture it is (a lone .safetensors file, or a GGUF of another architecture, is only described).
     */
    public static void checkForInspect(TensorSource src) {
        checkLayout(src);
        if (src instanceof GgufFile g) {
            if (g.architecture() != null && LlamaConfig.SUPPORTED.contains(g.architecture())) check(src, null, false);
        } else {
            Path config = folderOf(src.path()).resolve("config.json");
            if (Files.isRegularFile(config) && LlamaConfig.SUPPORTED.contains(modelType(config))) check(src, null, false);
        }
    }

    /** The folder holding a model's config.json: the folder itself, or the one a .safetensors file lies in. */
    public static Path folderOf(Path path) {
        if (Files.isDirectory(path)) return path;
        Path parent = path.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of(".");
    }

    private static String modelType(Path config) {
        try {
            JsonNode j = JSON.readTree(config.toFile());
            return j == null ? null : j.path("model_type").asString(null);
        } catch (JacksonException e) {
            throw new FormatException(config, null, "malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static boolean hasQuantizationConfig(Path config) {
        try {
            JsonNode j = JSON.readTree(config.toFile());
            return j != null && j.hasNonNull("quantization_config");
        } catch (JacksonException e) {
            throw new FormatException(config, null, "malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    // ---- layout ------------------------------------------------------------------------------------

    /** Data offsets cover each file without overlap or gap; a sharded folder lists every shard tensor exactly once. */
    public static void checkLayout(TensorSource src) {
        switch (src) {
            case GgufFile g -> checkGgufLayout(g);
            case SafetensorsModel m -> {
                // each shard was checked when opened (SafetensorsFile: data cover the file exactly)
                Map<String, Path> owner = new HashMap<>();
                Set<String> listed = Set.copyOf(m.names());
                for (SafetensorsFile shard : m.shards()) {
                    for (String name : shard.names()) {
                        Path before = owner.put(name, shard.path());
                        if (before != null) {
                            throw new FormatException(Kind.DUPLICATE_TENSOR, shard.path(), name, "also stored in " + before.getFileName());
                        }
                        if (!listed.contains(name)) {
                            throw new FormatException(Kind.UNKNOWN_TENSOR, shard.path(), name, "is in this shard but not in " + SafetensorsModel.INDEX);
                        }
                    }
                }
            }
            default -> {
                // a single safetensors file: checked when opened
            }
        }
    }

    private static void checkGgufLayout(GgufFile g) {
        List<GgufTensorInfo> infos = new ArrayList<>(g.tensorInfos());
        for (GgufTensorInfo t : infos) {
            if (t.elements() == 0) throw new FormatException(Kind.SHAPE, g.path(), t.name(), "has a zero dimension: ne = " + Arrays.toString(t.ne()));
        }
        infos.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        long expected = 0;
        for (GgufTensorInfo t : infos) {
            if (t.offset() != expected) {
                throw new FormatException(Kind.LAYOUT, g.path(), t.name(), "data start at offset " + t.offset() + " of the data section, expected "
                        + expected + " (right after the previous tensor, padded to " + g.alignment() + "): the tensor infos do not describe the data");
            }
            expected = GgufWriter.pad(t.offset() + t.bytes(), g.alignment());
        }
        long dataBytes = g.fileSize() - g.dataOffset();
        long lastEnd = infos.isEmpty() ? 0 : infos.getLast().offset() + infos.getLast().bytes();
        // llama.cpp pads after the last tensor too; a file cut right after the last tensor's data is also whole
        if (dataBytes != expected && dataBytes != lastEnd) {
            throw new FormatException(Kind.LAYOUT, g.path(), null, "the data section holds " + Math.max(0, dataBytes) + " bytes but the "
                    + infos.size() + " tensor infos describe " + expected + ": the tensor count or an offset is wrong");
        }
    }

    // ---- tensors -----------------------------------------------------------------------------------

    /** A tensor the architecture has: its row-major shape, whether it must be present, and whether it is a matrix. */
    private record Expected(long[] shape, boolean required, boolean matrix) {
    }

    /** Every tensor name the config implies (HF or GGUF naming), with its shape. */
    static Map<String, Expected> expectedTensors(LlamaConfig c, boolean gguf) {
        Map<String, Expected> m = new LinkedHashMap<>();
        long h = c.hiddenSize(), q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim(), f = c.intermediateSize(), v = c.vocabSize();
        m.put(gguf ? "token_embd.weight" : "model.embed_tokens.weight", new Expected(new long[]{v, h}, true, true));
        for (int l = 0; l < c.layers(); l++) {
            String p = gguf ? "blk." + l + "." : "model.layers." + l + ".";
            m.put(p + (gguf ? "attn_norm.weight" : "input_layernorm.weight"), new Expected(new long[]{h}, true, false));
            m.put(p + (gguf ? "attn_q.weight" : "self_attn.q_proj.weight"), new Expected(new long[]{q, h}, true, true));
            m.put(p + (gguf ? "attn_k.weight" : "self_attn.k_proj.weight"), new Expected(new long[]{kv, h}, true, true));
            m.put(p + (gguf ? "attn_v.weight" : "self_attn.v_proj.weight"), new Expected(new long[]{kv, h}, true, true));
            m.put(p + (gguf ? "attn_output.weight" : "self_attn.o_proj.weight"), new Expected(new long[]{h, q}, true, true));
            m.put(p + (gguf ? "attn_q.bias" : "self_attn.q_proj.bias"), new Expected(new long[]{q}, c.attentionBias(), false));
            m.put(p + (gguf ? "attn_k.bias" : "self_attn.k_proj.bias"), new Expected(new long[]{kv}, c.attentionBias(), false));
            m.put(p + (gguf ? "attn_v.bias" : "self_attn.v_proj.bias"), new Expected(new long[]{kv}, c.attentionBias(), false));
            m.put(p + (gguf ? "ffn_norm.weight" : "post_attention_layernorm.weight"), new Expected(new long[]{h}, true, false));
            m.put(p + (gguf ? "ffn_gate.weight" : "mlp.gate_proj.weight"), new Expected(new long[]{f, h}, true, true));
            m.put(p + (gguf ? "ffn_up.weight" : "mlp.up_proj.weight"), new Expected(new long[]{f, h}, true, true));
            m.put(p + (gguf ? "ffn_down.weight" : "mlp.down_proj.weight"), new Expected(new long[]{h, f}, true, true));
        }
        m.put(gguf ? "output_norm.weight" : "model.norm.weight", new Expected(new long[]{h}, true, false));
        // tied embeddings: the output head may be absent (GGUF: absent means tied)
        m.put(gguf ? "output.weight" : "lm_head.weight", new Expected(new long[]{v, h}, !gguf && !c.tieWordEmbeddings(), true));
        if (gguf) m.put("rope_freqs.weight", new Expected(new long[]{c.headDim() / 2}, false, false));
        return m;
    }

    private static void checkTensors(TensorSource src, LlamaConfig c, boolean gguf) {
        Map<String, Expected> expected = expectedTensors(c, gguf);
        Path where = gguf ? src.path() : folderOf(src.path()).resolve("config.json");
        for (String name : src.names()) {
            if (expected.containsKey(name)) continue;
            if (!gguf && name.endsWith(".self_attn.rotary_emb.inv_freq")) continue; // old checkpoints store RoPE's buffer; it is recomputed
            throw new FormatException(Kind.UNKNOWN_TENSOR, fileOf(src, name), name, unknownReason(name, c, gguf));
        }
        for (Map.Entry<String, Expected> e : expected.entrySet()) {
            String name = e.getKey();
            Expected x = e.getValue();
            if (!src.has(name)) {
                if (x.required) {
                    throw new FormatException(Kind.MISSING_TENSOR, src.path(), name, "is missing; " + where.getFileName() + " ("
                            + describe(c) + ") needs it with shape " + Arrays.toString(x.shape));
                }
                continue;
            }
            Tensor t = src.tensor(name);
            if (!Arrays.equals(t.shape(), x.shape)) {
                throw new FormatException(Kind.SHAPE, fileOf(src, name), name, "has shape " + Arrays.toString(t.shape()) + ", expected "
                        + Arrays.toString(x.shape) + " for " + describe(c) + " (" + where.getFileName() + ")");
            }
            Set<GgmlType> allowed = x.matrix ? (gguf ? MATRIX_TYPES : FLOAT_TYPES) : FLOAT_TYPES;
            if (!allowed.contains(t.type())) {
                throw new FormatException(Kind.DTYPE, fileOf(src, name), name, "is " + t.type() + "; " + (x.matrix ? "a weight matrix" : "a vector")
                        + " of this model must be one of " + allowed);
            }
        }
    }

    private static String unknownReason(String name, LlamaConfig c, boolean gguf) {
        Matcher m = (gguf ? GGUF_LAYER : HF_LAYER).matcher(name);
        if (m.matches()) {
            long layer;
            try {
                layer = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                layer = Long.MAX_VALUE;
            }
            if (layer >= c.layers()) return "belongs to layer " + m.group(1) + " but the config has " + c.layers() + " layers";
        }
        return "is not a tensor of a " + c.architecture() + " model (" + describe(c) + ")";
    }

    private static String describe(LlamaConfig c) {
        return c.architecture() + ", hidden " + c.hiddenSize() + ", MLP " + c.intermediateSize() + ", " + c.layers() + " layers, "
                + c.heads() + "/" + c.kvHeads() + " heads of " + c.headDim() + ", vocabulary " + c.vocabSize();
    }

    /** The file that stores a tensor (the shard, for a sharded folder). */
    private static Path fileOf(TensorSource src, String name) {
        if (src instanceof SafetensorsModel m) {
            for (SafetensorsFile f : m.shards()) if (f.has(name)) return f.path();
        }
        return src.path();
    }

    // ---- tokenizer ---------------------------------------------------------------------------------

    /** Every id of tokenizer.json (model vocabulary and added tokens) must be a row of the embedding. */
    public static void checkTokenizer(Path tokenizerJson, int vocabSize) {
        JsonNode j;
        try {
            j = JSON.readTree(tokenizerJson.toFile());
        } catch (JacksonException e) {
            throw new FormatException(tokenizerJson, null, "malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (j == null || !j.isObject()) throw new FormatException(tokenizerJson, "not a JSON object");
        JsonNode vocab = j.path("model").get("vocab");
        long maxId = -1;
        String maxToken = null;
        if (vocab != null && vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                JsonNode id = e.getValue();
                if (!id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 0) {
                    throw new FormatException(Kind.TOKENIZER, tokenizerJson, null, "token '" + e.getKey() + "' has id " + id + ", not a token id");
                }
                if (id.asLong() > maxId) {
                    maxId = id.asLong();
                    maxToken = e.getKey();
                }
            }
        } else if (vocab != null && vocab.isArray()) { // Unigram: [piece, score] pairs, the id is the index
            maxId = vocab.size() - 1;
        }
        JsonNode added = j.get("added_tokens");
        if (added != null && added.isArray()) {
            for (JsonNode a : added) {
                JsonNode id = a.get("id");
                if (id == null || !id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 0) {
                    throw new FormatException(Kind.TOKENIZER, tokenizerJson, null, "added token " + a + " has no valid id");
                }
                if (id.asLong() > maxId) {
                    maxId = id.asLong();
                    maxToken = a.path("content").asString(null);
                }
            }
        }
        if (maxId >= vocabSize) {
            throw new FormatException(Kind.TOKENIZER, tokenizerJson, null, "token " + (maxToken == null ? "#" + maxId : "'" + maxToken + "'") + " has id "
                    + maxId + " but the model's vocabulary has " + vocabSize + " entries (vocab_size): tokenizer and model do not match");
        }
    }

    /** The GGUF token list (and its scores / types) has one entry per embedding row. */
    private static void checkGgufTokenizer(GgufFile g, LlamaConfig c) {
        for (String key : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")) {
            GgufValue v = g.get(key);
            if (v == null) continue;
            if (v.type() != dev.featherweight.kernels.formats.gguf.GgufValueType.ARRAY) {
                throw new FormatException(Kind.TOKENIZER, g.path(), null, "metadata '" + key + "' must be an array, is " + v.type());
            }
            if (v.asList().size() != c.vocabSize()) {
                throw new FormatException(Kind.TOKENIZER, g.path(), null, "metadata '" + key + "' has " + v.asList().size()
                        + " entries but the vocabulary has " + c.vocabSize());
            }
        }
    }

    // ---- values ------------------------------------------------------------------------------------

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** No NaN/Inf weight in any F32/F16/BF16 tensor, no non-finite scale in a GGUF block tensor. */
    public static void checkValues(TensorSource src) {
        checkValues(src, false);
    }

    /** As {@link #checkValues(TensorSource)}; {@code releaseChecked}: see {@link #check(TensorSource, Path, boolean, boolean)}. */
    public static void checkValues(TensorSource src, boolean releaseChecked) {
        for (String name : src.names()) {
            Tensor t = src.tensor(name);
            long bad = switch (t.type()) {
                case F32 -> firstNonFinite(t.data(), 4, ModelCheck::firstNonFinite32);
                case F16 -> firstNonFinite(t.data(), 2, d -> firstNonFinite16(d, (short) 0x7C00));
                case BF16 -> firstNonFinite(t.data(), 2, d -> firstNonFinite16(d, (short) 0x7F80));
                default -> -1;
            };
            if (bad >= 0) {
                long row = t.rowLength() == 0 ? 0 : bad / t.rowLength(), col = t.rowLength() == 0 ? 0 : bad % t.rowLength();
                float value = switch (t.type()) {
                    case F32 -> t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), bad * 4);
                    case F16 -> Float.float16ToFloat(t.data().get(I16, bad * 2));
                    default -> Float.intBitsToFloat((t.data().get(I16, bad * 2) & 0xFFFF) << 16);
                };
                throw new FormatException(Kind.NON_FINITE, fileOf(src, name), name, "holds " + value + " at row " + row + ", column " + col
                        + " (" + t.type() + "): a damaged or diverged checkpoint");
            }
            if (t.type().isQuantized() && src instanceof GgufFile) {
                try {
                    GgufBlockCodecs.validateRowData(t.type(), t.data(), 0, t.data().byteSize());
                } catch (InvalidBlockDataException e) {
                    long blocksPerRow = Math.max(1, t.rowLength() / t.type().blockSize);
                    throw new FormatException(Kind.NON_FINITE, src.path(), name, "row " + e.block() / blocksPerRow + ", block "
                            + e.block() % blocksPerRow + ": " + e.getMessage(), e);
                }
            }
            if (releaseChecked && t.data().isMapped()) t.data().unload();
        }
    }

    /** Elements per parallel piece of a value scan (4 MB of F32): small enough to balance, large enough to be worth a task. */
    private static final long SCAN_PIECE = 1L << 20;
    private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> { });

    /**
     * The first non-finite element of {@code data} (elements of {@code elementBytes}), scanning pieces on the shared
     * pool: a model's first read of its mapped pages is page faults as much as comparisons, and they go twice as fast on
     * two cores. A segment other threads cannot read (a confined arena) is scanned on this thread.
     */
    static long firstNonFinite(MemorySegment data, int elementBytes, java.util.function.ToLongFunction<MemorySegment> scan) {
        long n = data.byteSize() / elementBytes;
        int pieces = (int) ((n + SCAN_PIECE - 1) / SCAN_PIECE);
        if (pieces <= 1 || !data.isAccessibleBy(PROBE)) return scan.applyAsLong(data);
        long[] found = new long[pieces];
        Parallel.shared().forEach(pieces, p -> {
            long from = p * SCAN_PIECE, to = Math.min(n, from + SCAN_PIECE);
            long i = scan.applyAsLong(data.asSlice(from * elementBytes, (to - from) * elementBytes));
            found[p] = i < 0 ? -1 : from + i;
        });
        for (long i : found) if (i >= 0) return i;
        return -1;
    }

    /** Index of the first float whose exponent bits are all ones (NaN or ±Inf), or -1. */
    static long firstNonFinite32(MemorySegment data) {
        return firstAllOnes(data, 4, 0x7F800000);
    }

    /** As {@link #firstNonFinite32} for 16-bit floats whose exponent mask is {@code exponent} (f16 0x7C00, bf16 0x7F80). */
    static long firstNonFinite16(MemorySegment data, short exponent) {
        return firstAllOnes(data, 2, exponent & 0xFFFF);
    }

    /**
     * Index of the first element (of {@code bytes} = 2 or 4 bytes) whose {@code mask} bits are all ones, or -1. Eight
     * bytes at a time in a plain long (SWAR): the masked field plus its lowest bit carries into the element's top bit
     * exactly when the field is all ones, and never into the next element. Plain scalar code on purpose: this pass runs
     * once per process over a whole model, mostly before the JIT has compiled anything, and the interpreter and C1 run
     * it at memory speed, where Vector API code allocates an object per operation until C2 compiles it.
     */
    private static long firstAllOnes(MemorySegment data, int bytes, int mask) {
        long n = data.byteSize() / bytes;
        long lanes = 8 / bytes;
        long lowBit = mask & -mask, top = bytes == 4 ? 0x80000000L : 0x8000L;
        long fields = 0, carries = 0, tops = 0;
        for (int l = 0; l < lanes; l++) {
            fields |= (long) mask << (l * 8 * bytes);
            carries |= lowBit << (l * 8 * bytes);
            tops |= top << (l * 8 * bytes);
        }
        long i = 0;
        for (long words = n / lanes; i < words * lanes; i += lanes) {
            long w = data.get(I64, i * bytes);
            if ((((w & fields) + carries) & tops) != 0) break;
        }
        for (; i < n; i++) {
            int v = bytes == 4 ? data.get(I32, i * 4) : data.get(I16, i * 2);
            if ((v & mask) == mask) return i;
        }
        return -1;
    }
}
