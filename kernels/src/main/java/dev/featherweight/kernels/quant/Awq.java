package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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
     * <p>
     * Why the tokens are transposed: every (row, group) needs the dot of its original weights and of its 10 clipped
     * candidates with each sampled token's slice. Dotting one pair at a time ends every 128-long dot in a horizontal
     * sum; here each group's token slices are stored transposed in blocks of one vector of tokens, so a lane holds one
     * token and all 11 × tokens dots are plain vertical FMAs ({@link #groupDots}) — in each lane exactly the order of
     * {@link MatmulKernel#dot}, so every error, every choice and every byte is what one dot at a time gives.
     */
    public static double searchClip(float[] w, int rows, int cols, float[] x, int nTokens, int bits, int groupSize, Parallel pool) {
        int gs = groupSize <= 0 ? cols : groupSize, groups = cols / gs, maxq = (1 << bits) - 1;
        int step = Math.max(1, nTokens / 512);
        int nt = (nTokens + step - 1) / step;
        int L = S.length(), blocks = (nt + L - 1) / L;
        // xT[g][b][c][l] = x[token b·L + l][g·gs + c] (sampled tokens; the padding tokens are zero and never read back)
        float[][] xT = new float[groups][blocks * gs * L];
        for (int t = 0; t < nt; t++) {
            int src = t * step * cols, b = t / L, l = t % L;
            for (int g = 0; g < groups; g++) {
                float[] dst = xT[g];
                int o = b * gs * L + l;
                for (int c = 0; c < gs; c++) dst[o + c * L] = x[src + g * gs + c];
            }
        }
        double[] rowErr = new double[rows];
        int rowsPerTask = 8;
        pool.forEach((rows + rowsPerTask - 1) / rowsPerTask, task -> {
            float[] cand = new float[CLIP_CANDIDATES * gs], dots = new float[CLIP_CANDIDATES * blocks * L];
            for (int r = task * rowsPerTask; r < Math.min(rows, (task + 1) * rowsPerTask); r++) {
                double total = 0;
                for (int g = 0; g < groups; g++) total += clipGroup(w, r * cols + g * gs, xT[g], nt, blocks, gs, maxq, cand, dots);
                rowErr[r] = total;
            }
        });
        double total = 0;
        for (double e : rowErr) total += e;
        return total;
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** The original group and its 10 clipped versions. */
    private static final int CLIP_CANDIDATES = 1 + GRID / 2;

    /** One row's group at w[o ..): tries 10 clip ratios, clamps the weights to the best; returns its error. */
    private static double clipGroup(float[] w, int o, float[] xT, int nt, int blocks, int gs, int maxq, float[] cand, float[] dots) {
        float maxAbs = 0;
        for (int c = 0; c < gs; c++) maxAbs = Math.max(maxAbs, Math.abs(w[o + c]));
        System.arraycopy(w, o, cand, 0, gs);
        for (int is = 0; is < GRID / 2; is++) {
            float mxv = maxAbs * (1 - (float) is / GRID);
            float mnv = -mxv;
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            int q0 = (1 + is) * gs;
            for (int c = 0; c < gs; c++) {
                float cur = Math.max(mnv, Math.min(mxv, w[o + c]));
                cand[q0 + c] = cur;
                lo = Math.min(lo, cur);
                hi = Math.max(hi, cur);
            }
            float sc = Rtn.fp16Scale(Math.max(hi - lo, 1e-5f) / maxq);
            int z = (int) Math.max(0, Math.min(maxq, -Math.rint(lo / sc)));
            for (int c = 0; c < gs; c++) cand[q0 + c] = sc * ((int) Math.max(0, Math.min(maxq, Math.rint(cand[q0 + c] / sc) + z)) - z);
        }
        groupDots(cand, CLIP_CANDIDATES, gs, xT, blocks, dots);
        int stride = blocks * S.length();
        double bestErr = Double.POSITIVE_INFINITY;
        float bestMax = maxAbs;
        for (int is = 0; is < GRID / 2; is++) {
            int q = (1 + is) * stride;
            double err = 0;
            for (int t = 0; t < nt; t++) {
                double d = dots[q + t] - dots[t];
                err += d * d;
            }
            err /= nt;
            if (err < bestErr) {
                bestErr = err;
                bestMax = maxAbs * (1 - (float) is / GRID);
            }
        }
        for (int c = 0; c < gs; c++) w[o + c] = Math.max(-bestMax, Math.min(bestMax, w[o + c]));
        return bestErr;
    }

    /**
     * dots[j·blocks·L + t] = dot(cand[j·n ..], token t's slice) for j &lt; m, the tokens transposed in blocks of L (one
     * per lane). Each lane sums in {@link MatmulKernel#dot}'s order: virtual lane k (k &lt; 16) keeps two FMA chains,
     * chunk i of 16 elements on chain i mod 2, the chains added and the 16 lanes added in order; elements past the last
     * whole chunk are then added one product at a time. Only element-wise operations: the same bits at any width.
     */
    static void groupDots(float[] cand, int m, int n, float[] xT, int blocks, float[] dots) {
        int L = S.length(), V = MatmulKernel.VIRTUAL_LANES, chunks = n / V, stride = blocks * L;
        for (int b = 0; b < blocks; b++) {
            int xb = b * n * L;
            for (int j = 0; j < m; j++) {
                int cj = j * n;
                FloatVector s = FloatVector.zero(S);
                for (int k = 0; k < V && chunks > 0; k++) {
                    FloatVector a0 = FloatVector.zero(S), a1 = a0;
                    int c = 0;
                    for (; c + 1 < chunks; c += 2) {
                        int e0 = c * V + k, e1 = e0 + V;
                        a0 = FloatVector.fromArray(S, xT, xb + e0 * L).fma(FloatVector.broadcast(S, cand[cj + e0]), a0);
                        a1 = FloatVector.fromArray(S, xT, xb + e1 * L).fma(FloatVector.broadcast(S, cand[cj + e1]), a1);
                    }
                    if (c < chunks) a0 = FloatVector.fromArray(S, xT, xb + (c * V + k) * L).fma(FloatVector.broadcast(S, cand[cj + c * V + k]), a0);
                    s = s.add(a0.add(a1));
                }
                for (int e = chunks * V; e < n; e++) s = s.add(FloatVector.fromArray(S, xT, xb + e * L).mul(cand[cj + e]));
                s.intoArray(dots, j * stride + b * L);
            }
        }
    }
}
