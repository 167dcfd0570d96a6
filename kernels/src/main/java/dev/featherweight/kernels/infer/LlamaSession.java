package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.quant.gguf.Q8Activations;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * One sequence through a {@link LlamaModel}: the KV cache and scratch buffers, and the forward pass.
 * Activations are float32, row-major, one row per token. Not thread-safe (the matmuls inside use the
 * model's thread pool); use one session per concurrent sequence.
 *
 * <p>Whole-model use: {@link #forward(int[], int, int, int, int)} runs a batch of tokens at positions
 * startPos… and returns the logits of the rows asked for.
 *
 * <p>Layer-by-layer use (calibration): {@link #embed} → {@link #forwardBlock} for each layer (optionally with
 * replacement {@link BlockWeights}) → {@link #logits}. {@link #setObserver} reports every matmul input.
 * forwardBlock writes that layer's KV cache at positions [startPos, startPos+n) and attends causally to
 * [0, startPos+i]; start a new sequence with startPos 0 (no reset needed: positions are overwritten).
 */
public final class LlamaSession {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private final LlamaModel model;
    private final LlamaModel.Config c;
    private final Parallel pool;
    private final int maxTokens;
    private final float[][] keyCache, valueCache; // [layer][(kvHead · headDim + d) · maxTokens + pos]
    private final float[] cos, sin;               // [pos · headDim/2 + i]
    /** ggml's rope cache (float θ, glibc cosf/sinf), made when llama.cpp numerics are set on a model with plain rope. */
    private float[] ggmlCos, ggmlSin;
    private ActivationObserver observer;
    private Numerics numerics = Numerics.FP32;
    private float[] rounded = new float[0];
    /** The activations of the integer-dot path (llama.cpp numerics on Q8_0/Q4_0/K-quant weights), reused call to call. */
    private final Q8Activations quantized = new Q8Activations();

    private int capacity;
    private float[] xb, q, k, v, att, tmp, gate, up;

    LlamaSession(LlamaModel model, int maxTokens) {
        this.model = model;
        this.c = model.config();
        this.pool = model.pool();
        this.maxTokens = maxTokens;
        this.keyCache = new float[c.layers()][];
        this.valueCache = new float[c.layers()][];
        int half = c.headDim() / 2;
        cos = new float[maxTokens * half];
        sin = new float[maxTokens * half];
        double[] f = model.ropeFreqs();
        for (int p = 0; p < maxTokens; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * f[i];
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
    }

    public LlamaModel model() {
        return model;
    }

    /**
     * The heap a session of {@code maxTokens} positions holds once it ran a batch of n = maxTokens tokens through every
     * layer and the output: the KV caches, the RoPE tables, the batch buffers of {@link #ensureCapacity} and the logits
     * with the normalized rows they come from. The one formula of a forward pass's memory (perplexity sizes its heap by it).
     */
    public static long heapBytes(LlamaModel.Config c, int maxTokens) {
        long n = maxTokens;
        long kv = 2L * c.layers() * n * c.kvDim();
        long rope = n * c.headDim();
        long buffers = n * (2L * c.dim() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.ffnDim());
        long logits = n * ((long) c.vocab() + 2L * c.dim());
        return 4 * (kv + rope + buffers + logits);
    }

    public int maxTokens() {
        return maxTokens;
    }

    /**
     * Drops the KV cache of one layer (allocated again if the layer runs again). Block-by-block calibration runs
     * each layer over and over, then never again: without this a 7B run would keep 8 MB per finished layer.
     */
    public void releaseLayer(int layer) {
        keyCache[layer] = null;
        valueCache[layer] = null;
    }

    /** Sets (or clears, with null) the observer of matmul inputs. */
    public void setObserver(ActivationObserver observer) {
        this.observer = observer;
    }

    /**
     * Runs tokens[off .. off+n) at positions startPos … startPos+n−1 through the whole model and returns the
     * logits of rows fromRow … n−1 ((n − fromRow) × vocab, row-major). fromRow = n−1 for generation.
     */
    public float[] forward(int[] tokens, int off, int n, int startPos, int fromRow) {
        float[] h = embed(tokens, off, n);
        for (int l = 0; l < c.layers(); l++) forwardBlock(l, h, n, startPos, model.block(l));
        return logits(h, n, fromRow);
    }

    /** The token embeddings of tokens[off .. off+n): hidden states (n × dim). */
    public float[] embed(int[] tokens, int off, int n) {
        float[] h = new float[n * c.dim()];
        WeightMatrix e = model.tokenEmbedding();
        for (int i = 0; i < n; i++) {
            int t = tokens[off + i];
            if (t < 0 || t >= c.vocab()) throw new IllegalArgumentException("token id " + t + " at " + (off + i) + " is outside the vocabulary [0, " + c.vocab() + ")");
            e.decodeRow(t, h, i * c.dim());
        }
        return h;
    }

    /** One transformer block with the model's own weights, in place on hidden (n × dim). */
    public void forwardBlock(int layer, float[] hidden, int n, int startPos) {
        forwardBlock(layer, hidden, n, startPos, model.block(layer));
    }

    /**
     * One transformer block, in place on hidden (n × dim): h += attn(norm(h)); h += mlp(norm(h)), using the
     * given weights instead of the model's (the model is not changed).
     */
    public void forwardBlock(int layer, float[] hidden, int n, int startPos, BlockWeights w) {
        checkPositions(startPos, n);
        ensureCapacity(n);
        int dim = c.dim();
        rmsNorm(hidden, w.attnNorm(), xb, n, dim);
        selfAttentionInto(layer, xb, n, startPos, w);
        for (int i = 0; i < n * dim; i++) hidden[i] += tmp[i];
        rmsNorm(hidden, w.ffnNorm(), xb, n, dim);
        mlpInto(layer, xb, n, w);
        for (int i = 0; i < n * dim; i++) hidden[i] += tmp[i];
    }

    /**
     * The block's self-attention alone (Hugging Face's {@code self_attn} module: q/k/v, RoPE, causal attention,
     * o_proj) on already normalized inputs x (n × dim) at positions startPos…: a new n × dim array. AWQ judges its
     * q/k/v scales on this output. Writes the layer's KV cache as {@link #forwardBlock} does.
     */
    public float[] selfAttention(int layer, float[] x, int n, int startPos, BlockWeights w) {
        checkPositions(startPos, n);
        ensureCapacity(n);
        selfAttentionInto(layer, x, n, startPos, w);
        return Arrays.copyOf(tmp, n * c.dim());
    }

    /** The block's MLP alone ({@code mlp}: down(silu(gate·x) · up·x)) on normalized inputs x (n × dim): a new n × dim array. */
    public float[] mlp(float[] x, int n, BlockWeights w) {
        ensureCapacity(n);
        mlpInto(-1, x, n, w);
        return Arrays.copyOf(tmp, n * c.dim());
    }

    private void checkPositions(int startPos, int n) {
        if (startPos < 0 || startPos + n > maxTokens) {
            throw new IllegalArgumentException("positions " + startPos + ".." + (startPos + n - 1) + " exceed this session's " + maxTokens);
        }
    }

    /** self_attn on normalized x (n × dim) into tmp (n × dim). */
    private void selfAttentionInto(int layer, float[] x, int n, int startPos, BlockWeights w) {
        int qDim = c.qDim(), kvDim = c.kvDim();
        observe(layer, "attn_q", x, n, c.dim());
        observe(layer, "attn_k", x, n, c.dim());
        observe(layer, "attn_v", x, n, c.dim());
        matmul(w.q(), x, n, q);
        matmul(w.k(), x, n, k);
        matmul(w.v(), x, n, v);
        addBias(q, w.qBias(), n, qDim);
        addBias(k, w.kBias(), n, kvDim);
        addBias(v, w.vBias(), n, kvDim);
        rope(q, n, c.heads(), startPos);
        rope(k, n, c.kvHeads(), startPos);

        if (keyCache[layer] == null) {
            // + CACHE_TAIL: llama.cpp-order attention reads whole vectors up to a multiple of its lanes past the last position
            keyCache[layer] = new float[maxTokens * kvDim + CACHE_TAIL];
            valueCache[layer] = new float[maxTokens * kvDim + CACHE_TAIL];
        }
        if (numerics.kvF16()) {
            // llama.cpp's f16 cache: K and V stored as fp16; q rounded to fp16 for the K·q product.
            roundF16(k, n * kvDim);
            roundF16(v, n * kvDim);
            roundF16(q, n * qDim);
        }
        storeTransposed(k, keyCache[layer], n, startPos);
        storeTransposed(v, valueCache[layer], n, startPos);
        if (numerics.simdLanes() != 0) attentionGgml(keyCache[layer], valueCache[layer], n, startPos);
        else attention(keyCache[layer], valueCache[layer], n, startPos);

        observe(layer, "attn_output", att, n, qDim);
        matmul(w.o(), att, n, tmp);
    }

    /** The MLP on normalized x (n × dim) into tmp (n × dim). */
    private void mlpInto(int layer, float[] x, int n, BlockWeights w) {
        observe(layer, "ffn_gate", x, n, c.dim());
        observe(layer, "ffn_up", x, n, c.dim());
        matmul(w.gate(), x, n, gate);
        matmul(w.up(), x, n, up);
        if (numerics.simdLanes() != 0) swigluGgml(gate, up, n, c.ffnDim(), numerics.simdLanes());
        else swiglu(gate, up, n * c.ffnDim());
        observe(layer, "ffn_down", gate, n, c.ffnDim());
        matmul(w.down(), gate, n, tmp);
    }

    /** Writes n tokens' k or v rows (n × kvDim) into the cache at [kvHead][d][startPos + t]. */
    private void storeTransposed(float[] x, float[] cache, int n, int startPos) {
        int kvDim = c.kvDim();
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < kvDim; j++) cache[j * maxTokens + startPos + t] = x[t * kvDim + j];
        }
    }

    /** Final RMSNorm and output projection of rows fromRow … n−1 of hidden: (n − fromRow) × vocab logits. */
    public float[] logits(float[] hidden, int n, int fromRow) {
        int dim = c.dim(), m = n - fromRow;
        if (m <= 0) return new float[0];
        float[] normed = new float[m * dim];
        float[] rows = new float[m * dim];
        System.arraycopy(hidden, fromRow * dim, rows, 0, m * dim);
        rmsNorm(rows, model.outputNorm(), normed, m, dim);
        observe(-1, "output", normed, m, dim);
        float[] out = new float[m * c.vocab()];
        matmul(model.output(), normed, m, out);
        return out;
    }

    /** out = x·Wᵀ, with x first rounded as llama.cpp would when {@link Numerics#roundActivations()}. */
    private void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        float[] in = x;
        if (numerics.roundActivations() && w instanceof BlockMatrix b && b.q8BlockSize() != 0 && w.cols() % b.q8BlockSize() == 0) {
            // The same rounded activations, multiplied as llama.cpp's CPU backend does, bit for bit (GgmlDot).
            quantized.quantize(b.q8BlockSize(), x, n, w.cols());
            b.matmul(quantized, n, out, pool);
            return;
        }
        if (numerics.roundActivations()) {
            if (rounded.length < n * w.cols()) rounded = new float[n * w.cols()];
            in = Numerics.roundForWeights(w.format(), x, n, w.cols(), rounded);
        }
        boolean f16 = w.format().equals("F16");
        if (numerics.simdLanes() != 0 && (f16 || w.format().equals("F32"))) {
            MatmulKernel.matmulGgml(w, in, n, out, pool, numerics.simdLanes(), f16);
            return;
        }
        w.matmul(in, n, out, pool);
    }

    private static void roundF16(float[] x, int len) {
        for (int i = 0; i < len; i++) x[i] = Numerics.f16(x[i]);
    }

    /** Sets how activations and the KV cache are rounded (default {@link Numerics#FP32}). */
    public void setNumerics(Numerics numerics) {
        this.numerics = numerics;
        ggmlCos = ggmlSin = null;
        if (numerics.simdLanes() != 0 && plainRope()) {
            int half = c.headDim() / 2;
            ggmlCos = new float[maxTokens * half];
            ggmlSin = new float[maxTokens * half];
            GgmlCpuMath.ropeCache(c.ropeTheta(), c.headDim(), maxTokens, ggmlCos, ggmlSin);
        }
    }

    /** Rope without llama3 scaling or per-pair factors: the case ggml's cache is ported for (others keep the double cache). */
    private boolean plainRope() {
        double[] f = model.ropeFreqs();
        for (int i = 0; i < f.length; i++) {
            if (f[i] != 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim())) return false;
        }
        return true;
    }

    public Numerics numerics() {
        return numerics;
    }

    private void observe(int layer, String module, float[] x, int n, int cols) {
        if (observer != null) observer.onMatmulInput(layer, module, x, n, cols);
    }

    private void ensureCapacity(int n) {
        if (n <= capacity) return;
        capacity = n;
        xb = new float[n * c.dim()];
        q = new float[n * c.qDim()];
        k = new float[n * c.kvDim()];
        v = new float[n * c.kvDim()];
        att = new float[n * c.qDim()];
        tmp = new float[n * c.dim()];
        gate = new float[n * c.ffnDim()];
        up = new float[n * c.ffnDim()];
    }

    /** gate[i] = silu(gate[i]) · up[i] = gate / (1 + e^−gate) · up, vectorized (the exp is the cost). */
    static void swiglu(float[] gate, float[] up, int len) {
        int i = 0, upper = S.loopBound(len);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; i < upper; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gate, i);
            FloatVector e = exp(g.neg());
            g.div(e.add(one)).mul(FloatVector.fromArray(S, up, i)).intoArray(gate, i);
        }
        for (; i < len; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    /**
     * ggml_vec_silu_f32 then the product with up, per row of ffn floats: whole vectors of the emulated lanes by
     * ggml_v_silu, the tail (ffn not a multiple of the lanes) by ggml_silu_f32.
     */
    static void swigluGgml(float[] gate, float[] up, int n, int ffn, int lanes) {
        int vectorPart = ffn - ffn % lanes;
        for (int t = 0; t < n; t++) {
            int o = t * ffn;
            for (int i = 0; i < ffn; i++) {
                float g = i < vectorPart ? GgmlCpuMath.silu(gate[o + i], lanes) : GgmlCpuMath.siluScalar(gate[o + i]);
                gate[o + i] = g * up[o + i];
            }
        }
    }

    /** out = x / sqrt(mean(x²) + eps) · weight, per row; the sum of squares in double. */
    void rmsNorm(float[] x, float[] weight, float[] out, int n, int dim) {
        if (numerics.simdLanes() != 0) {
            rmsNormGgml(x, weight, out, n, dim);
            return;
        }
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
            float scale = (float) (1.0 / Math.sqrt(ss / dim + c.rmsEps()));
            for (int i = 0; i < dim; i++) out[o + i] = x[o + i] * scale * weight[i];
        }
    }

    /**
     * ggml_compute_forward_rms_norm_f32 then the product with the weight: squares rounded to float, summed in double;
     * the mean rounded to float; scale = 1/sqrtf(mean + eps) in float; (x·scale)·weight.
     */
    private void rmsNormGgml(float[] x, float[] weight, float[] out, int n, int dim) {
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            double sum = 0;
            for (int i = 0; i < dim; i++) sum += x[o + i] * x[o + i];
            float mean = (float) (sum / dim);
            float scale = 1.0f / (float) Math.sqrt(mean + c.rmsEps());
            for (int i = 0; i < dim; i++) out[o + i] = x[o + i] * scale * weight[i];
        }
    }

    private static void addBias(float[] x, float[] bias, int n, int width) {
        if (bias == null) return;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) x[t * width + i] += bias[i];
        }
    }

    /** Rotates each head's pairs by position: (x[i], x[i+hd/2]) for ROTATE_HALF, (x[2i], x[2i+1]) for INTERLEAVED. */
    private void rope(float[] x, int n, int nHeads, int startPos) {
        int hd = c.headDim(), half = hd / 2, width = nHeads * hd;
        boolean interleaved = c.ropeLayout() == LlamaModel.RopeLayout.INTERLEAVED;
        float[] cos = this.cos, sin = this.sin;
        boolean ggml = ggmlCos != null;
        if (ggml) {
            cos = ggmlCos;
            sin = ggmlSin;
        }
        for (int t = 0; t < n; t++) {
            int cs = (startPos + t) * half;
            for (int h = 0; h < nHeads; h++) {
                int base = t * width + h * hd;
                for (int i = 0; i < half; i++) {
                    int a = interleaved ? base + 2 * i : base + i;
                    int b = interleaved ? a + 1 : a + half;
                    float x0 = x[a], x1 = x[b], co = cos[cs + i], si = sin[cs + i];
                    if (ggml) { // gcc 12 (gnu11, contraction on) fuses the first product of each line into an FMA
                        x[a] = Math.fma(x0, co, -(x1 * si));
                        x[b] = Math.fma(x0, si, x1 * co);
                    } else {
                        x[a] = x0 * co - x1 * si;
                        x[b] = x0 * si + x1 * co;
                    }
                }
            }
        }
    }

    /**
     * Causal attention of the n new queries (positions startPos…) over the cache; writes att (n × qDim).
     * The cache is stored transposed per kv head ([kvHead][d][pos]) so both q·K and P·V run as Vector API
     * loops over positions, whatever the head size (8 in stories260K, 128 in Llama). Four consecutive queries
     * of a head are processed together so each K and V vector loaded serves four FMA chains.
     */
    private void attention(float[] kc, float[] vc, int n, int startPos) {
        int hd = c.headDim(), qDim = c.qDim(), group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int tokenBlock = 16, blocks = (n + tokenBlock - 1) / tokenBlock;
        int L = S.length();
        pool.forEach(c.heads() * blocks, task -> {
            int h = task / blocks, t0 = (task % blocks) * tokenBlock, t1 = Math.min(n, t0 + tokenBlock);
            int kvBase = (h / group) * hd * maxTokens;
            int stride = startPos + t1 + L;
            float[] sc = new float[4 * stride];
            float[] acc = new float[4];
            for (int t = t0; t < t1; t += 4) {
                int u = Math.min(4, t1 - t);
                // Missing queries of a last, partial quad repeat the last real one; their results are dropped.
                int q0 = t * qDim + h * hd, q1 = (t + Math.min(1, u - 1)) * qDim + h * hd;
                int q2 = (t + Math.min(2, u - 1)) * qDim + h * hd, q3 = (t + Math.min(3, u - 1)) * qDim + h * hd;
                int maxLen = startPos + t + u, upper = S.loopBound(maxLen);
                // scores_i[p] = Σ_d q_i[d]·K[d][p] for the four queries at once.
                int p = 0;
                for (; p < upper; p += L) {
                    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                    for (int d = 0; d < hd; d++) {
                        FloatVector kv = FloatVector.fromArray(S, kc, kvBase + d * maxTokens + p);
                        a0 = kv.fma(FloatVector.broadcast(S, q[q0 + d] * scale), a0);
                        a1 = kv.fma(FloatVector.broadcast(S, q[q1 + d] * scale), a1);
                        a2 = kv.fma(FloatVector.broadcast(S, q[q2 + d] * scale), a2);
                        a3 = kv.fma(FloatVector.broadcast(S, q[q3 + d] * scale), a3);
                    }
                    a0.intoArray(sc, p);
                    a1.intoArray(sc, stride + p);
                    a2.intoArray(sc, 2 * stride + p);
                    a3.intoArray(sc, 3 * stride + p);
                }
                for (; p < maxLen; p++) {
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int d = 0; d < hd; d++) { // the vector lanes' fused operations, so a score's bits do not depend on the width
                        float kv = kc[kvBase + d * maxTokens + p];
                        s0 = Math.fma(kv, q[q0 + d] * scale, s0);
                        s1 = Math.fma(kv, q[q1 + d] * scale, s1);
                        s2 = Math.fma(kv, q[q2 + d] * scale, s2);
                        s3 = Math.fma(kv, q[q3 + d] * scale, s3);
                    }
                    sc[p] = s0;
                    sc[stride + p] = s1;
                    sc[2 * stride + p] = s2;
                    sc[3 * stride + p] = s3;
                }
                // Causal softmax per query (query i sees positions 0 … startPos+t+i); probabilities beyond are 0.
                for (int i = 0; i < 4; i++) {
                    int o = i * stride, len = Math.min(startPos + t + i + 1, maxLen);
                    float inv = softmaxInPlace(sc, o, len);
                    if (numerics.kvF16()) {
                        // llama.cpp: softmax probabilities rounded to fp16 for the product with the f16 V cache.
                        for (int j = 0; j < len; j++) sc[o + j] = Numerics.f16(sc[o + j] * inv);
                        inv = 1f;
                    }
                    for (int j = len; j < maxLen; j++) sc[o + j] = 0;
                    acc[i] = inv;
                }
                // out_i[d] = Σ_p P_i[p]·V[d][p], again four queries per V load.
                for (int d = 0; d < hd; d++) {
                    int vo = kvBase + d * maxTokens;
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    int vEnd = maxLen & -MatmulKernel.VIRTUAL_LANES; // the sum over positions in the width-independent order
                    for (int phase = 0; phase < MatmulKernel.VIRTUAL_LANES; phase += L) {
                        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                        for (p = phase; p < vEnd; p += MatmulKernel.VIRTUAL_LANES) {
                            FloatVector vv = FloatVector.fromArray(S, vc, vo + p);
                            a0 = vv.fma(FloatVector.fromArray(S, sc, p), a0);
                            a1 = vv.fma(FloatVector.fromArray(S, sc, stride + p), a1);
                            a2 = vv.fma(FloatVector.fromArray(S, sc, 2 * stride + p), a2);
                            a3 = vv.fma(FloatVector.fromArray(S, sc, 3 * stride + p), a3);
                        }
                        s0 = MatmulKernel.addLanes(s0, a0);
                        s1 = MatmulKernel.addLanes(s1, a1);
                        s2 = MatmulKernel.addLanes(s2, a2);
                        s3 = MatmulKernel.addLanes(s3, a3);
                    }
                    for (p = vEnd; p < maxLen; p++) {
                        float vv = vc[vo + p];
                        s0 += sc[p] * vv;
                        s1 += sc[stride + p] * vv;
                        s2 += sc[2 * stride + p] * vv;
                        s3 += sc[3 * stride + p] * vv;
                    }
                    int ao = t * qDim + h * hd + d;
                    att[ao] = s0 * acc[0];
                    if (u > 1) att[ao + qDim] = s1 * acc[1];
                    if (u > 2) att[ao + 2 * qDim] = s2 * acc[2];
                    if (u > 3) att[ao + 3 * qDim] = s3 * acc[3];
                }
            }
        });
    }

    /** Floats past a cache's last position that the llama.cpp-order attention may read (results beyond are dropped). */
    private static final int CACHE_TAIL = 16;
    /** Vectors of the llama.cpp-order attention: at most 8 floats, so 8 and 16 emulated lanes are whole passes. */
    private static final VectorSpecies<Float> G = S.length() > 8 ? FloatVector.SPECIES_256 : S;

    /**
     * Causal attention as llama.cpp's CPU backend computes it without flash attention (numerics.simdLanes() lanes):
     * kq = K·q per score by tinyBLAS (F16 cache: one FMA chain per lane over d ≡ lane, then the horizontal-sum tree;
     * an F32 cache, or a head size tinyBLAS declines, takes ggml_vec_dot's order); soft_max: kq·scale, max, ggml_v_expf
     * per vector of lanes from cell 0, each vector's tree sum added in double, × (float) (1/Σ); P·V by tinyBLAS over
     * positions (chains over p ≡ lane, masked cells adding exact zeros). In llama.cpp the cache cells of one sequence
     * start at a multiple of 256, so cell and position agree modulo the lanes.
     */
    private void attentionGgml(float[] kc, float[] vc, int n, int startPos) {
        int lanes = numerics.simdLanes(), hd = c.headDim(), qDim = c.qDim(), group = c.heads() / c.kvHeads();
        float scale = 1.0f / (float) Math.sqrt(hd);
        boolean kvF16 = numerics.kvF16();
        boolean kqTinyBlas = kvF16 && hd % lanes == 0; // an F32 cache: q is a permuted F32 view, which tinyBLAS never gets
        boolean pvTinyBlas = hd % 4 == 0;
        int nKv = (startPos + n + 31) & ~31; // llama.cpp's n_kv: the used cells padded to 32 (ggml_vec_dot's tail split)
        int L = G.length();
        int tokenBlock = 16, blocks = (n + tokenBlock - 1) / tokenBlock;
        pool.forEach(c.heads() * blocks, task -> {
            int h = task / blocks, t0 = (task % blocks) * tokenBlock, t1 = Math.min(n, t0 + tokenBlock);
            int kvBase = (h / group) * hd * maxTokens;
            int width = (startPos + t1 + lanes + 31) & ~31;
            float[] sc = new float[width], chains = new float[lanes * width], buf = new float[4 * lanes], scratch = new float[4 * lanes];
            float[] kRow = new float[hd], vRow = new float[nKv], pRow = new float[nKv];
            for (int t = t0; t < t1; t++) {
                int qo = t * qDim + h * hd, len = startPos + t + 1, vecEnd = (len + L - 1) / L * L;
                // scores
                if (kqTinyBlas) {
                    for (int j = 0; j < lanes; j++) {
                        for (int p = 0; p < vecEnd; p += L) {
                            FloatVector acc = FloatVector.zero(G);
                            for (int d = j; d < hd; d += lanes) acc = FloatVector.fromArray(G, kc, kvBase + d * maxTokens + p).fma(FloatVector.broadcast(G, q[qo + d]), acc);
                            acc.intoArray(chains, j * width + p);
                        }
                    }
                    for (int p = 0; p < vecEnd; p += L) hsumLanewise(chains, width, p, lanes).intoArray(sc, p);
                } else if (!kvF16) {
                    vecDotF32Lanewise(kc, kvBase, q, qo, hd, lanes, vecEnd, sc, chains);
                } else {
                    for (int p = 0; p < len; p++) {
                        for (int d = 0; d < hd; d++) kRow[d] = kc[kvBase + d * maxTokens + p];
                        sc[p] = MatmulKernel.ggmlVecDot(kRow, 0, q, qo, hd, lanes, kvF16, scratch);
                    }
                }
                // soft_max over cells 0 … len−1 (the rest masked: exp 0)
                float max = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < len; p++) {
                    sc[p] *= scale;
                    max = Math.max(max, sc[p]);
                }
                int groupEnd = (len + lanes - 1) / lanes * lanes;
                double sum = 0;
                for (int g = 0; g < groupEnd; g += lanes) {
                    for (int l = 0; l < lanes; l++) {
                        int p = g + l;
                        buf[l] = p < len ? GgmlCpuMath.expf(sc[p] - max, lanes) : 0f;
                        sc[p] = buf[l];
                    }
                    sum += MatmulKernel.ggmlHsum(buf, 0, lanes);
                }
                float inv = (float) (1.0 / sum);
                for (int p = 0; p < groupEnd; p++) sc[p] = kvF16 ? Numerics.f16(sc[p] * inv) : sc[p] * inv;
                // P·V
                int ao = t * qDim + h * hd;
                for (int d = 0; d < hd; d++) {
                    int vo = kvBase + d * maxTokens;
                    if (pvTinyBlas) {
                        for (int phase = 0; phase < lanes; phase += L) {
                            FloatVector acc = FloatVector.zero(G);
                            for (int p = phase; p < groupEnd; p += lanes) acc = FloatVector.fromArray(G, vc, vo + p).fma(FloatVector.fromArray(G, sc, p), acc);
                            acc.intoArray(buf, phase);
                        }
                        att[ao + d] = MatmulKernel.ggmlHsum(buf, 0, lanes);
                    } else {
                        for (int p = 0; p < nKv; p++) {
                            vRow[p] = p < len ? vc[vo + p] : 0f;
                            pRow[p] = p < groupEnd ? sc[p] : 0f;
                        }
                        att[ao + d] = MatmulKernel.ggmlVecDot(vRow, 0, pRow, 0, nKv, lanes, kvF16, scratch);
                    }
                }
            }
        });
    }

    /**
     * sc[p] = ggml_vec_dot_f32(K[·][p], q) ({@link MatmulKernel#ggmlVecDot}'s order) for the positions p &lt; vecEnd, L at
     * a time: each position runs its own sequence of float operations, so lanewise vector operations give the same bits.
     * acc holds 4·lanes·L floats.
     */
    private void vecDotF32Lanewise(float[] kc, int kvBase, float[] q, int qo, int hd, int lanes, int vecEnd, float[] sc, float[] acc) {
        int L = G.length(), step = 4 * lanes, np = hd - hd % step;
        for (int p = 0; p < vecEnd; p += L) {
            FloatVector r = FloatVector.zero(G);
            if (np > 0) {
                for (int k = 0; k < step; k++) {
                    FloatVector a = FloatVector.zero(G);
                    for (int i = k; i < np; i += step) a = ld(kc, kvBase + i * maxTokens + p).fma(FloatVector.broadcast(G, q[qo + i]), a);
                    a.intoArray(acc, k * L);
                }
                for (int k = 0; k < lanes; k++) { // the accumulators folded: 0 + 2, 1 + 3, then 0 + 1
                    FloatVector s0 = ld(acc, k * L).add(ld(acc, (2 * lanes + k) * L));
                    FloatVector s1 = ld(acc, (lanes + k) * L).add(ld(acc, (3 * lanes + k) * L));
                    s0.add(s1).intoArray(acc, k * L);
                }
                r = lanes == 16 ? hsumLanewise(acc, L, 0, 16) // AVX-512: the reduce tree; AVX2: two hadds after the 128-bit fold
                        : ld(acc, 0).add(ld(acc, 4 * L)).add(ld(acc, L).add(ld(acc, 5 * L)))
                        .add(ld(acc, 2 * L).add(ld(acc, 6 * L)).add(ld(acc, 3 * L).add(ld(acc, 7 * L))));
            }
            int i = np;
            for (; i + 4 <= hd; i += 4) {
                for (int k = 0; k < 4; k++) r = r.add(ld(kc, kvBase + (i + k) * maxTokens + p).mul(q[qo + i + k]));
            }
            for (; i < hd; i++) r = ld(kc, kvBase + i * maxTokens + p).fma(FloatVector.broadcast(G, q[qo + i]), r);
            r.intoArray(sc, p);
        }
    }

    /** {@link MatmulKernel#ggmlHsum} of lanes stored vectors (lane j's at chains[j·stride + p]), for L positions at once. */
    private static FloatVector hsumLanewise(float[] chains, int stride, int p, int lanes) {
        FloatVector c0, c1, c2, c3;
        if (lanes == 16) {
            FloatVector b0 = ld(chains, p).add(ld(chains, 8 * stride + p)), b1 = ld(chains, stride + p).add(ld(chains, 9 * stride + p));
            FloatVector b2 = ld(chains, 2 * stride + p).add(ld(chains, 10 * stride + p)), b3 = ld(chains, 3 * stride + p).add(ld(chains, 11 * stride + p));
            FloatVector b4 = ld(chains, 4 * stride + p).add(ld(chains, 12 * stride + p)), b5 = ld(chains, 5 * stride + p).add(ld(chains, 13 * stride + p));
            FloatVector b6 = ld(chains, 6 * stride + p).add(ld(chains, 14 * stride + p)), b7 = ld(chains, 7 * stride + p).add(ld(chains, 15 * stride + p));
            c0 = b0.add(b4);
            c1 = b1.add(b5);
            c2 = b2.add(b6);
            c3 = b3.add(b7);
        } else {
            c0 = ld(chains, p).add(ld(chains, 4 * stride + p));
            c1 = ld(chains, stride + p).add(ld(chains, 5 * stride + p));
            c2 = ld(chains, 2 * stride + p).add(ld(chains, 6 * stride + p));
            c3 = ld(chains, 3 * stride + p).add(ld(chains, 7 * stride + p));
        }
        return c0.add(c2).add(c1.add(c3));
    }

    private static FloatVector ld(float[] a, int o) {
        return FloatVector.fromArray(G, a, o);
    }

    /**
     * e^x per lane with (float) Math.exp, the same on every JIT tier: the Vector API's lanewise(EXP) is an SVML
     * stub in C2-compiled code but Math.exp per lane in the interpreter, so a forward pass would give different
     * bits depending on warm-up — and calibration (GPTQ/AWQ resume) must reproduce every bit.
     */
    private static FloatVector exp(FloatVector x) {
        float[] lanes = EXP_LANES.get();
        x.intoArray(lanes, 0);
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) Math.exp(lanes[i]);
        return FloatVector.fromArray(S, lanes, 0);
    }

    private static final ThreadLocal<float[]> EXP_LANES = ThreadLocal.withInitial(() -> new float[S.length()]);

    /** sc[o..o+len) ← exp(sc − max); returns 1/Σ (the normalization, applied by the caller). */
    private static float softmaxInPlace(float[] sc, int o, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) max = Math.max(max, sc[o + j]);
        FloatVector vmax = FloatVector.broadcast(S, max);
        int L = S.length(), end = len & -MatmulKernel.VIRTUAL_LANES, p;
        float sum = 0;
        for (int phase = 0; phase < MatmulKernel.VIRTUAL_LANES; phase += L) { // the width-independent order of the sum
            FloatVector vsum = FloatVector.zero(S);
            for (p = phase; p < end; p += MatmulKernel.VIRTUAL_LANES) {
                FloatVector e = exp(FloatVector.fromArray(S, sc, o + p).sub(vmax));
                e.intoArray(sc, o + p);
                vsum = vsum.add(e);
            }
            sum = MatmulKernel.addLanes(sum, vsum);
        }
        for (p = end; p < len; p++) {
            float e = (float) Math.exp(sc[o + p] - max);
            sc[o + p] = e;
            sum += e;
        }
        return 1.0f / sum;
    }

}
