package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.quant.Awq;
import dev.featherweight.kernels.quant.AwqParams;
import dev.featherweight.kernels.quant.QuantizedModule;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AWQ ({@link Awq}) on one block, as AutoAWQ: the four distinct inputs are captured over all samples; per-channel
 * scales are searched for input_layernorm → q/k/v, v_proj → o_proj (when shapes allow), post_attention_layernorm →
 * gate/up and up_proj → down_proj, each candidate judged as AutoAWQ's {@code _get_layers_for_scaling} names the
 * module to inspect: q/k/v by the self-attention's output, gate/up by the MLP's, o_proj and down_proj by their own
 * output — the MSE against the float module on the search samples' captured inputs. The scales are folded into the
 * norms, v_proj and its bias, and up_proj; then each module's clipping is searched (not q and k) and it is quantized
 * with zero points.
 */
public final class AwqModifier implements QuantizationModifier {
    private final AwqParams params;

    public AwqModifier(AwqParams params) {
        this.params = params;
    }

    @Override
    public boolean calibrated() {
        return true;
    }

    /** The four captured inputs and the block's weights as floats (twice, for the scale search's candidates). */
    @Override
    public long blockWorkingSet(LlamaModel.Config c, long tokens) {
        return BlockShape.total(QuantizationModifier.blockShape(c).awqWorkingSet(tokens));
    }

    @Override
    public BlockResult quantizeBlock(BlockContext block) {
        LlamaModel.Config c = block.config();
        BlockWeights src = block.weights();
        int n = block.samples(), seqLen = block.seqLen(), tokens = n * seqLen, dim = c.dim(), qDim = c.qDim(), ffn = c.ffnDim();
        // capture the four distinct inputs over all samples
        float[] xAttn = new float[tokens * dim], xO = new float[tokens * qDim], xFfn = new float[tokens * dim], xDown = new float[tokens * ffn];
        block.forward(src, (sample, module, x, nt, cols) -> {
            int off = sample * seqLen * cols;
            switch (module) {
                case "attn_q" -> System.arraycopy(x, 0, xAttn, off, nt * cols);
                case "attn_output" -> System.arraycopy(x, 0, xO, off, nt * cols);
                case "ffn_gate" -> System.arraycopy(x, 0, xFfn, off, nt * cols);
                case "ffn_down" -> System.arraycopy(x, 0, xDown, off, nt * cols);
                default -> {
                }
            }
        }, null, 0);
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, int[]> shape = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            WeightMatrix mm = src.matrix(m);
            w.put(m, FloatArrayMatrix.toFloats(mm));
            shape.put(m, new int[]{mm.rows(), mm.cols()});
        }
        float[] attnNorm = src.attnNorm().clone(), ffnNorm = src.ffnNorm().clone();
        float[] vBias = src.vBias() != null ? src.vBias().clone() : null;
        int gs = params.groupSize();
        int bits = params.bits();

        // 1. input_layernorm → q, k, v
        float[] s1 = search(block, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"attn_q", "attn_k", "attn_v"}, w, shape,
                xAttn, tokens, dim, bits, gs, block::selfAttention);
        for (int i = 0; i < dim; i++) attnNorm[i] /= s1[i];
        for (String m : new String[]{"attn_q", "attn_k", "attn_v"}) w.put(m, Awq.scaleColumns(w.get(m), shape.get(m)[0], dim, s1));
        divideColumns(xAttn, tokens, dim, s1);
        // 2. v_proj → o_proj, only when shapes allow (no GQA), as AutoAWQ checks v.weight.shape == o.weight.shape
        if (c.kvDim() == qDim && c.dim() == qDim) {
            float[] s2 = search(block, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"attn_output"}, w, shape, xO, tokens, qDim,
                    bits, gs, linear(block, "attn_output"));
            divideRows(w.get("attn_v"), shape.get("attn_v")[0], dim, s2);
            // v's outputs are divided by s2, bias included (AutoAWQ scale_fc_fc: fc1.bias.div_(scales))
            if (vBias != null) for (int i = 0; i < vBias.length; i++) vBias[i] /= s2[i];
            w.put("attn_output", Awq.scaleColumns(w.get("attn_output"), dim, qDim, s2));
            divideColumns(xO, tokens, qDim, s2);
        }
        // 3. post_attention_layernorm → gate, up
        float[] s3 = search(block, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"ffn_gate", "ffn_up"}, w, shape, xFfn, tokens,
                dim, bits, gs, (x, cand) -> block.mlp(x, block.seqLen(), cand));
        for (int i = 0; i < dim; i++) ffnNorm[i] /= s3[i];
        for (String m : new String[]{"ffn_gate", "ffn_up"}) w.put(m, Awq.scaleColumns(w.get(m), ffn, dim, s3));
        divideColumns(xFfn, tokens, dim, s3);
        // 4. up_proj → down_proj
        float[] s4 = search(block, withFp(src, w, shape, attnNorm, ffnNorm, vBias), new String[]{"ffn_down"}, w, shape, xDown, tokens, ffn,
                bits, gs, linear(block, "ffn_down"));
        divideRows(w.get("ffn_up"), ffn, dim, s4);
        w.put("ffn_down", Awq.scaleColumns(w.get("ffn_down"), dim, ffn, s4));
        divideColumns(xDown, tokens, ffn, s4);

        // clipping (AutoAWQ skips q and k) and quantization
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            long t0 = System.nanoTime();
            int rows = shape.get(m)[0], cols = shape.get(m)[1];
            float[] f = w.get(m);
            float[] original = f.clone();
            QuantizedModule q;
            if (block.paramsFor(m) == null) {
                q = new QuantizedModule.Kept(f, rows, cols);
            } else {
                if (!m.equals("attn_q") && !m.equals("attn_k")) {
                    float[] x = switch (m) {
                        case "attn_v" -> xAttn;
                        case "attn_output" -> xO;
                        case "ffn_gate", "ffn_up" -> xFfn;
                        default -> xDown;
                    };
                    Awq.searchClip(f, rows, cols, x, tokens, bits, gs, block.pool());
                }
                q = new QuantizedModule.Uniform(Awq.pseudoQuantize(f, rows, cols, bits, gs));
            }
            block.moduleDone(m, q, new FloatArrayMatrix(original, rows, cols, "F32"), t0);
            out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
        }
        return new BlockResult(block.layer(), out, attnNorm, ffnNorm, vBias);
    }

    private static BlockWeights withFp(BlockWeights src, Map<String, float[]> w, Map<String, int[]> shape, float[] attnNorm, float[] ffnNorm, float[] vBias) {
        BlockWeights b = new BlockWeights(attnNorm, src.q(), src.k(), src.v(), src.o(), src.qBias(), src.kBias(), vBias, ffnNorm,
                src.gate(), src.up(), src.down());
        for (String m : BlockWeights.MODULES) b = b.with(m, new FloatArrayMatrix(w.get(m), shape.get(m)[0], shape.get(m)[1], "F32"));
        return b;
    }

    /** The module whose output judges a group's candidate scales (AutoAWQ's module2inspect), on one sample's inputs. */
    @FunctionalInterface
    private interface Inspected {
        float[] output(float[] x, BlockWeights w);
    }

    /** One linear module inspected alone: x · Wᵀ. */
    private static Inspected linear(BlockContext block, String module) {
        return (x, w) -> {
            WeightMatrix m = w.matrix(module);
            int nTokens = x.length / m.cols();
            float[] out = new float[nTokens * m.rows()];
            m.matmul(x, nTokens, out, block.pool());
            return out;
        };
    }

    /**
     * Searches the scales of one group; the error is the inspected module's output MSE against the same module with
     * the float weights {@code fp}, on the captured inputs x of the search samples.
     */
    private float[] search(BlockContext block, BlockWeights fp, String[] group, Map<String, float[]> w, Map<String, int[]> shape,
                           float[] x, int tokens, int cols, int bits, int gs, Inspected inspected) {
        long t0 = System.nanoTime();
        float[] xMean = Awq.meanAbs(x, tokens, cols);
        float[][] ws = new float[group.length][];
        int[] rows = new int[group.length];
        for (int i = 0; i < group.length; i++) {
            ws[i] = w.get(group[i]);
            rows[i] = shape.get(group[i])[0];
        }
        float[] wMean = Awq.weightMean(ws, rows, cols, gs);
        int seqLen = block.seqLen(), search = Math.min(block.samples(), params.searchSamples());
        float[][] xs = new float[search][], target = new float[search][];
        for (int k = 0; k < search; k++) {
            xs[k] = Arrays.copyOfRange(x, k * seqLen * cols, (k + 1) * seqLen * cols);
            target[k] = inspected.output(xs[k], fp);
        }
        Awq.ScaleSearch r = Awq.searchScale(xMean, wMean, params.duoScaling(), s -> {
            // the group's modules are independent: each candidate matrix on its own thread (same bits on any count)
            float[][] candidates = new float[group.length][];
            block.pool().forEach(group.length, i -> {
                if (block.paramsFor(group[i]) != null) candidates[i] = Awq.quantizeScaled(ws[i], rows[i], cols, s, bits, gs);
            });
            BlockWeights cand = fp;
            for (int i = 0; i < group.length; i++) {
                if (candidates[i] != null) cand = cand.with(group[i], new FloatArrayMatrix(candidates[i], rows[i], cols, "F32"));
            }
            double err = 0;
            long cnt = 0;
            for (int k = 0; k < search; k++) {
                float[] h = inspected.output(xs[k], cand);
                for (int i = 0; i < h.length; i++) {
                    double d = h[i] - target[k][i];
                    err += d * d;
                }
                cnt += h.length;
            }
            return err / cnt;
        });
        block.stepDone(block.moduleName(group[0]) + " (AWQ scale search, α=" + r.bestIndex() + "/20)", (System.nanoTime() - t0) / 1e9,
                r.errors()[r.bestIndex()]);
        return r.scales();
    }

    private static void divideColumns(float[] x, int rows, int cols, float[] s) {
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) x[r * cols + c] /= s[c];
    }

    private static void divideRows(float[] w, int rows, int cols, float[] s) {
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * cols + c] /= s[r];
    }
}
