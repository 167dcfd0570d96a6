package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.SmoothQuant;

/**
 * llm-compressor's SmoothQuantModifier before a quantization modifier (its recipes chain them the same way): one
 * forward pass of the calibration samples records the per-channel range of the two norm outputs, the smoothing scales
 * of the default Llama mappings — input_layernorm → q/k/v, post_attention_layernorm → gate/up — are computed
 * ({@link SmoothQuant#scales}) and folded in (norm weight ÷ s, the layers' columns × s), and the next modifier
 * quantizes the smoothed block. The block result carries the smoothed norms, which the checkpoint stores.
 */
public final class SmoothQuantModifier implements QuantizationModifier {
    private static final String[] ATTN = {"attn_q", "attn_k", "attn_v"}, FFN = {"ffn_gate", "ffn_up"};
    private final double alpha;
    private final QuantizationModifier next;

    public SmoothQuantModifier(double alpha, QuantizationModifier next) {
        this.alpha = alpha;
        this.next = next;
    }

    @Override
    public boolean calibrated() {
        return true;
    }

    /** The next modifier's working set; the ranges and the smoothed weights' float copies are one block's weights at most. */
    @Override
    public long blockWorkingSet(LlamaModel.Config c, long tokens) {
        return next.blockWorkingSet(c, tokens) + 4L * QuantizationModifier.blockShape(c).weights();
    }

    @Override
    public BlockResult quantizeBlock(BlockContext block) {
        BlockWeights w = block.weights();
        long t0 = System.nanoTime();
        int dim = block.config().dim();
        SmoothQuant.Range attn = new SmoothQuant.Range(dim), ffn = new SmoothQuant.Range(dim);
        block.forward(w, (sample, module, x, n, cols) -> {
            if (module.equals("attn_q")) attn.add(x, n, cols);
            else if (module.equals("ffn_gate")) ffn.add(x, n, cols);
        }, "ffn_gate", 0);
        BlockWeights smoothed = w;
        float[] attnNorm = w.attnNorm(), ffnNorm = w.ffnNorm();
        float[][] scales = new float[2][];
        for (int g = 0; g < 2; g++) {
            String[] group = g == 0 ? ATTN : FFN;
            float[][] ws = new float[group.length][];
            int[] rows = new int[group.length];
            for (int i = 0; i < group.length; i++) {
                ws[i] = FloatArrayMatrix.toFloats(w.matrix(group[i]));
                rows[i] = w.matrix(group[i]).rows();
            }
            float[] s = SmoothQuant.scales((g == 0 ? attn : ffn).range(), ws, rows, dim, alpha);
            scales[g] = s;
            for (int i = 0; i < group.length; i++) {
                SmoothQuant.scaleColumns(ws[i], rows[i], dim, s);
                smoothed = smoothed.with(group[i], new FloatArrayMatrix(ws[i], rows[i], dim, "F32"));
            }
            if (g == 0) attnNorm = SmoothQuant.divide(attnNorm, s);
            else ffnNorm = SmoothQuant.divide(ffnNorm, s);
        }
        smoothed = new BlockWeights(attnNorm, smoothed.q(), smoothed.k(), smoothed.v(), smoothed.o(), smoothed.qBias(), smoothed.kBias(),
                smoothed.vBias(), ffnNorm, smoothed.gate(), smoothed.up(), smoothed.down());
        block.stepDone(block.moduleName("attn_q").replaceAll("\\.[^.]+\\.[^.]+$", "") + " (SmoothQuant α=" + alpha + ", max scale "
                + String.format(java.util.Locale.ROOT, "%.3g", Math.max(max(scales[0]), max(scales[1]))) + ")", (System.nanoTime() - t0) / 1e9, 0);
        BlockResult r = next.quantizeBlock(new Smoothed(block, smoothed));
        return new BlockResult(r.layer(), r.modules(), attnNorm, ffnNorm, r.vBias());
    }

    private static float max(float[] v) {
        float m = 0;
        for (float x : v) m = Math.max(m, x);
        return m;
    }

    /** The block as the next modifier sees it: the smoothed weights, everything else as given. */
    private record Smoothed(BlockContext block, BlockWeights weights) implements BlockContext {
        public int layer() {
            return block.layer();
        }

        public LlamaModel.Config config() {
            return block.config();
        }

        public Parallel pool() {
            return block.pool();
        }

        public Recipe.ModuleParams paramsFor(String module) {
            return block.paramsFor(module);
        }

        public String moduleName(String module) {
            return block.moduleName(module);
        }

        public int samples() {
            return block.samples();
        }

        public int seqLen() {
            return block.seqLen();
        }

        public float[][] forward(BlockWeights w, InputObserver observer, String stopAfter, int keepOutputs) {
            return block.forward(w, observer, stopAfter, keepOutputs);
        }

        public float[] output(int sample, BlockWeights w) {
            return block.output(sample, w);
        }

        public float[] selfAttention(float[] x, BlockWeights w) {
            return block.selfAttention(x, w);
        }

        public float[] mlp(float[] x, int nTokens, BlockWeights w) {
            return block.mlp(x, nTokens, w);
        }

        public void moduleDone(String module, QuantizedModule q, WeightMatrix reference, long startNanos) {
            block.moduleDone(module, q, reference, startNanos);
        }

        public void stepDone(String what, double seconds, double error) {
            block.stepDone(what, seconds, error);
        }
    }
}
