package dev.featherweight.kernels.capacity;

import dev.featherweight.kernels.formats.hf.LlamaConfig;

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

    public static ModelShape of(String name, LlamaConfig c) {
        return new ModelShape(name, c.layers(), c.hiddenSize(), c.heads(), c.kvHeads(), c.headDim(), c.intermediateSize(),
                c.vocabSize(), c.tieWordEmbeddings(), c.maxPositions(), c.attentionBias());
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
