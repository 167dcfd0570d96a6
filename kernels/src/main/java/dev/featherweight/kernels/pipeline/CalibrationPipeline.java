package dev.featherweight.kernels.pipeline;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.kernels.quant.Awq;
import dev.featherweight.kernels.quant.Gptq;
import dev.featherweight.kernels.quant.LlmInt8;
import dev.featherweight.kernels.quant.Nf4;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.Rtn;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.formats.quantized.BlockStore;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantizes a model one transformer block at a time, as GPTQ and AWQ do: the calibration samples' hidden states
 * (samples × seqLen × dim floats) enter block 0; for each block the inputs of its linear layers are captured
 * through the forward pass's {@link dev.featherweight.kernels.infer.ActivationObserver}, the block is quantized,
 * and the block is run again <em>with its quantized weights</em> to make the next block's inputs. Memory: one
 * block's weights and statistics plus the hidden states, whatever the number of layers.
 *
 * <p>After every block the {@link BlockStore} persists the block's tensors and the next block's inputs; a run
 * over a store that already holds blocks 0 … k continues at k + 1 (the store checks the fingerprint of model,
 * recipe and calibration). Methods without calibration (RTN, NF4, FP4, LLM.int8) use the same loop without
 * forward passes.
 */
public final class CalibrationPipeline {

    /** Progress: called on the calling thread. An exception thrown here aborts the run (after the state is saved when thrown from blockDone). */
    public interface Listener {
        default void moduleDone(int block, int blocks, String module, double seconds, double error) {
        }

        default void blockDone(int block, int blocks, double seconds) {
        }
    }

    /** Per-module error report entry. */
    public record ModuleReport(String module, String format, double error, double seconds) {
    }

    private final LlamaModel model;
    private final Recipe recipe;
    private final Parallel pool;
    private final Listener listener;
    private int awqSearchSamples = 16;
    private final List<ModuleReport> reports = new java.util.ArrayList<>();

    public CalibrationPipeline(LlamaModel model, Recipe recipe, Parallel pool, Listener listener) {
        this.model = model;
        this.recipe = recipe;
        this.pool = pool;
        this.listener = listener != null ? listener : new Listener() {
        };
    }

    /** How many samples AWQ's scale search evaluates the block on (the statistics use all). */
    public CalibrationPipeline awqSearchSamples(int n) {
        this.awqSearchSamples = n;
        return this;
    }

    public List<ModuleReport> reports() {
        return reports;
    }

    /**
     * The heap one block needs, in bytes, for {@code samples} sequences of {@code seqLen} tokens (0 for methods
     * without calibration, which stream). The formula is the catalogue's ({@link BlockShape#gptqWorkingSet},
     * {@link BlockShape#awqWorkingSet}), the same the quantizer-worker checks against its simulated GPU.
     */
    public static long heapNeeded(LlamaModel.Config c, Recipe.Method method, int samples, int seqLen) {
        BlockShape block = new BlockShape(c.dim(), c.ffnDim(), c.qDim(), c.kvDim());
        long tokens = (long) samples * seqLen;
        java.util.Map<String, Long> parts = switch (method) {
            case GPTQ -> block.gptqWorkingSet(tokens);
            case AWQ -> block.awqWorkingSet(tokens);
            default -> java.util.Map.of();
        };
        return parts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The full HF module name of a block module. */
    public static String moduleName(int layer, String inferModule) {
        return "model.layers." + layer + "." + HfModules.BY_BLOCK_MODULE.get(inferModule);
    }

    /**
     * Runs every block not yet in the store. {@code samples} are token sequences of equal length (ignored, may be
     * null, for methods without calibration).
     */
    public void run(int[][] samples, BlockStore store) {
        LlamaModel.Config c = model.config();
        int layers = c.layers();
        int start = store.lastFinishedBlock() + 1;
        boolean calibrated = recipe.method().calibrated();
        float[][] hidden = null;
        int seqLen = 0;
        LlamaSession session = null;
        if (calibrated) {
            if (samples == null || samples.length == 0) throw new IllegalArgumentException(recipe.method().cli + " needs calibration samples (--calibration FILE)");
            seqLen = samples[0].length;
            session = model.newSession(seqLen);
            if (start == 0) {
                hidden = new float[samples.length][];
                for (int s = 0; s < samples.length; s++) hidden[s] = session.embed(samples[s], 0, seqLen);
            } else if (start < layers) {
                hidden = store.loadHidden(start - 1);
            }
        }
        for (int l = start; l < layers; l++) {
            long t0 = System.nanoTime();
            BlockResult r = switch (recipe.method()) {
                case GPTQ -> gptqBlock(l, hidden, session, seqLen);
                case AWQ -> awqBlock(l, hidden, session, seqLen);
                default -> plainBlock(l);
            };
            float[][] next = null;
            if (calibrated) {
                BlockWeights q = quantizedWeights(model.block(l), r);
                next = new float[hidden.length][];
                for (int s = 0; s < hidden.length; s++) {
                    next[s] = hidden[s].clone();
                    session.forwardBlock(l, next[s], seqLen, 0, q);
                }
                hidden = next;
                session.releaseLayer(l);
            }
            store.saveBlock(r, next);
            listener.blockDone(l, layers, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The block's weights with every quantized module (as the checkpoint will reconstruct it) and replaced norms. */
    public static BlockWeights quantizedWeights(BlockWeights w, BlockResult r) {
        BlockWeights q = w;
        for (Map.Entry<String, String> e : HfModules.BY_BLOCK_MODULE.entrySet()) {
            QuantizedModule m = r.modules().get(e.getValue());
            if (m != null) q = q.with(e.getKey(), m.matrix());
        }
        return new BlockWeights(r.attnNorm() != null ? r.attnNorm() : q.attnNorm(), q.q(), q.k(), q.v(), q.o(), q.qBias(), q.kBias(),
                r.vBias() != null ? r.vBias() : q.vBias(),
                r.ffnNorm() != null ? r.ffnNorm() : q.ffnNorm(), q.gate(), q.up(), q.down());
    }

    // ---------------------------------------------------------------- RTN, NF4, FP4, LLM.int8: weights only

    private BlockResult plainBlock(int l) {
        BlockWeights w = model.block(l);
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            long t0 = System.nanoTime();
            WeightMatrix src = w.matrix(m);
            float[] f = FloatArrayMatrix.toFloats(src);
            String name = moduleName(l, m);
            QuantizedModule q = quantizeWeightsOnly(recipe, name, f, src.rows(), src.cols());
            record(l, name, q, f, t0);
            out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
        }
        return new BlockResult(l, out);
    }

    /** One module by a method that needs no calibration (or is kept by a skip rule). */
    public static QuantizedModule quantizeWeightsOnly(Recipe recipe, String name, float[] f, int rows, int cols) {
        Recipe.ModuleParams p = recipe.paramsFor(name);
        if (p == null) return new QuantizedModule.Kept(f, rows, cols);
        return switch (recipe.method()) {
            case RTN, GPTQ -> new QuantizedModule.Uniform(Rtn.quantize(f, rows, cols, p.bits(), recipe.sym(),
                    p.groupSize() == -1 ? Rtn.Granularity.CHANNEL : Rtn.Granularity.GROUP, p.groupSize(), !recipe.gptqV2()));
            case AWQ -> new QuantizedModule.Uniform(Awq.pseudoQuantize(f, rows, cols, p.bits(), p.groupSize()));
            case NF4, FP4 -> {
                Nf4.Weight nw = Nf4.quantize(f, new long[]{rows, cols}, recipe.method() == Recipe.Method.NF4 ? Nf4.Type.NF4 : Nf4.Type.FP4);
                yield new QuantizedModule.Bnb4(nw, recipe.doubleQuant() ? Nf4.doubleQuantize(nw.absmax()) : null, rows, cols);
            }
            case LLM_INT8 -> new QuantizedModule.Int8(LlmInt8.quantize(f, rows, cols));
        };
    }

    private void record(int l, String name, QuantizedModule q, float[] original, long t0) {
        record(l, name, q, new FloatArrayMatrix(original, q.rows(), q.cols(), "F32"), t0);
    }

    /** Relative squared error of the module against the original weights, row by row (no second full copy). */
    private void record(int l, String name, QuantizedModule q, WeightMatrix original, long t0) {
        WeightMatrix dq = q.matrix();
        int cols = q.cols();
        float[] a = new float[cols], b = new float[cols];
        double e = 0, norm = 0;
        for (int r = 0; r < q.rows(); r++) {
            original.decodeRow(r, a, 0);
            dq.decodeRow(r, b, 0);
            for (int c = 0; c < cols; c++) {
                double x = b[c] - a[c];
                e += x * x;
                norm += (double) a[c] * a[c];
            }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        double rel = e / Math.max(1e-30, norm);
        reports.add(new ModuleReport(name, q.getClass().getSimpleName(), rel, sec));
        listener.moduleDone(l, model.config().layers(), name, sec, rel);
    }

    // ---------------------------------------------------------------- GPTQ

    /** Sub-groups quantized in sequence when true_sequential (GPTQModel's layer_modules for llama). */
    private static final String[][] SEQUENTIAL = {{"attn_q", "attn_k", "attn_v"}, {"attn_output"}, {"ffn_gate", "ffn_up"}, {"ffn_down"}};

    private BlockResult gptqBlock(int l, float[][] hidden, LlamaSession session, int seqLen) {
        BlockWeights cur = model.block(l);
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        String[][] steps = recipe.trueSequential() ? SEQUENTIAL : new String[][]{BlockWeights.MODULES};
        for (String[] step : steps) {
            // One Hessian per distinct input: q/k/v share one, gate/up share one.
            Map<String, Gptq.Hessian> hess = new LinkedHashMap<>();
            for (String m : step) {
                String key = inputOf(m);
                int cols = cur.matrix(m).cols();
                hess.putIfAbsent(key, new Gptq.Hessian(cols));
            }
            // The rest of the block after the step's last input does not matter for this step: stop there (for
            // a 7B block this halves the forward work of true-sequential GPTQ).
            String stopAfter = step[step.length - 1];
            session.setObserver((layer, module, x, n, cols) -> {
                if (layer != l) return;
                Gptq.Hessian h = hess.get(module);   // keys are the first module of each shared input
                if (h != null) h.add(x, n, pool);
                if (module.equals(stopAfter)) throw InputsCaptured.INSTANCE;
            });
            float[] scratch = new float[hidden[0].length];
            try {
                for (float[] h : hidden) {
                    System.arraycopy(h, 0, scratch, 0, h.length);
                    try {
                        session.forwardBlock(l, scratch, seqLen, 0, cur);
                    } catch (InputsCaptured done) {
                        // expected: the step's inputs are in the Hessians
                    }
                }
            } finally {
                session.setObserver(null);
            }
            Map<String, float[]> finished = new LinkedHashMap<>();
            for (Map.Entry<String, Gptq.Hessian> e : hess.entrySet()) finished.put(e.getKey(), e.getValue().finish());
            hess.clear();
            for (String m : step) {
                long t0 = System.nanoTime();
                WeightMatrix src = cur.matrix(m);
                float[] f = FloatArrayMatrix.toFloats(src);
                String name = moduleName(l, m);
                Recipe.ModuleParams p = recipe.paramsFor(name);
                QuantizedModule q;
                if (p == null) {
                    q = new QuantizedModule.Kept(f, src.rows(), src.cols());
                } else {
                    float[] h = finished.get(inputOf(m));
                    boolean lastUser = isLastUser(step, m);
                    float[] hUse = lastUser ? h : h.clone();
                    Gptq.Options o = new Gptq.Options(p.bits(), p.groupSize(), recipe.sym(), recipe.actOrder(), recipe.staticGroups(),
                            recipe.dampPercent(), !recipe.gptqV2());
                    // f is overwritten by the error-compensated weights; the error below re-reads the source rows
                    q = new QuantizedModule.Uniform(Gptq.quantize(f, src.rows(), src.cols(), hUse, o, pool).quantized());
                    if (lastUser) finished.remove(inputOf(m));
                }
                f = null;
                record(l, name, q, src, t0);
                out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
                cur = cur.with(m, q.matrix());
            }
        }
        return new BlockResult(l, out);
    }

    /** Thrown from the observer to end a forward pass once the inputs a step needs are captured (no stack trace). */
    private static final class InputsCaptured extends RuntimeException {
        static final InputsCaptured INSTANCE = new InputsCaptured();

        private InputsCaptured() {
            super("inputs captured", null, false, false);
        }
    }

    private static String inputOf(String m) {
        return switch (m) {
            case "attn_q", "attn_k", "attn_v" -> "attn_q";
            case "ffn_gate", "ffn_up" -> "ffn_gate";
            default -> m;
        };
    }

    private static boolean isLastUser(String[] step, String m) {
        String key = inputOf(m);
        for (int i = step.length - 1; i >= 0; i--) if (inputOf(step[i]).equals(key)) return step[i].equals(m);
        return true;
    }

    // ---------------------------------------------------------------- AWQ

    private BlockResult awqBlock(int l, float[][] hidden, LlamaSession session, int seqLen) {
        LlamaModel.Config c = model.config();
        BlockWeights src = model.block(l);
        int n = hidden.length, tokens = n * seqLen, dim = c.dim(), qDim = c.qDim(), ffn = c.ffnDim();
        // capture the four distinct inputs over all samples, and the fp outputs of the search samples
        float[] xAttn = new float[tokens * dim], xO = new float[tokens * qDim], xFfn = new float[tokens * dim], xDown = new float[tokens * ffn];
        int search = Math.min(n, awqSearchSamples);
        float[][] target = new float[search][];
        int[] sample = {0};
        session.setObserver((layer, module, x, nt, cols) -> {
            if (layer != l) return;
            int off = sample[0] * seqLen * cols;
            switch (module) {
                case "attn_q" -> System.arraycopy(x, 0, xAttn, off, nt * cols);
                case "attn_output" -> System.arraycopy(x, 0, xO, off, nt * cols);
                case "ffn_gate" -> System.arraycopy(x, 0, xFfn, off, nt * cols);
                case "ffn_down" -> System.arraycopy(x, 0, xDown, off, nt * cols);
                default -> {
                }
            }
        });
        try {
            for (int s = 0; s < n; s++) {
                sample[0] = s;
                float[] h = hidden[s].clone();
                session.forwardBlock(l, h, seqLen, 0, src);
                if (s < search) target[s] = h;
            }
        } finally {
            session.setObserver(null);
        }
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, int[]> shape = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            WeightMatrix mm = src.matrix(m);
            w.put(m, FloatArrayMatrix.toFloats(mm));
            shape.put(m, new int[]{mm.rows(), mm.cols()});
        }
        float[] attnNorm = src.attnNorm().clone(), ffnNorm = src.ffnNorm().clone();
        float[] vBias = src.vBias() != null ? src.vBias().clone() : null;
        int gs = recipe.groupSize();
        int bits = recipe.bits();

        // 1. input_layernorm → q, k, v
        float[] s1 = awqSearch(l, hidden, session, seqLen, target, src, new String[]{"attn_q", "attn_k", "attn_v"}, w, shape, xAttn, tokens, dim, bits, gs);
        for (int i = 0; i < dim; i++) attnNorm[i] /= s1[i];
        for (String m : new String[]{"attn_q", "attn_k", "attn_v"}) w.put(m, Awq.scaleColumns(w.get(m), shape.get(m)[0], dim, s1));
        divideColumns(xAttn, tokens, dim, s1);
        // 2. v_proj → o_proj, only when shapes allow (no GQA), as AutoAWQ checks v.weight.shape == o.weight.shape
        if (c.kvDim() == qDim && c.dim() == qDim) {
            float[] s2 = awqSearch(l, hidden, session, seqLen, target, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"attn_output"}, w, shape, xO, tokens, qDim, bits, gs);
            divideRows(w.get("attn_v"), shape.get("attn_v")[0], dim, s2);
            // v's outputs are divided by s2, bias included (AutoAWQ scale_fc_fc: fc1.bias.div_(scales))
            if (vBias != null) for (int i = 0; i < vBias.length; i++) vBias[i] /= s2[i];
            w.put("attn_output", Awq.scaleColumns(w.get("attn_output"), dim, qDim, s2));
            divideColumns(xO, tokens, qDim, s2);
        }
        // 3. post_attention_layernorm → gate, up
        float[] s3 = awqSearch(l, hidden, session, seqLen, target, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"ffn_gate", "ffn_up"}, w, shape, xFfn, tokens, dim, bits, gs);
        for (int i = 0; i < dim; i++) ffnNorm[i] /= s3[i];
        for (String m : new String[]{"ffn_gate", "ffn_up"}) w.put(m, Awq.scaleColumns(w.get(m), ffn, dim, s3));
        divideColumns(xFfn, tokens, dim, s3);
        // 4. up_proj → down_proj
        float[] s4 = awqSearch(l, hidden, session, seqLen, target, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"ffn_down"}, w, shape, xDown, tokens, ffn, bits, gs);
        divideRows(w.get("ffn_up"), ffn, dim, s4);
        w.put("ffn_down", Awq.scaleColumns(w.get("ffn_down"), dim, ffn, s4));
        divideColumns(xDown, tokens, ffn, s4);

        // clipping (AutoAWQ skips q and k) and quantization
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            long t0 = System.nanoTime();
            String name = moduleName(l, m);
            int rows = shape.get(m)[0], cols = shape.get(m)[1];
            float[] f = w.get(m);
            float[] original = f.clone();
            QuantizedModule q;
            if (recipe.paramsFor(name) == null) {
                q = new QuantizedModule.Kept(f, rows, cols);
            } else {
                if (!m.equals("attn_q") && !m.equals("attn_k")) {
                    float[] x = switch (m) {
                        case "attn_v" -> xAttn;
                        case "attn_output" -> xO;
                        case "ffn_gate", "ffn_up" -> xFfn;
                        default -> xDown;
                    };
                    Awq.searchClip(f, rows, cols, x, tokens, bits, gs, pool);
                }
                q = new QuantizedModule.Uniform(Awq.pseudoQuantize(f, rows, cols, bits, gs));
            }
            record(l, name, q, original, t0);
            out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
        }
        return new BlockResult(l, out, attnNorm, ffnNorm, vBias);
    }

    private static BlockWeights withFp(BlockWeights src, Map<String, float[]> w, Map<String, int[]> shape, float[] attnNorm, float[] ffnNorm, float[] vBias) {
        BlockWeights b = new BlockWeights(attnNorm, src.q(), src.k(), src.v(), src.o(), src.qBias(), src.kBias(), vBias, ffnNorm,
                src.gate(), src.up(), src.down());
        for (String m : BlockWeights.MODULES) b = b.with(m, new FloatArrayMatrix(w.get(m), shape.get(m)[0], shape.get(m)[1], "F32"));
        return b;
    }

    /** Searches the scales of one group; the error is the block output's MSE against the fp block on the search samples. */
    private float[] awqSearch(int l, float[][] hidden, LlamaSession session, int seqLen, float[][] target, BlockWeights base,
                              String[] group, Map<String, float[]> w, Map<String, int[]> shape, float[] x, int tokens, int cols, int bits, int gs) {
        long t0 = System.nanoTime();
        float[] xMean = Awq.meanAbs(x, tokens, cols);
        float[][] ws = new float[group.length][];
        int[] rows = new int[group.length];
        for (int i = 0; i < group.length; i++) {
            ws[i] = w.get(group[i]);
            rows[i] = shape.get(group[i])[0];
        }
        float[] wMean = Awq.weightMean(ws, rows, cols, gs);
        BlockWeights fpBase = base == model.block(l) ? withFp(base, w, shape, base.attnNorm(), base.ffnNorm(), base.vBias()) : base;
        Awq.ScaleSearch r = Awq.searchScale(xMean, wMean, recipe.duoScaling(), s -> {
            BlockWeights cand = fpBase;
            for (int i = 0; i < group.length; i++) {
                String name = moduleName(l, group[i]);
                if (recipe.paramsFor(name) == null) continue;
                cand = cand.with(group[i], new FloatArrayMatrix(Awq.quantizeScaled(ws[i], rows[i], cols, s, bits, gs), rows[i], cols, "F32"));
            }
            double err = 0;
            long cnt = 0;
            for (int k = 0; k < target.length; k++) {
                float[] h = hidden[k].clone();
                session.forwardBlock(l, h, seqLen, 0, cand);
                for (int i = 0; i < h.length; i++) {
                    double d = h[i] - target[k][i];
                    err += d * d;
                }
                cnt += h.length;
            }
            return err / cnt;
        });
        listener.moduleDone(l, model.config().layers(), moduleName(l, group[0]) + " (AWQ scale search, α=" + r.bestIndex() + "/20)",
                (System.nanoTime() - t0) / 1e9, r.errors()[r.bestIndex()]);
        return r.scales();
    }

    private static void divideColumns(float[] x, int rows, int cols, float[] s) {
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) x[r * cols + c] /= s[c];
    }

    private static void divideRows(float[] w, int rows, int cols, float[] s) {
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * cols + c] /= s[r];
    }
}
