package dev.featherweight.kernels.formats.hf;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.gguf.GgufValueType;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The shape of a Llama-family model, read from a Hugging Face config.json or from a GGUF file's
 * {@code <arch>.*} metadata. Covers llama, mistral and qwen2 (q/k/v projections with bias); anything
 * else is refused with the architecture named, since running it with a Llama forward pass would give
 * silently wrong numbers.
 *
 * @param architecture      model_type ("llama", "mistral", "qwen2")
 * @param headDim           head_dim, or hidden / heads when the config has none
 * @param eosTokenIds       every eos id (config.json may give a list); first is the primary
 * @param attentionBias     q/k/v projections carry a bias (qwen2, or llama's attention_bias)
 * @param ropeScaling       null, or the llama3 long-context scaling
 * @param torchDtype        the stored dtype named by the config ("float32", "bfloat16", …), may be null
 */
public record LlamaConfig(String architecture, int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads,
                          int headDim, int vocabSize, int maxPositions, double rmsNormEps, double ropeTheta,
                          RopeScaling ropeScaling, boolean tieWordEmbeddings, int bosTokenId, List<Integer> eosTokenIds,
                          boolean attentionBias, String torchDtype) {

    public static final Set<String> SUPPORTED = Set.of("llama", "mistral", "qwen2");

    /** rope_scaling of type "llama3". */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    }

    public int eosTokenId() {
        return eosTokenIds.isEmpty() ? -1 : eosTokenIds.getFirst();
    }

    /** Parameters of the network (embeddings, attention, MLP, norms, output head when untied). */
    public long parameterCount() {
        long h = hiddenSize, q = (long) heads * headDim, kv = (long) kvHeads * headDim;
        long attn = h * q + 2 * h * kv + q * h + (attentionBias ? q + 2 * kv : 0);
        long mlp = 3L * h * intermediateSize;
        long perLayer = attn + mlp + 2 * h;
        long embed = (long) vocabSize * h;
        return embed + layers * perLayer + h + (tieWordEmbeddings ? 0 : embed);
    }

    /**
     * Largest sizes accepted from a config: several times any published model (Llama 3.1 405B: hidden 16384,
     * MLP 53248, 126 layers, 128 heads; the largest vocabularies are ~256 k). A larger value is a damaged or
     * hostile config, refused before anything is allocated from it.
     */
    public static final int MAX_HIDDEN = 1 << 16, MAX_INTERMEDIATE = 1 << 18, MAX_LAYERS = 1 << 10, MAX_HEADS = 1 << 10,
            MAX_HEAD_DIM = 1 << 10, MAX_VOCAB = 1 << 22, MAX_POSITIONS = 1 << 24;

    /** Reads config.json from a folder, or the file itself. */
    public static LlamaConfig read(Path folderOrFile) {
        Path file = Files.isDirectory(folderOrFile) ? folderOrFile.resolve("config.json") : folderOrFile;
        if (!Files.isRegularFile(file)) throw new FormatException(FormatException.Kind.CONFIG, file, null, "config.json not found");
        JsonNode j;
        try {
            j = JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new FormatException(file, null, "malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (j == null || !j.isObject()) throw new FormatException(file, "not a JSON object");
        String type = j.path("model_type").asString(null);
        if (type == null) {
            JsonNode arch = j.get("architectures");
            String a = arch != null && arch.isArray() && !arch.isEmpty() ? arch.get(0).asString() : null;
            if ("LlamaForCausalLM".equals(a)) type = "llama";
            else if ("MistralForCausalLM".equals(a)) type = "mistral";
            else if ("Qwen2ForCausalLM".equals(a)) type = "qwen2";
            else type = a;
        }
        if (type == null || !SUPPORTED.contains(type)) {
            throw config(file, "unsupported architecture '" + type + "' (supported: llama, mistral, qwen2)");
        }
        int hidden = required(file, j, "hidden_size", MAX_HIDDEN);
        int heads = required(file, j, "num_attention_heads", MAX_HEADS);
        int kvHeads = optional(file, j, "num_key_value_heads", heads, MAX_HEADS);
        if (!j.hasNonNull("head_dim") && hidden % heads != 0) {
            throw config(file, "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads + " and there is no head_dim");
        }
        int headDim = optional(file, j, "head_dim", hidden / heads, MAX_HEAD_DIM);
        if (headDim % 2 != 0) throw config(file, "head_dim " + headDim + " is odd; RoPE rotates pairs");
        if (heads % kvHeads != 0) {
            throw config(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        RopeScaling scaling = null;
        JsonNode rs = j.get("rope_scaling");
        if (rs != null && !rs.isNull() && !rs.isObject()) throw config(file, "rope_scaling must be an object or null, is " + rs);
        if (rs != null && rs.isObject()) {
            String rt = rs.has("rope_type") ? rs.get("rope_type").asString() : rs.path("type").asString(null);
            if ("llama3".equals(rt)) {
                scaling = new RopeScaling(rt, positiveNumber(file, rs, "rope_scaling.factor", "factor", 8.0),
                        positiveNumber(file, rs, "rope_scaling.low_freq_factor", "low_freq_factor", 1.0),
                        positiveNumber(file, rs, "rope_scaling.high_freq_factor", "high_freq_factor", 4.0),
                        optional(file, rs, "original_max_position_embeddings", 8192, MAX_POSITIONS));
                if (scaling.highFreqFactor() <= scaling.lowFreqFactor()) {
                    throw config(file, "rope_scaling.high_freq_factor " + scaling.highFreqFactor() + " must be larger than low_freq_factor " + scaling.lowFreqFactor());
                }
            } else if (rt != null && !rt.equals("default")) {
                throw config(file, "unsupported rope_scaling type '" + rt + "' (supported: llama3)");
            }
        }
        int vocab = required(file, j, "vocab_size", MAX_VOCAB);
        List<Integer> eos = new ArrayList<>();
        JsonNode e = j.get("eos_token_id");
        if (e != null && e.isArray()) {
            for (JsonNode x : e) eos.add(tokenId(file, "eos_token_id", x, vocab));
        } else if (e != null && !e.isNull()) {
            eos.add(tokenId(file, "eos_token_id", e, vocab));
        }
        JsonNode bos = j.get("bos_token_id");
        int bosId = bos == null || bos.isNull() ? -1 : tokenId(file, "bos_token_id", bos, vocab);
        boolean bias = type.equals("qwen2") || bool(file, j, "attention_bias");
        return new LlamaConfig(type, hidden, required(file, j, "intermediate_size", MAX_INTERMEDIATE), required(file, j, "num_hidden_layers", MAX_LAYERS),
                heads, kvHeads, headDim, vocab, optional(file, j, "max_position_embeddings", 2048, MAX_POSITIONS),
                positiveNumber(file, j, "rms_norm_eps", "rms_norm_eps", 1e-6), positiveNumber(file, j, "rope_theta", "rope_theta", 10000.0), scaling,
                bool(file, j, "tie_word_embeddings"), bosId, List.copyOf(eos), bias,
                j.path("torch_dtype").asString(j.path("dtype").asString(null)));
    }

    private static final JsonMapper JSON = JsonMapper.builder().enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private static FormatException config(Path file, String problem) {
        return new FormatException(FormatException.Kind.CONFIG, file, null, problem);
    }

    /** A positive integer no larger than {@code max} (a larger one is a {@link FormatException.Kind#LIMIT} error). */
    private static int required(Path file, JsonNode j, String key, int max) {
        JsonNode v = j.get(key);
        if (v == null || v.isNull() || !v.isIntegralNumber()) throw config(file, "missing or invalid '" + key + "' (a positive integer): " + v);
        if (!v.canConvertToLong() || v.asLong() > max) {
            throw new FormatException(FormatException.Kind.LIMIT, file, null, "'" + key + "' = " + v + " is larger than any real model (at most " + max + ")");
        }
        if (v.asLong() <= 0) throw config(file, "missing or invalid '" + key + "' (a positive integer): " + v);
        return v.asInt();
    }

    /** A positive integer that may be absent or null (then {@code dflt}). */
    private static int optional(Path file, JsonNode j, String key, int dflt, int max) {
        return j.hasNonNull(key) ? required(file, j, key, max) : dflt;
    }

    /** A finite number > 0 ({@code dflt} when absent or null); a string or a negative value is an error, never the default. */
    private static double positiveNumber(Path file, JsonNode j, String label, String key, double dflt) {
        JsonNode v = j.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() <= 0) {
            throw config(file, "'" + label + "' must be a number > 0, is " + v);
        }
        return v.asDouble();
    }

    private static boolean bool(Path file, JsonNode j, String key) {
        JsonNode v = j.get(key);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw config(file, "'" + key + "' must be true or false, is " + v);
        return v.asBoolean();
    }

    private static int tokenId(Path file, String key, JsonNode v, int vocab) {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= vocab) {
            throw config(file, "'" + key + "' must be a token id in [0, " + vocab + "), is " + v);
        }
        return v.asInt();
    }

    /** The same shape from a GGUF file's metadata ({@code <arch>.block_count} etc.), checked as config.json is. */
    public static LlamaConfig fromGguf(GgufFile gguf) {
        String arch = gguf.architecture();
        Path file = gguf.path();
        if (arch == null || !SUPPORTED.contains(arch)) {
            throw config(file, "unsupported architecture '" + arch + "' (supported: llama, mistral, qwen2)");
        }
        int hidden = ggufInt(gguf, arch + ".embedding_length", -1, MAX_HIDDEN);
        int heads = ggufInt(gguf, arch + ".attention.head_count", -1, MAX_HEADS);
        int kvHeads = ggufInt(gguf, arch + ".attention.head_count_kv", heads, MAX_HEADS);
        if (heads % kvHeads != 0) {
            throw config(file, arch + ".attention.head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        if (!gguf.metadata().containsKey(arch + ".attention.key_length") && hidden % heads != 0) {
            throw config(file, arch + ".embedding_length " + hidden + " is not a multiple of " + arch + ".attention.head_count " + heads
                    + " and there is no " + arch + ".attention.key_length");
        }
        int headDim = ggufInt(gguf, arch + ".attention.key_length", hidden / heads, MAX_HEAD_DIM);
        if (headDim % 2 != 0) throw config(file, arch + ".attention.key_length " + headDim + " is odd; RoPE rotates pairs");
        GgufValue tokens = gguf.get("tokenizer.ggml.tokens");
        int vocabFallback = tokens != null && tokens.type() == GgufValueType.ARRAY ? tokens.asList().size()
                : gguf.has("token_embd.weight") && gguf.tensorInfo("token_embd.weight").ne().length == 2
                ? (int) Math.min(Integer.MAX_VALUE, gguf.tensorInfo("token_embd.weight").ne()[1]) : -1;
        int vocab = ggufInt(gguf, arch + ".vocab_size", vocabFallback, MAX_VOCAB);
        RopeScaling scaling = null;
        GgufValue st = gguf.get(arch + ".rope.scaling.type");
        if (st != null && "llama3".equals(st.value())) {
            scaling = new RopeScaling("llama3", ggufDouble(gguf, arch + ".rope.scaling.factor", 8.0), 1.0, 4.0,
                    ggufInt(gguf, arch + ".rope.scaling.original_context_length", 8192, MAX_POSITIONS));
        }
        int eos = ggufTokenId(gguf, "tokenizer.ggml.eos_token_id");
        int bos = ggufTokenId(gguf, "tokenizer.ggml.bos_token_id");
        for (int id : new int[]{eos, bos}) {
            if (id >= vocab) throw config(file, "token id " + id + " of tokenizer.ggml.bos/eos_token_id is outside the vocabulary of " + vocab);
        }
        return new LlamaConfig(arch, hidden, ggufInt(gguf, arch + ".feed_forward_length", -1, MAX_INTERMEDIATE),
                ggufInt(gguf, arch + ".block_count", -1, MAX_LAYERS), heads, kvHeads, headDim, vocab,
                ggufInt(gguf, arch + ".context_length", 2048, MAX_POSITIONS),
                ggufDouble(gguf, arch + ".attention.layer_norm_rms_epsilon", 1e-5), ggufDouble(gguf, arch + ".rope.freq_base", 10000.0),
                scaling, !gguf.has("output.weight"), bos, eos < 0 ? List.of() : List.of(eos), arch.equals("qwen2") || gguf.has("blk.0.attn_q.bias"), null);
    }

    /** A positive integer key ({@code dflt} when absent; required when dflt is negative) no larger than {@code max}. */
    private static int ggufInt(GgufFile f, String key, int dflt, int max) {
        GgufValue v = f.get(key);
        if (v == null) {
            if (dflt <= 0) throw config(f.path(), "missing metadata '" + key + "'");
            return dflt;
        }
        if (!(v.value() instanceof Integer || v.value() instanceof Long) || v.asLong() <= 0) {
            throw config(f.path(), "metadata '" + key + "' must be a positive integer, is " + v.type() + " " + v.value());
        }
        if (v.asLong() > max) {
            throw new FormatException(FormatException.Kind.LIMIT, f.path(), null, "metadata '" + key + "' = " + v.value()
                    + " is larger than any real model (at most " + max + ")");
        }
        return (int) v.asLong();
    }

    /** A token id (0 is valid), or -1 when absent. */
    private static int ggufTokenId(GgufFile f, String key) {
        GgufValue v = f.get(key);
        if (v == null) return -1;
        if (!(v.value() instanceof Integer || v.value() instanceof Long) || v.asLong() < 0 || v.asLong() > Integer.MAX_VALUE) {
            throw config(f.path(), "metadata '" + key + "' must be a token id, is " + v.type() + " " + v.value());
        }
        return (int) v.asLong();
    }

    private static double ggufDouble(GgufFile f, String key, double dflt) {
        GgufValue v = f.get(key);
        if (v == null) return dflt;
        if (!(v.value() instanceof Float || v.value() instanceof Double) || !Double.isFinite(v.asDouble()) || v.asDouble() <= 0) {
            throw config(f.path(), "metadata '" + key + "' must be a float > 0, is " + v.type() + " " + v.value());
        }
        return v.asDouble();
    }
}
