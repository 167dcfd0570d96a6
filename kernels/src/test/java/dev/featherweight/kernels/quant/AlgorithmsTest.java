package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Parallel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The algorithms on float arrays: grids, GPTQ's linear algebra and error feedback, NF4/FP4, double quant, LLM.int8. */
class AlgorithmsTest {
    static final Parallel POOL = new Parallel(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** Correlated activations (a few strong shared directions), as real layer inputs are. */
    static float[] activations(int tokens, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int k = 4;
        float[][] dirs = new float[k][cols];
        for (float[] d : dirs) for (int c = 0; c < cols; c++) d[c] = (float) r.nextGaussian();
        float[] x = new float[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            double[] a = new double[k];
            for (int j = 0; j < k; j++) a[j] = r.nextGaussian() * (3 - j * 0.5);
            for (int c = 0; c < cols; c++) {
                double v = 0.3 * r.nextGaussian() * (c % 7 == 0 ? 4 : 1);
                for (int j = 0; j < k; j++) v += a[j] * dirs[j][c];
                x[t * cols + c] = (float) v;
            }
        }
        return x;
    }

    static double outputError(float[] w, float[] wq, int rows, int cols, float[] x, int tokens) {
        double e = 0;
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) s += (w[r * cols + c] - wq[r * cols + c]) * x[t * cols + c];
                e += s * s;
            }
        }
        return e;
    }

    @Test
    void gridMatchesFindParams() {
        // sym 4-bit: xmax = max(|min|, max) = 2; scale = 4/15; zero = 8
        Rtn.Grid g = Rtn.grid(-2f, 1f, 4, true, true);
        assertThat(g.zero()).isEqualTo(8);
        assertThat(g.scale()).isEqualTo(Rtn.fp16Scale(4f / 15));
        // asym: range widened to include 0 → [0, 3], zero = round(0) = 0 → kept ≥ 1 by the v1 rule
        Rtn.Grid a = Rtn.grid(1f, 3f, 4, false, false);
        assertThat(a.zero()).isEqualTo(0);
        assertThat(a.scale()).isEqualTo(Rtn.fp16Scale(3f / 15));
        Rtn.Grid a1 = Rtn.grid(1f, 3f, 4, false, true);
        assertThat(a1.zero()).isEqualTo(1);
        assertThat(a1.dequantize(a1.quantize(3f))).isCloseTo(3f, within(0.02f));
        // all-zero group → [−1, 1]
        assertThat(Rtn.grid(0f, 0f, 2, false, false).scale()).isEqualTo(Rtn.fp16Scale(2f / 3));
        // rounding is half-to-even like torch.round
        Rtn.Grid unit = new Rtn.Grid(1f, 0, 15);
        assertThat(unit.quantize(2.5f)).isEqualTo(2);
        assertThat(unit.quantize(3.5f)).isEqualTo(4);
    }

    @ParameterizedTest
    @CsvSource({"8,0.01", "4,0.1", "3,0.25", "2,0.6"})
    void rtnErrorShrinksWithBits(int bits, double maxRelError) {
        int rows = 32, cols = 256;
        float[] w = PackingRoundTripTest.randomWeights(rows, cols, 3);
        for (Rtn.Granularity g : Rtn.Granularity.values()) {
            QuantizedLinear q = Rtn.quantize(w, rows, cols, bits, false, g, 64, true);
            double e = 0, n = 0;
            float[] d = q.dequantize();
            for (int i = 0; i < w.length; i++) {
                e += (d[i] - w[i]) * (d[i] - w[i]);
                n += w[i] * w[i];
            }
            assertThat(e / n).as("%s %d-bit", g, bits).isLessThan(maxRelError);
        }
    }

    static float[] dampedHessian(int n, long seed) {
        float[] x = activations(Math.max(200, 2 * n), n, seed);
        Gptq.Hessian h = new Gptq.Hessian(n);
        h.add(x, Math.max(200, 2 * n), POOL);
        float[] a = h.finish();
        double mean = 0;
        for (int i = 0; i < n; i++) mean += a[i * n + i];
        for (int i = 0; i < n; i++) a[i * n + i] += (float) (0.01 * mean / n);
        return a;
    }

    /** Sizes below one panel, across several panels and trailing tiles, and not a multiple of any block size. */
    @ParameterizedTest
    @CsvSource({"40", "300", "517"})
    void upperCholeskyOfInverseIsExact(int n) {
        float[] a = dampedHessian(n, 1);
        float[] orig = a.clone();
        assertThat(Gptq.upperCholeskyOfInverse(a, n, POOL)).isTrue();
        // Uᵀ U · A = I
        double[] inv = new double[n * n];
        for (int m = 0; m < n; m++) {
            for (int i = m; i < n; i++) {
                double u = a[m * n + i];
                for (int k = m; k < n; k++) inv[i * n + k] += u * a[m * n + k];
            }
        }
        double maxErr = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += inv[i * n + k] * orig[k * n + j];
                maxErr = Math.max(maxErr, Math.abs(s - (i == j ? 1 : 0)));
            }
            for (int j = 0; j < i; j++) assertThat(a[i * n + j]).isZero();
            assertThat(a[i * n + i]).isPositive();
        }
        assertThat(maxErr).as("max |Uᵀ U A − I|, n = %d", n).isLessThan(5e-3);
    }

    @Test
    void upperCholeskyOfInverseIsTheSameBitsOnAnyThreadCount() {
        int n = 517;
        float[] a1 = dampedHessian(n, 3), a2 = a1.clone();
        try (Parallel one = new Parallel(1); Parallel three = new Parallel(3)) {
            assertThat(Gptq.upperCholeskyOfInverse(a1, n, one)).isTrue();
            assertThat(Gptq.upperCholeskyOfInverse(a2, n, three)).isTrue();
        }
        assertThat(a2).isEqualTo(a1);
    }

    @Test
    void notPositiveDefiniteIsReportedWithTheLowerTriangleIntact() {
        int n = 300;
        float[] a = dampedHessian(n, 4);
        // a negative pivot: the reversed factorization meets index 5 in its last panel, after writing the others
        a[5 * n + 5] = -1f;
        float[] orig = a.clone();
        assertThat(Gptq.upperCholeskyOfInverse(a, n, POOL)).isFalse();
        for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) assertThat(a[i * n + j]).isEqualTo(orig[i * n + j]);
    }

    /** GPTQModel's damp_auto_increment: the retries must start from H each time, so the result equals one run at the final damping. */
    @Test
    void dampingIsRaisedUntilHIsPositiveDefinite() {
        int rows = 16, n = 320;
        float[] h = dampedHessian(n, 5);
        double mean = 0;
        for (int i = 0; i < n; i++) mean += h[i * n + i];
        mean /= n;
        // input 5 decoupled from the others with a slightly negative variance: only damping > 1.5 % can fix it
        for (int j = 0; j < n; j++) h[5 * n + j] = h[j * n + 5] = 0;
        h[5 * n + 5] = (float) (-0.015 * mean);
        float[] w = activations(rows, n, 6);
        Gptq.Result retried = Gptq.quantize(w.clone(), rows, n, h.clone(), Gptq.Options.of(4, 64), POOL);
        assertThat(retried.dampPercentUsed()).isGreaterThan(0.015).isLessThan(0.02);
        Gptq.Options direct = new Gptq.Options(4, 64, true, false, false, retried.dampPercentUsed(), true);
        Gptq.Result once = Gptq.quantize(w.clone(), rows, n, h.clone(), direct, POOL);
        assertThat(retried.quantized().codes()).isEqualTo(once.quantized().codes());
        assertThat(retried.quantized().scales()).isEqualTo(once.quantized().scales());
    }

    /** One tile, and several tiles of 64 with a ragged edge; split over two calls; the same bits on 1 and 3 threads. */
    @ParameterizedTest
    @CsvSource({"8,5", "150,37"})
    void hessianIsTwoOverNXtX(int n, int t) {
        float[] x = activations(t, n, 2);
        float[][] results = new float[2][];
        try (Parallel one = new Parallel(1); Parallel three = new Parallel(3)) {
            Parallel[] pools = {one, three};
            for (int p = 0; p < 2; p++) {
                Gptq.Hessian h = new Gptq.Hessian(n);
                h.add(x, 3, pools[p]);
                h.add(java.util.Arrays.copyOfRange(x, 3 * n, t * n), t - 3, pools[p]);
                assertThat(h.tokens()).isEqualTo(t);
                results[p] = h.finish();
            }
        }
        assertThat(results[1]).isEqualTo(results[0]);
        float[] hh = results[0];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < t; k++) s += (double) x[k * n + i] * x[k * n + j];
                assertThat((double) hh[i * n + j]).isCloseTo(2 * s / t, within(1e-4 * (1 + Math.abs(2 * s / t))));
            }
        }
    }

    /** GPTQ's error feedback lowers the layer-output error ‖(W − Q)X‖ below RTN's on the same grid. */
    @ParameterizedTest
    @CsvSource({"4,128,false,false,true", "4,32,true,false,true", "4,32,true,true,false", "3,64,false,false,true", "2,-1,false,false,true",
            "8,128,true,false,false", "3,32,true,true,true"})
    void gptqBeatsRtnOnOutputError(int bits, int gs, boolean actOrder, boolean staticGroups, boolean sym) {
        int rows = 48, cols = 256, tokens = 512;
        float[] x = activations(tokens, cols, 7);
        float[] w = PackingRoundTripTest.randomWeights(rows, cols, 8);
        Gptq.Hessian h = new Gptq.Hessian(cols);
        h.add(x, tokens, POOL);
        Gptq.Options o = new Gptq.Options(bits, gs, sym, actOrder, staticGroups, 0.01, true);
        QuantizedLinear g = Gptq.quantize(w.clone(), rows, cols, h.finish(), o, POOL).quantized();
        QuantizedLinear r = Rtn.quantize(w, rows, cols, bits, sym, gs == -1 ? Rtn.Granularity.CHANNEL : Rtn.Granularity.GROUP, gs, true);
        double eg = outputError(w, g.dequantize(), rows, cols, x, tokens);
        double er = outputError(w, r.dequantize(), rows, cols, x, tokens);
        assertThat(eg).as("GPTQ %s vs RTN %s", eg, er).isLessThan(er * 0.9);
        // g_idx: a permutation of groups, each group holding exactly groupSize columns
        int gsz = gs == -1 ? cols : gs;
        int[] count = new int[cols / gsz];
        for (int c : g.gIdx()) count[c]++;
        for (int c : count) assertThat(c).isEqualTo(gsz);
        if (!actOrder || staticGroups) assertThat(g.trivialGIdx()).isTrue();
        if (!sym) assertThat(java.util.Arrays.stream(g.zeros()).min().getAsInt()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void gptqActOrderPermutesGroups() {
        int rows = 16, cols = 128, tokens = 256;
        float[] x = activations(tokens, cols, 11);
        Gptq.Hessian h = new Gptq.Hessian(cols);
        h.add(x, tokens, POOL);
        QuantizedLinear g = Gptq.quantize(PackingRoundTripTest.randomWeights(rows, cols, 12), rows, cols, h.finish(),
                new Gptq.Options(4, 32, true, true, false, 0.01, true), POOL).quantized();
        assertThat(g.trivialGIdx()).isFalse();
    }

    @Test
    void deadColumnsAreZeroed() {
        int rows = 8, cols = 64, tokens = 100;
        float[] x = activations(tokens, cols, 13);
        for (int t = 0; t < tokens; t++) x[t * cols + 5] = 0;
        Gptq.Hessian h = new Gptq.Hessian(cols);
        h.add(x, tokens, POOL);
        QuantizedLinear g = Gptq.quantize(PackingRoundTripTest.randomWeights(rows, cols, 14), rows, cols, h.finish(), Gptq.Options.of(4, 32), POOL).quantized();
        for (int r = 0; r < rows; r++) assertThat(g.dequantize(r, 5)).isZero();
    }

    @Test
    void nf4CodeBookAndNibbleOrder() {
        assertThat(Nf4.NF4).hasSize(16);
        assertThat(Nf4.NF4[7]).isZero();
        assertThat(Nf4.FP4[3]).isEqualTo(1f);
        assertThat(Nf4.FP4[2]).isEqualTo(8f / 12);
        // block [1, −1, 0, 0.5 …]: codes NF4 15, 0, 7; first element in the high nibble
        float[] w = new float[64];
        w[0] = 1f;
        w[1] = -1f;
        w[3] = 0.5f;
        Nf4.Weight q = Nf4.quantize(w, new long[]{1, 64}, Nf4.Type.NF4);
        assertThat(q.packed()[0] & 0xFF).isEqualTo(0xF0);
        assertThat(q.code(3)).isEqualTo(12); // 0.5 is nearer 0.4407 (code 12) than 0.5626
        assertThat(q.absmax()).containsExactly(1f);
        // FP4: sign is bit 3; 1.0 → code 3, −1.0 → 11
        Nf4.Weight f = Nf4.quantize(w, new long[]{1, 64}, Nf4.Type.FP4);
        assertThat(f.code(0)).isEqualTo(3);
        assertThat(f.code(1)).isEqualTo(11);
        assertThat(f.code(3)).isEqualTo(5); // 0.5 = 6/12
        // thresholds: above the midpoint takes the upper value
        assertThat(Nf4.Type.NF4.quantize(0.8614785f)).isEqualTo(15);
        assertThat(Nf4.Type.NF4.quantize(0.8614783f)).isEqualTo(14);
    }

    /** The vector path (full blocks of 64) makes exactly the scalar decisions, on midpoints, zeros and −0 too; a ragged last block takes the scalar path. */
    @ParameterizedTest
    @CsvSource({"NF4", "FP4"})
    void blockQuantizationEqualsTheScalarRule(Nf4.Type type) {
        int n = 64 * 37 + 21;
        float[] w = PackingRoundTripTest.randomWeights(1, n, 77);
        float[] mids = type == Nf4.Type.NF4 ? new float[]{0.8614784f, -0.0455250f, 0.1202552f} : new float[]{5f / 12, 0.03125f / 12, 7f / 12};
        for (int b = 0; b < 37; b++) {
            w[b * 64] = 1f;                              // absmax 1: the next values are the normalized ones
            w[b * 64 + 1] = mids[b % mids.length];
            w[b * 64 + 2] = -mids[b % mids.length];
            w[b * 64 + 3] = b % 2 == 0 ? 0f : -0f;
        }
        for (int i = 64 * 5; i < 64 * 6; i++) w[i] = 0f;  // an all-zero block
        Nf4.Weight q = Nf4.quantize(w, new long[]{n}, type);
        for (int b = 0; b * 64 < n; b++) {
            float m = 0;
            for (int i = b * 64; i < Math.min(n, b * 64 + 64); i++) m = Math.max(m, Math.abs(w[i]));
            assertThat(q.absmax()[b]).isEqualTo(m);
            float inv = m == 0 ? 0 : 1f / m;
            for (int i = b * 64; i < Math.min(n, b * 64 + 64); i++) {
                assertThat(q.code(i)).as("element %d", i).isEqualTo(type.quantize(w[i] * inv));
            }
        }
    }

    @Test
    void nf4BeatsFp4OnGaussianWeights() {
        float[] w = PackingRoundTripTest.randomWeights(64, 256, 21);
        double en = 0, ef = 0;
        float[] dn = Nf4.quantize(w, new long[]{64, 256}, Nf4.Type.NF4).dequantize();
        float[] df = Nf4.quantize(w, new long[]{64, 256}, Nf4.Type.FP4).dequantize();
        for (int i = 0; i < w.length; i++) {
            en += (dn[i] - w[i]) * (dn[i] - w[i]);
            ef += (df[i] - w[i]) * (df[i] - w[i]);
        }
        assertThat(en).isLessThan(ef);
    }

    @Test
    void dynamicMapIsBitsandbytesSigned8Bit() {
        float[] m = Nf4.dynamicMap();
        assertThat(m).hasSize(256);
        assertThat(m[255]).isEqualTo(1f);
        assertThat(m).contains(0f);
        for (int i = 1; i < 256; i++) assertThat(m[i]).isGreaterThanOrEqualTo(m[i - 1]);
        // smallest magnitude: 1e-6 · (0.1 + 1)/2 = 5.5e-7
        float minPos = Float.MAX_VALUE;
        for (float v : m) if (v > 0) minPos = Math.min(minPos, v);
        assertThat((double) minPos).isCloseTo(5.5e-7, within(1e-9));
        assertThat(m[0]).isCloseTo(-0.9929f, within(1e-3f)); // −(0.9857 + 1)/2
    }

    @Test
    void doubleQuantizationKeepsAbsmaxClose() {
        float[] w = PackingRoundTripTest.randomWeights(256, 256, 31);
        Nf4.Weight q = Nf4.quantize(w, new long[]{256, 256}, Nf4.Type.NF4);
        Nf4.NestedAbsmax n = Nf4.doubleQuantize(q.absmax());
        float[] a = n.dequantize();
        assertThat(n.nestedAbsmax()).hasSize((q.absmax().length + 255) / 256);
        for (int i = 0; i < a.length; i++) assertThat(a[i]).isCloseTo(q.absmax()[i], within(q.absmax()[i] * 0.02f));
        assertThat(Nf4.bitsPerWeight(7_000_000_000L, false) - Nf4.bitsPerWeight(7_000_000_000L, true)).isCloseTo(0.373, within(0.001));
    }

    @Test
    void llmInt8RowAbsmax() {
        float[] w = {0.5f, -1f, 0.25f, 0f, 2f, -2f, 1f, 0.01f};
        LlmInt8.Weight q = LlmInt8.quantize(w, 2, 4);
        assertThat(q.scb()).containsExactly(1f, 2f);
        assertThat(q.cb()).containsExactly(64, -127, 32, 0, 127, -127, 64, 1); // round(0.5·127)=64 (63.5 → even)
        assertThat(q.dequantize(1, 0)).isEqualTo(2f);
    }

    @Test
    void awqScalesAreNormalizedAndSearchPicksTheMinimum() {
        float[] xm = {1f, 4f, 0.25f, 2f};
        float[] wm = {0.5f, 0.5f, 0.5f, 0.5f};
        float[] s = Awq.scales(xm, wm, 0.5f, false);
        float mx = 0, mn = Float.MAX_VALUE;
        for (float v : s) {
            mx = Math.max(mx, v);
            mn = Math.min(mn, v);
        }
        assertThat((double) mx * mn).isCloseTo(1.0, within(1e-5));
        assertThat(Awq.scales(xm, wm, 0f, false)).containsOnly(1f);
        Awq.ScaleSearch r = Awq.searchScale(xm, wm, true, sc -> Math.abs(sc[1] / sc[2] - 3));
        assertThat(r.errors()).hasSize(20);
        for (double e : r.errors()) assertThat(e).isGreaterThanOrEqualTo(r.errors()[r.bestIndex()]);
    }

    @Test
    void awqClipDoesNotIncreaseOutputError() {
        int rows = 16, cols = 128, tokens = 300;
        float[] x = activations(tokens, cols, 41);
        float[] w = PackingRoundTripTest.randomWeights(rows, cols, 42);
        w[3] = 0.6f; // an outlier weight the clip may trim
        float[] plain = Awq.pseudoQuantize(w, rows, cols, 4, 128).dequantize();
        float[] clipped = w.clone();
        Awq.searchClip(clipped, rows, cols, x, tokens, 4, 128, POOL);
        float[] cq = Awq.pseudoQuantize(clipped, rows, cols, 4, 128).dequantize();
        assertThat(outputError(w, cq, rows, cols, x, tokens)).isLessThanOrEqualTo(outputError(w, plain, rows, cols, x, tokens) * 1.0001);
        float[] oneThread = w.clone();
        try (Parallel one = new Parallel(1)) {
            Awq.searchClip(oneThread, rows, cols, x, tokens, 4, 128, one);
        }
        assertThat(oneThread).as("rows split over threads give the same clip").isEqualTo(clipped);
    }

    /**
     * The clip search's batched dots (tokens transposed, one token per lane) choose what one {@link MatmulKernel#dot}
     * per (token, candidate) chooses, error for error: groups of whole 16-chunks (even and odd counts), with a ragged
     * tail, per channel; every token sampled and every second one (padding lanes).
     */
    @Test
    void awqClipEqualsOneDotAtATime() {
        int rows = 12, cols = 240;
        float[] w = PackingRoundTripTest.randomWeights(rows, cols, 44);
        w[5] = 0.7f;
        for (int tokens : new int[]{203, 1100}) {
            float[] x = activations(tokens, cols, 43);
            for (int gs : new int[]{48, 40, 80, -1}) {
                float[] batched = w.clone(), reference = w.clone();
                double e = Awq.searchClip(batched, rows, cols, x, tokens, 3, gs, POOL);
                double re = clipOneDotAtATime(reference, rows, cols, x, tokens, 3, gs);
                assertThat(batched).as("clipped weights, %d tokens, group %d", tokens, gs).isEqualTo(reference);
                assertThat(e).as("summed best errors, %d tokens, group %d", tokens, gs).isEqualTo(re);
                assertThat(batched).as("the clip changed something").isNotEqualTo(w);
            }
        }
    }

    /** AutoAWQ's _compute_best_clip as written, one dot per token and candidate (the definition the batched search keeps). */
    private static double clipOneDotAtATime(float[] w, int rows, int cols, float[] x, int nTokens, int bits, int groupSize) {
        int gs = groupSize <= 0 ? cols : groupSize, maxq = (1 << bits) - 1, step = Math.max(1, nTokens / 512), nt = (nTokens + step - 1) / step;
        double total = 0;
        float[] org = new float[nt], qw = new float[gs];
        for (int r = 0; r < rows; r++) {
            double rowTotal = 0;   // per row, then over the rows: the search's own grouping of the sum
            for (int o = r * cols; o < (r + 1) * cols; o += gs) {
                int xo = o - r * cols;
                float maxAbs = 0;
                for (int c = 0; c < gs; c++) maxAbs = Math.max(maxAbs, Math.abs(w[o + c]));
                for (int t = 0; t < nt; t++) org[t] = MatmulKernel.dot(x, t * step * cols + xo, w, o, gs);
                double best = Double.POSITIVE_INFINITY;
                float bestMax = maxAbs;
                for (int is = 0; is < 10; is++) {
                    float mx = maxAbs * (1 - (float) is / 20), lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                    for (int c = 0; c < gs; c++) {
                        qw[c] = Math.max(-mx, Math.min(mx, w[o + c]));
                        lo = Math.min(lo, qw[c]);
                        hi = Math.max(hi, qw[c]);
                    }
                    float sc = Rtn.fp16Scale(Math.max(hi - lo, 1e-5f) / maxq);
                    int z = (int) Math.max(0, Math.min(maxq, -Math.rint(lo / sc)));
                    for (int c = 0; c < gs; c++) qw[c] = sc * ((int) Math.max(0, Math.min(maxq, Math.rint(qw[c] / sc) + z)) - z);
                    double err = 0;
                    for (int t = 0; t < nt; t++) {
                        double d = MatmulKernel.dot(x, t * step * cols + xo, qw, 0, gs) - org[t];
                        err += d * d;
                    }
                    err /= nt;
                    if (err < best) {
                        best = err;
                        bestMax = mx;
                    }
                }
                for (int c = 0; c < gs; c++) w[o + c] = Math.max(-bestMax, Math.min(bestMax, w[o + c]));
                rowTotal += best;
            }
            total += rowTotal;
        }
        return total;
    }

    /** Same inputs, same bytes: whatever the thread or the JIT tier that runs a row (resume depends on it). */
    @Test
    void gptqIsDeterministic() {
        int rows = 192, cols = 256, tokens = 256;
        float[] x = activations(tokens, cols, 51);
        float[] w = PackingRoundTripTest.randomWeights(rows, cols, 52);
        Gptq.Hessian h = new Gptq.Hessian(cols);
        h.add(x, tokens, POOL);
        float[] hh = h.finish();
        QuantizedLinear first = null;
        for (int i = 0; i < 30; i++) {
            QuantizedLinear q = Gptq.quantize(w.clone(), rows, cols, hh.clone(), Gptq.Options.of(4, 128), POOL).quantized();
            if (first == null) first = q;
            assertThat(q.codes()).as("run %d", i).isEqualTo(first.codes());
            assertThat(q.scales()).as("run %d", i).isEqualTo(first.scales());
        }
    }
}
