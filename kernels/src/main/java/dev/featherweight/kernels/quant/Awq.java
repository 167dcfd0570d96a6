package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Parallel;

import java.util.function.ToDoubleFunction;

/**
 * AWQ (Lin et al.) as AutoAWQ implements it (awq/quantize/quantizer.py, {@code AwqQuantizer}):
 * <ul>
 *   <li>{@link #pseudoQuantize}: asymmetric grid per group of 128, scale = (max − min) / 15 (≥ 1e-5), zero =
 *   −round(min / scale) clamped to [0, 15] ({@code pseudo_quantize_tensor}; here the scale is rounded to fp16
 *   first, as the gemm checkpoint stores it);</li>
 *   <li>{@link #searchScale}: x̄ = mean |x| per input channel, w̄ = mean over rows of |w| / max|w| of its
 *   group; for α = 0, 1/20, …, 19/20: s = x̄^α / (w̄^(1−α) + 1e-4) (clamped ≥ 1e-4, duo scaling, the
 *   default) or s = x̄^α, normalized by √(max s · min s); the α minimizing the caller's output error wins
 *   ({@code _search_best_scale});</li>
 *   <li>{@link #searchClip}: per output row and group, max |w| shrunk by 0, 5, …, 45 % and the shrink that best
 *   preserves Σ x·w over ≤ 512 sampled tokens kept ({@code _compute_best_clip}).</li>
 * </ul>
 * Scales are folded by the caller into the preceding RMSNorm or linear ({@code apply_scale}).
 */
public final class Awq {
    public static final int GRID = 20;

    private Awq() {
    }

    /** AutoAWQ's pseudo_quantize_tensor with zero point, on W (rows × cols). */
    public static QuantizedLinear pseudoQuantize(float[] w, int rows, int cols, int bits, int groupSize) {
        int gs = groupSize <= 0 ? cols : groupSize;
        if (cols % gs != 0) throw new IllegalArgumentException("group size " + gs + " does not divide the row length " + cols);
        int groups = cols / gs, maxq = (1 << bits) - 1;
        byte[] codes = new byte[rows * cols];
        float[] scales = new float[groups * rows];
        int[] zeros = new int[groups * rows];
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * cols + g * gs;
                float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < gs; c++) {
                    mn = Math.min(mn, w[o + c]);
                    mx = Math.max(mx, w[o + c]);
                }
                float s = Rtn.fp16Scale(Math.max(mx - mn, 1e-5f) / maxq);
                int z = (int) Math.max(0, Math.min(maxq, -Math.rint(mn / s)));
                scales[g * rows + r] = s;
                zeros[g * rows + r] = z;
                for (int c = 0; c < gs; c++) {
                    int q = (int) Math.max(0, Math.min(maxq, Math.rint(w[o + c] / s) + z));
                    codes[o + c] = (byte) q;
                    double e = w[o + c] - s * (q - z);
                    loss += e * e;
                }
            }
        }
        int[] gIdx = new int[cols];
        for (int c = 0; c < cols; c++) gIdx[c] = c / gs;
        return new QuantizedLinear(rows, cols, bits, groupSize <= 0 ? -1 : gs, false, codes, scales, zeros, gIdx, loss);
    }

    /** mean |x| per input channel over nTokens rows of x. */
    public static float[] meanAbs(float[] x, int nTokens, int cols) {
        double[] s = new double[cols];
        for (int t = 0; t < nTokens; t++) for (int c = 0; c < cols; c++) s[c] += Math.abs(x[t * cols + c]);
        float[] m = new float[cols];
        for (int c = 0; c < cols; c++) m[c] = (float) (s[c] / nTokens);
        return m;
    }

    /** mean over the rows of all given weights of |w| / (max |w| of its group + 1e-6), per input channel. */
    public static float[] weightMean(float[][] ws, int[] rows, int cols, int groupSize) {
        int gs = groupSize <= 0 ? cols : groupSize;
        double[] s = new double[cols];
        long total = 0;
        for (int k = 0; k < ws.length; k++) {
            float[] w = ws[k];
            for (int r = 0; r < rows[k]; r++) {
                for (int g = 0; g < cols / gs; g++) {
                    int o = r * cols + g * gs;
                    float m = 0;
                    for (int c = 0; c < gs; c++) m = Math.max(m, Math.abs(w[o + c]));
                    for (int c = 0; c < gs; c++) s[g * gs + c] += Math.abs(w[o + c]) / (m + 1e-6f);
                }
            }
            total += rows[k];
        }
        float[] out = new float[cols];
        for (int c = 0; c < cols; c++) out[c] = (float) (s[c] / total);
        return out;
    }

    /** Candidate scales for grid point α = ratio. */
    public static float[] scales(float[] xMean, float[] wMean, float ratio, boolean duoScaling) {
        int n = xMean.length;
        float[] s = new float[n];
        float mx = Float.NEGATIVE_INFINITY, mn = Float.POSITIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            float v = duoScaling ? (float) (Math.pow(xMean[c], ratio) / (Math.pow(wMean[c], 1 - ratio) + 1e-4)) : (float) Math.pow(xMean[c], ratio);
            v = Math.max(v, 1e-4f);
            s[c] = v;
            mx = Math.max(mx, v);
            mn = Math.min(mn, v);
        }
        float norm = (float) Math.sqrt((double) mx * mn);
        for (int c = 0; c < n; c++) s[c] /= norm;
        return s;
    }

    /** The result of a scale search: the scales and the error of every grid point. */
    public record ScaleSearch(float[] scales, int bestIndex, double[] errors) {
    }

    /** Tries the 20 grid points; {@code error} returns the output error with the weights scaled by s. */
    public static ScaleSearch searchScale(float[] xMean, float[] wMean, boolean duoScaling, ToDoubleFunction<float[]> error) {
        double best = Double.POSITIVE_INFINITY;
        int bestI = -1;
        float[] bestS = null;
        double[] errs = new double[GRID];
        for (int i = 0; i < GRID; i++) {
            float[] s = scales(xMean, wMean, (float) i / GRID, duoScaling);
            double e = error.applyAsDouble(s);
            errs[i] = e;
            if (e < best) {
                best = e;
                bestI = i;
                bestS = s;
            }
        }
        if (bestS == null) throw new ArithmeticException("AWQ scale search: every grid point gave a non-finite error");
        return new ScaleSearch(bestS, bestI, errs);
    }

    /** W with column c multiplied by s[c] (fold into this linear) — returns a new array. */
    public static float[] scaleColumns(float[] w, int rows, int cols, float[] s) {
        float[] o = new float[w.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) o[r * cols + c] = w[r * cols + c] * s[c];
        return o;
    }

    /** Dequantized Q(W·s) with columns divided by s again: the weights the search evaluates. */
    public static float[] quantizeScaled(float[] w, int rows, int cols, float[] s, int bits, int groupSize) {
        float[] q = pseudoQuantize(scaleColumns(w, rows, cols, s), rows, cols, bits, groupSize).dequantize();
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) q[r * cols + c] /= s[c];
        return q;
    }

    /**
     * Clipping search on W (rows × cols, modified: clamped to the best max per row and group) with input x
     * (nTokens × cols; at most 512 evenly spaced tokens are used, as n_sample_token). Rows are independent, so
     * they are spread over the pool's threads (the same bits on any thread count). Returns Σ of best errors.
     */
    public static double searchClip(float[] w, int rows, int cols, float[] x, int nTokens, int bits, int groupSize, Parallel pool) {
        int gs = groupSize <= 0 ? cols : groupSize, groups = cols / gs, maxq = (1 << bits) - 1;
        int step = Math.max(1, nTokens / 512);
        int nt = (nTokens + step - 1) / step;
        float[] xs = new float[nt * cols];
        for (int t = 0; t < nt; t++) System.arraycopy(x, t * step * cols, xs, t * cols, cols);
        double[] rowErr = new double[rows];
        int rowsPerTask = 8;
        pool.forEach((rows + rowsPerTask - 1) / rowsPerTask, task -> {
            float[] org = new float[nt], cur = new float[gs], qw = new float[gs];
            for (int r = task * rowsPerTask; r < Math.min(rows, (task + 1) * rowsPerTask); r++) {
                double total = 0;
                for (int g = 0; g < groups; g++) total += clipGroup(w, r * cols + g * gs, xs, g * gs, cols, nt, gs, maxq, org, cur, qw);
                rowErr[r] = total;
            }
        });
        double total = 0;
        for (double e : rowErr) total += e;
        return total;
    }

    /** One row's group at w[o ..): tries 10 clip ratios, clamps the weights to the best; returns its error. */
    private static double clipGroup(float[] w, int o, float[] xs, int xo, int cols, int nt, int gs, int maxq, float[] org, float[] cur, float[] qw) {
        float maxAbs = 0;
        for (int c = 0; c < gs; c++) maxAbs = Math.max(maxAbs, Math.abs(w[o + c]));
        for (int t = 0; t < nt; t++) org[t] = MatmulKernel.dot(xs, t * cols + xo, w, o, gs);
        double bestErr = Double.POSITIVE_INFINITY;
        float bestMax = maxAbs;
        for (int is = 0; is < (int) (0.5 * GRID); is++) {
            float mxv = maxAbs * (1 - (float) is / GRID);
            float mnv = -mxv;
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < gs; c++) {
                cur[c] = Math.max(mnv, Math.min(mxv, w[o + c]));
                lo = Math.min(lo, cur[c]);
                hi = Math.max(hi, cur[c]);
            }
            float sc = Rtn.fp16Scale(Math.max(hi - lo, 1e-5f) / maxq);
            int z = (int) Math.max(0, Math.min(maxq, -Math.rint(lo / sc)));
            for (int c = 0; c < gs; c++) qw[c] = sc * ((int) Math.max(0, Math.min(maxq, Math.rint(cur[c] / sc) + z)) - z);
            double err = 0;
            for (int t = 0; t < nt; t++) {
                double d = MatmulKernel.dot(xs, t * cols + xo, qw, 0, gs) - org[t];
                err += d * d;
            }
            err /= nt;
            if (err < bestErr) {
                bestErr = err;
                bestMax = mxv;
            }
        }
        for (int c = 0; c < gs; c++) w[o + c] = Math.max(-bestMax, Math.min(bestMax, w[o + c]));
        return bestErr;
    }
}
