package dev.featherweight.catalog.capacity;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What sizing needs of a Llama-family network: its dimensions. Parameter and FLOP counts follow from
 * them, so MHA, GQA and MQA come out right without special cases.
 */
public record ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
                         boolean tiedEmbeddings, int maxPositions, boolean attentionBias) {

    public ModelShape {
        if (layers <= 0 || hidden <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffn <= 0 || vocab <= 0 || maxPositions <= 0) {
            throw new CapacityException("model shape " + name + " needs positive dimensions");
        }
        if (heads % kvHeads != 0) throw new CapacityException("model shape " + name + ": " + heads + " heads is not a multiple of " + kvHeads + " KV heads");
    }

    /** A Llama shape without q/k/v biases. */
    public ModelShape(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
                      boolean tiedEmbeddings, int maxPositions) {
        this(name, layers, hidden, heads, kvHeads, headDim, ffn, vocab, tiedEmbeddings, maxPositions, false);
    }

    /**
     * The shape a Hugging Face config.json describes, with the same defaults as transformers (kv heads = heads,
     * head_dim = hidden / heads, 2048 positions when unstated). Bytes that are not a JSON object, or lack a
     * positive size, fail with a {@link CapacityException} naming the key — the platform answers that with 400.
     */
    public static ModelShape fromConfigJson(String name, byte[] configJson) {
        JsonNode c;
        try {
            c = JsonMapper.shared().readTree(configJson);
        } catch (JacksonException e) {
            throw new CapacityException("config.json of " + name + " is not valid JSON: " + e.getOriginalMessage());
        }
        if (c == null || !c.isObject()) throw new CapacityException("config.json of " + name + " is not a JSON object");
        return fromConfigJson(name, c, "config.json");
    }

    /** The same from a parsed config.json object ({@code origin} names it in messages). */
    public static ModelShape fromConfigJson(String name, JsonNode c, String origin) {
        int hidden = required(c, "hidden_size", name, origin), heads = required(c, "num_attention_heads", name, origin);
        int kvHeads = c.path("num_key_value_heads").asInt(heads);
        int headDim = c.path("head_dim").asInt(hidden / heads);
        return new ModelShape(name, required(c, "num_hidden_layers", name, origin), hidden, heads, kvHeads, headDim,
                required(c, "intermediate_size", name, origin), required(c, "vocab_size", name, origin),
                c.path("tie_word_embeddings").asBoolean(false), c.path("max_position_embeddings").asInt(2048),
                c.path("attention_bias").asBoolean(false));
    }

    private static int required(JsonNode c, String key, String name, String origin) {
        int v = c.path(key).asInt(0);
        if (v <= 0) throw new CapacityException(origin + ": model " + name + " lacks a positive '" + key + "'");
        return v;
    }

    public ModelShape withName(String newName) {
        return new ModelShape(newName, layers, hidden, heads, kvHeads, headDim, ffn, vocab, tiedEmbeddings, maxPositions, attentionBias);
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Weights of one transformer block's matmuls (q, k, v, o, gate, up, down). */
    public long blockMatmulParams() {
        long h = hidden;
        return h * qDim() + 2 * h * kvDim() + (long) qDim() * h + 3 * h * ffn;
    }

    /** Every parameter: embeddings, blocks (with their two norms and any q/k/v biases), final norm, untied output head. */
    public long params() {
        long embed = (long) vocab * hidden;
        long bias = attentionBias ? qDim() + 2L * kvDim() : 0;
        return embed + layers * (blockMatmulParams() + 2L * hidden + bias) + hidden + (tiedEmbeddings ? 0 : embed);
    }

    /** Parameters a token's forward pass multiplies by: every block matmul plus the output head (the embedding is a lookup). */
    public long matmulParams() {
        return layers * blockMatmulParams() + (long) vocab * hidden;
    }

    /**
     * FLOPs to produce one token attending to {@code ctx} positions: 2 per matmul weight (multiply and add),
     * plus attention's QKᵀ and AV, each 2 × ctx × qDim per layer.
     */
    public double flopsPerToken(long ctx) {
        return 2.0 * matmulParams() + 4.0 * layers * ctx * qDim();
    }

    /** KV-cache bytes per token: 2 (K and V) × layers × kv heads × head_dim × bytes per element. */
    public double kvBytesPerToken(KvDType dtype) {
        return 2.0 * layers * kvHeads * headDim * dtype.bytesPerElement;
    }
}
