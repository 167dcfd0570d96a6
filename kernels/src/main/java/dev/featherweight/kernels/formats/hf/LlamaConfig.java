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

    /** Reads config.json from a folder, or the file itself. */
    public static LlamaConfig read(Path folderOrFile) {
        Path file = Files.isDirectory(folderOrFile) ? folderOrFile.resolve("config.json") : folderOrFile;
        if (!Files.isRegularFile(file)) throw new FormatException(file, "config.json not found");
        JsonNode j;
        try {
            j = JsonMapper.builder().build().readTree(file.toFile());
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
            throw new FormatException(file, "unsupported architecture '" + type + "' (supported: llama, mistral, qwen2)");
        }
        int hidden = required(file, j, "hidden_size");
        int heads = required(file, j, "num_attention_heads");
        int kvHeads = optional(file, j, "num_key_value_heads", heads);
        if (!j.hasNonNull("head_dim") && hidden % heads != 0) {
            throw new FormatException(file, "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads + " and there is no head_dim");
        }
        int headDim = optional(file, j, "head_dim", hidden / heads);
        if (heads % kvHeads != 0) {
            throw new FormatException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        RopeScaling scaling = null;
        JsonNode rs = j.get("rope_scaling");
        if (rs != null && rs.isObject()) {
            String rt = rs.has("rope_type") ? rs.get("rope_type").asString() : rs.path("type").asString(null);
            if ("llama3".equals(rt)) {
                scaling = new RopeScaling(rt, rs.path("factor").asDouble(8.0), rs.path("low_freq_factor").asDouble(1.0),
                        rs.path("high_freq_factor").asDouble(4.0), rs.path("original_max_position_embeddings").asInt(8192));
            } else if (rt != null && !rt.equals("default")) {
                throw new FormatException(file, "unsupported rope_scaling type '" + rt + "' (supported: llama3)");
            }
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode e = j.get("eos_token_id");
        if (e != null && e.isArray()) e.forEach(x -> eos.add(x.asInt()));
        else if (e != null && e.isIntegralNumber() && e.canConvertToInt()) eos.add(e.asInt());
        boolean bias = type.equals("qwen2") || j.path("attention_bias").asBoolean(false);
        return new LlamaConfig(type, hidden, required(file, j, "intermediate_size"), required(file, j, "num_hidden_layers"),
                heads, kvHeads, headDim, required(file, j, "vocab_size"), j.path("max_position_embeddings").asInt(2048),
                j.path("rms_norm_eps").asDouble(1e-6), j.path("rope_theta").asDouble(10000.0), scaling,
                j.path("tie_word_embeddings").asBoolean(false), j.path("bos_token_id").asInt(-1), List.copyOf(eos), bias,
                j.path("torch_dtype").asString(j.path("dtype").asString(null)));
    }

    private static int required(Path file, JsonNode j, String key) {
        JsonNode v = j.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new FormatException(file, "missing or invalid '" + key + "' (a positive integer): " + v);
        }
        return v.asInt();
    }

    /** A positive integer that may be absent or null (then {@code dflt}). */
    private static int optional(Path file, JsonNode j, String key, int dflt) {
        return j.hasNonNull(key) ? required(file, j, key) : dflt;
    }

    /** The same shape from a GGUF file's metadata ({@code <arch>.block_count} etc.). */
    public static LlamaConfig fromGguf(GgufFile gguf) {
        String arch = gguf.architecture();
        if (arch == null || !SUPPORTED.contains(arch)) {
            throw new FormatException(gguf.path(), "unsupported architecture '" + arch + "' (supported: llama, mistral, qwen2)");
        }
        int hidden = ggufInt(gguf, arch + ".embedding_length", -1);
        int heads = ggufInt(gguf, arch + ".attention.head_count", -1);
        int kvHeads = ggufInt(gguf, arch + ".attention.head_count_kv", heads);
        if (heads % kvHeads != 0) {
            throw new FormatException(gguf.path(), arch + ".attention.head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        int headDim = ggufInt(gguf, arch + ".attention.key_length", hidden / heads);
        GgufValue tokens = gguf.get("tokenizer.ggml.tokens");
        int vocabFallback = tokens != null && tokens.type() == GgufValueType.ARRAY ? tokens.asList().size()
                : gguf.has("token_embd.weight") && gguf.tensorInfo("token_embd.weight").ne().length == 2
                ? (int) Math.min(Integer.MAX_VALUE, gguf.tensorInfo("token_embd.weight").ne()[1]) : -1;
        int vocab = ggufInt(gguf, arch + ".vocab_size", vocabFallback);
        RopeScaling scaling = null;
        GgufValue st = gguf.get(arch + ".rope.scaling.type");
        if (st != null && "llama3".equals(st.value())) {
            scaling = new RopeScaling("llama3", ggufDouble(gguf, arch + ".rope.scaling.factor", 8.0), 1.0, 4.0,
                    ggufInt(gguf, arch + ".rope.scaling.original_context_length", 8192));
        }
        int eos = ggufTokenId(gguf, "tokenizer.ggml.eos_token_id");
        return new LlamaConfig(arch, hidden, ggufInt(gguf, arch + ".feed_forward_length", -1), ggufInt(gguf, arch + ".block_count", -1),
                heads, kvHeads, headDim, vocab, ggufInt(gguf, arch + ".context_length", 2048),
                ggufDouble(gguf, arch + ".attention.layer_norm_rms_epsilon", 1e-5), ggufDouble(gguf, arch + ".rope.freq_base", 10000.0),
                scaling, !gguf.has("output.weight"), ggufTokenId(gguf, "tokenizer.ggml.bos_token_id"),
                eos < 0 ? List.of() : List.of(eos), arch.equals("qwen2") || gguf.has("blk.0.attn_q.bias"), null);
    }

    /** A positive integer key ({@code dflt} when absent; required when dflt is negative). */
    private static int ggufInt(GgufFile f, String key, int dflt) {
        GgufValue v = f.get(key);
        if (v == null) {
            if (dflt <= 0) throw new FormatException(f.path(), "missing metadata '" + key + "'");
            return dflt;
        }
        if (!(v.value() instanceof Integer || v.value() instanceof Long) || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
            throw new FormatException(f.path(), "metadata '" + key + "' must be a positive integer, is " + v.type() + " " + v.value());
        }
        return (int) v.asLong();
    }

    /** A token id (0 is valid), or -1 when absent. */
    private static int ggufTokenId(GgufFile f, String key) {
        GgufValue v = f.get(key);
        if (v == null) return -1;
        if (!(v.value() instanceof Integer || v.value() instanceof Long) || v.asLong() < 0 || v.asLong() > Integer.MAX_VALUE) {
            throw new FormatException(f.path(), "metadata '" + key + "' must be a token id, is " + v.type() + " " + v.value());
        }
        return (int) v.asLong();
    }

    private static double ggufDouble(GgufFile f, String key, double dflt) {
        GgufValue v = f.get(key);
        if (v == null) return dflt;
        if (!(v.value() instanceof Float || v.value() instanceof Double)) {
            throw new FormatException(f.path(), "metadata '" + key + "' must be a float, is " + v.type());
        }
        return v.asDouble();
    }
}
