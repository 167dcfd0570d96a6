package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;

/**
 * A Llama-family model ready to run: its shape ({@link Config}) and its weights as {@link WeightMatrix}
 * views of the memory-mapped file (nothing is copied but norm vectors and biases). Covers llama, mistral
 * and qwen2 (q/k/v bias): RMSNorm, RoPE, grouped/multi-query attention, SwiGLU, tied or untied output.
 *
 * <p>The forward pass itself lives in {@link LlamaSession} (one per sequence: KV cache and scratch); a
 * model can serve several sessions. {@link #setBlock} replaces a block's weights, e.g. with quantized ones.
 */
public final class LlamaModel implements AutoCloseable {

    /** How q/k pairs are rotated: HF checkpoints (and GGUF qwen2) rotate halves, GGUF llama stores interleaved pairs. */
    public enum RopeLayout { ROTATE_HALF, INTERLEAVED }

    /** rope_scaling of type "llama3" (Llama 3.1+): long wavelengths are stretched by {@code factor}. */
    public record Llama3Rope(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    }

    /**
     * The shape of the network. {@code qDim = heads·headDim}; kv width = kvHeads·headDim.
     */
    public record Config(String architecture, int dim, int ffnDim, int layers, int heads, int kvHeads, int headDim,
                         int vocab, float rmsEps, double ropeTheta, Llama3Rope llama3Rope, RopeLayout ropeLayout,
                         int bosId, int eosId, boolean addBos, int maxPositions) {
        public Config {
            if (heads % kvHeads != 0) throw new IllegalArgumentException("heads " + heads + " not a multiple of kv heads " + kvHeads);
            if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim must be even, got " + headDim);
        }

        public int qDim() {
            return heads * headDim;
        }

        public int kvDim() {
            return kvHeads * headDim;
        }
    }

    /** Tensor names of the two naming schemes. */
    public enum Naming {
        HF("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.%d.",
                "input_layernorm.weight", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "post_attention_layernorm.weight", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"),
        GGUF("token_embd.weight", "output_norm.weight", "output.weight", "blk.%d.",
                "attn_norm.weight", "attn_q", "attn_k", "attn_v", "attn_output",
                "ffn_norm.weight", "ffn_gate", "ffn_up", "ffn_down");

        final String embed, outNorm, output, block, attnNorm, q, k, v, o, ffnNorm, gate, up, down;

        Naming(String embed, String outNorm, String output, String block, String attnNorm, String q, String k, String v,
               String o, String ffnNorm, String gate, String up, String down) {
            this.embed = embed;
            this.outNorm = outNorm;
            this.output = output;
            this.block = block;
            this.attnNorm = attnNorm;
            this.q = q;
            this.k = k;
            this.v = v;
            this.o = o;
            this.ffnNorm = ffnNorm;
            this.gate = gate;
            this.up = up;
            this.down = down;
        }
    }

    private final Config config;
    private final TensorSource source;
    private final Parallel pool;
    private final WeightMatrix tokenEmbedding;
    private final BlockWeights[] blocks;
    private final float[] outputNorm;
    private final WeightMatrix output;
    /** Rotation frequency of each of the headDim/2 pairs (radians per position), scaling applied. */
    private final double[] ropeFreqs;

    private LlamaModel(Config config, TensorSource source, Parallel pool, WeightMatrix tokenEmbedding, BlockWeights[] blocks,
                       float[] outputNorm, WeightMatrix output, double[] ropeFreqs) {
        this.config = config;
        this.source = source;
        this.pool = pool;
        this.tokenEmbedding = tokenEmbedding;
        this.blocks = blocks;
        this.outputNorm = outputNorm;
        this.output = output;
        this.ropeFreqs = ropeFreqs;
    }

    /**
     * Binds the tensors of {@code source} (named per {@code naming}) to a model of shape {@code config}.
     * The model owns the source from now on: {@link #close()} closes it. Shape mismatches raise a
     * {@link FormatException} naming the file and tensor.
     */
    public static LlamaModel load(Config c, TensorSource source, Naming naming, Parallel pool) {
        WeightMatrix embed = matrix(source, naming.embed, c.vocab(), c.dim());
        BlockWeights[] blocks = new BlockWeights[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            String p = naming.block.formatted(l);
            blocks[l] = new BlockWeights(
                    vector(source, p + naming.attnNorm, c.dim()),
                    matrix(source, p + naming.q + ".weight", c.qDim(), c.dim()),
                    matrix(source, p + naming.k + ".weight", c.kvDim(), c.dim()),
                    matrix(source, p + naming.v + ".weight", c.kvDim(), c.dim()),
                    matrix(source, p + naming.o + ".weight", c.dim(), c.qDim()),
                    optionalVector(source, p + naming.q + ".bias", c.qDim()),
                    optionalVector(source, p + naming.k + ".bias", c.kvDim()),
                    optionalVector(source, p + naming.v + ".bias", c.kvDim()),
                    vector(source, p + naming.ffnNorm, c.dim()),
                    matrix(source, p + naming.gate + ".weight", c.ffnDim(), c.dim()),
                    matrix(source, p + naming.up + ".weight", c.ffnDim(), c.dim()),
                    matrix(source, p + naming.down + ".weight", c.dim(), c.ffnDim()));
        }
        float[] outNorm = vector(source, naming.outNorm, c.dim());
        // Tied embeddings: no lm_head / output.weight in the file, the token embedding doubles as output.
        WeightMatrix out = source.has(naming.output) ? matrix(source, naming.output, c.vocab(), c.dim()) : embed;
        double[] freqs = ropeFrequencies(c, source.has("rope_freqs.weight") ? vector(source, "rope_freqs.weight", c.headDim() / 2) : null);
        return new LlamaModel(c, source, pool, embed, blocks, outNorm, out, freqs);
    }

    private static WeightMatrix matrix(TensorSource s, String name, int rows, int cols) {
        if (s instanceof MatrixSource ms) {
            // GPTQ/AWQ/bitsandbytes folders store a linear in several tensors (methods branch)
            WeightMatrix m = ms.matrix(name);
            if (m != null) {
                if (m.rows() != rows || m.cols() != cols) {
                    throw new FormatException(s.path(), name, m.format() + " [" + m.rows() + ", " + m.cols() + "], expected [" + rows + ", " + cols + "] for this config");
                }
                return m;
            }
        }
        Tensor t = s.tensor(name);
        if (t.rows() != rows || t.rowLength() != cols) {
            throw new FormatException(s.path(), name, "shape " + java.util.Arrays.toString(t.shape()) + ", expected [" + rows + ", " + cols + "] for this config");
        }
        try {
            return WeightMatrices.of(t);
        } catch (IllegalArgumentException e) {
            throw new FormatException(s.path(), name, e.getMessage());
        }
    }

    private static float[] vector(TensorSource s, String name, int n) {
        Tensor t = s.tensor(name);
        if (t.elements() != n) throw new FormatException(s.path(), name, t.elements() + " elements, expected " + n);
        return WeightMatrices.toFloats(t);
    }

    private static float[] optionalVector(TensorSource s, String name, int n) {
        return s.has(name) ? vector(s, name, n) : null;
    }

    /**
     * θ_i = base^(−2i/headDim) for each rotated pair, then llama3 scaling (HF _compute_llama3_parameters) or,
     * for GGUF files that carry it, division by llama.cpp's per-pair {@code rope_freqs} factors.
     */
    static double[] ropeFrequencies(Config c, float[] freqFactors) {
        int half = c.headDim() / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) f[i] = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
        if (freqFactors != null) {
            for (int i = 0; i < half; i++) f[i] /= freqFactors[i];
        } else if (c.llama3Rope() != null) {
            Llama3Rope r = c.llama3Rope();
            double lowWavelen = r.originalMaxPositions() / r.lowFreqFactor();
            double highWavelen = r.originalMaxPositions() / r.highFreqFactor();
            for (int i = 0; i < half; i++) {
                double wavelen = 2 * Math.PI / f[i];
                if (wavelen < highWavelen) continue;
                if (wavelen > lowWavelen) {
                    f[i] /= r.factor();
                } else {
                    double smooth = (r.originalMaxPositions() / wavelen - r.lowFreqFactor()) / (r.highFreqFactor() - r.lowFreqFactor());
                    f[i] = (1 - smooth) * f[i] / r.factor() + smooth * f[i];
                }
            }
        }
        return f;
    }

    public Config config() {
        return config;
    }

    public Parallel pool() {
        return pool;
    }

    public TensorSource source() {
        return source;
    }

    public WeightMatrix tokenEmbedding() {
        return tokenEmbedding;
    }

    public BlockWeights block(int layer) {
        return blocks[layer];
    }

    /** Replaces the weights of one block for every later forward pass (e.g. after quantizing it). */
    public void setBlock(int layer, BlockWeights weights) {
        blocks[layer] = weights;
    }

    public float[] outputNorm() {
        return outputNorm;
    }

    public WeightMatrix output() {
        return output;
    }

    double[] ropeFreqs() {
        return ropeFreqs;
    }

    /** A new sequence state (KV cache for {@code maxTokens} positions). */
    public LlamaSession newSession(int maxTokens) {
        return new LlamaSession(this, maxTokens);
    }

    /** Weight bytes as stored (mapped), for reports. */
    public long weightBytes() {
        long b = tokenEmbedding.storageBytes() + (output == tokenEmbedding ? 0 : output.storageBytes());
        for (BlockWeights w : blocks) {
            for (String m : BlockWeights.MODULES) b += w.matrix(m).storageBytes();
        }
        return b;
    }

    @Override
    public void close() {
        if (source != null) source.close();
    }
}
