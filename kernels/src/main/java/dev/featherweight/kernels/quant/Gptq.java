package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.core.MatmulKernel;

import dev.featherweight.kernels.core.Gemm;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * GPTQ (Frantar et al.) as GPTQModel implements it (gptqmodel/quantization/gptq.py, {@code GPTQ.add_batch} and
 * {@code GPTQ.quantize}):
 * <ol>
 *   <li>H = 2/n · Σ x xᵀ over the n calibration tokens that reach the layer ({@link Hessian});</li>
 *   <li>dead inputs (H[i][i] = 0) get H[i][i] = 1 and their weights are zeroed;</li>
 *   <li>static groups: every group's grid is fixed up front from the original weights;</li>
 *   <li>act-order (desc_act): columns are visited in descending order of H[i][i];</li>
 *   <li>damp = percdamp · mean(diag H) is added to the diagonal (raised by 0.0025 while Cholesky fails, as
 *   GPTQModel's damp_auto_increment does);</li>
 *   <li>Hinv = the upper Cholesky factor of H⁻¹;</li>
 *   <li>columns are quantized one by one in blocks of 128: the error (w − q) / Hinv[i][i] of each column is
 *   spread over the remaining columns of the block at once and over the columns after the block lazily, in
 *   one rank-128 update per block.</li>
 * </ol>
 * Grids are {@link Rtn#grid} (find_params) with fp16 scales. The grid of a group (not static) is found when
 * the loop reaches its first column, from the weights as updated by the previous blocks (GPTQModel reads
 * {@code W[:, i:i+groupsize]}, which does not yet see the current block's in-block updates; so do we).
 *
 * <p>Rows are independent given Hinv, so rows are split across threads; each thread walks all columns.
 */
public final class Gptq {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    public static final int BLOCK = 128;

    private Gptq() {
    }

    /** GPTQ parameters. groupSize -1 = one group per row. */
    public record Options(int bits, int groupSize, boolean sym, boolean actOrder, boolean staticGroups,
                          double dampPercent, boolean minZeroOne) {
        public Options {
            Rtn.checkBits(bits);
            if (groupSize != -1 && groupSize <= 0) throw new IllegalArgumentException("group size must be -1 or positive, got " + groupSize);
            if (!(dampPercent > 0 && dampPercent < 1)) throw new IllegalArgumentException("damp_percent must be in (0, 1), got " + dampPercent);
        }

        public static Options of(int bits, int groupSize) {
            return new Options(bits, groupSize, true, false, false, 0.01, true);
        }
    }

    /** The result and the damping that made H positive definite. */
    public record Result(QuantizedLinear quantized, double dampPercentUsed) {
    }

    /** Accumulates Σ x xᵀ (lower triangle, float) over batches of tokens; {@link #finish} gives H = 2/n · Σ. */
    public static final class Hessian {
        private final int n;
        private final float[] h;
        private long tokens;

        public Hessian(int n) {
            this.n = n;
            this.h = new float[n * n];
        }

        public int size() {
            return n;
        }

        public long tokens() {
            return tokens;
        }

        /**
         * Adds the outer products of {@code nTokens} rows of x (nTokens × n, row-major): Σ += Xᵀ X, lower triangle.
         * X is transposed once so that every entry is a dot product over the tokens ({@link Gemm#addGramLower}).
         */
        public void add(float[] x, int nTokens, dev.featherweight.kernels.core.Parallel pool) {
            if (nTokens <= 0) return;
            float[] xt = new float[n * nTokens];
            for (int t = 0; t < nTokens; t++) for (int i = 0; i < n; i++) xt[i * nTokens + t] = x[t * n + i];
            Gemm.addGramLower(1f, xt, n, nTokens, h, 0, n, pool);
            tokens += nTokens;
        }

        /** H = 2/n · Σ x xᵀ, full symmetric n × n (the accumulator is consumed). */
        public float[] finish() {
            if (tokens == 0) throw new IllegalStateException("no calibration tokens reached this layer");
            float f = (float) (2.0 / tokens);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    float v = h[i * n + j] * f;
                    h[i * n + j] = v;
                    h[j * n + i] = v;
                }
            }
            return h;
        }
    }

    /**
     * Quantizes W (rows × cols, row-major; modified: it ends up holding the error-compensated weights) with the
     * Hessian H (cols × cols; destroyed). {@code progress} (may be null) receives (columns done, cols).
     */
    public static Result quantize(float[] w, int rows, int cols, float[] h, Options o, dev.featherweight.kernels.core.Parallel pool) {
        int gs = o.groupSize() == -1 ? cols : o.groupSize();
        if (cols % gs != 0) throw new IllegalArgumentException("group size " + gs + " does not divide the row length " + cols);
        int maxq = (1 << o.bits()) - 1;

        // Dead inputs: never activated, so their weights do not matter; zero them and make H invertible.
        float[] diag = new float[cols];
        for (int i = 0; i < cols; i++) {
            if (h[i * cols + i] == 0) {
                h[i * cols + i] = 1;
                for (int r = 0; r < rows; r++) w[r * cols + i] = 0;
            }
            diag[i] = h[i * cols + i];
        }
        int groups = cols / gs;
        Rtn.Grid[] staticGrid = null;
        if (o.staticGroups() && o.groupSize() != -1) {
            staticGrid = new Rtn.Grid[groups * rows];
            for (int r = 0; r < rows; r++) for (int g = 0; g < groups; g++) staticGrid[g * rows + r] = rowGrid(w, r * cols + g * gs, gs, o);
        }
        int[] perm = new int[cols];
        for (int i = 0; i < cols; i++) perm[i] = i;
        if (o.actOrder()) {
            Integer[] p = new Integer[cols];
            for (int i = 0; i < cols; i++) p[i] = i;
            // torch.argsort(descending=True) is not stable; ties keep index order here.
            Arrays.sort(p, (a, b) -> Float.compare(diag[b], diag[a]));
            for (int i = 0; i < cols; i++) perm[i] = p[i];
            permuteColumns(w, rows, cols, perm);
            permuteSymmetric(h, cols, perm);
        }
        double damp = o.dampPercent();
        double meanDiag = 0;
        for (int i = 0; i < cols; i++) meanDiag += h[i * cols + i];
        meanDiag /= cols;
        float[] hDiag = new float[cols];
        for (int i = 0; i < cols; i++) hDiag[i] = h[i * cols + i];
        float[] hinv;
        while (true) {
            for (int i = 0; i < cols; i++) h[i * cols + i] = (float) (hDiag[i] + damp * meanDiag);
            if (upperCholeskyOfInverse(h, cols, pool)) {
                hinv = h;
                break;
            }
            // The failed factorization wrote the lower triangle of the reversed matrix, i.e. the upper triangle
            // (and diagonal) of H: restore it from the untouched lower triangle, then retry with more damping.
            restoreUpper(h, cols);
            damp += 0.0025;
            if (damp >= 1) throw new ArithmeticException("GPTQ: H is not positive definite even with damp_percent 1");
        }

        byte[] codes = new byte[rows * cols];          // permuted column order for now
        float[] scales = new float[groups * rows];
        int[] zeros = new int[groups * rows];
        DoubleAdder loss = new DoubleAdder();
        final Rtn.Grid[] sg = staticGrid;
        int chunk = 32;
        pool.forEach((rows + chunk - 1) / chunk, task -> {
            int r0 = task * chunk, r1 = Math.min(rows, r0 + chunk), nr = r1 - r0;
            float[] w1 = new float[nr * BLOCK];
            float[] err = new float[nr * BLOCK];
            Rtn.Grid[] cur = new Rtn.Grid[nr];
            double l = 0;
            if (o.groupSize() == -1) {
                for (int r = 0; r < nr; r++) {
                    cur[r] = rowGrid(w, (r0 + r) * cols, cols, o);
                    scales[r0 + r] = cur[r].scale();
                    zeros[r0 + r] = cur[r].zero();
                }
            }
            for (int i1 = 0; i1 < cols; i1 += BLOCK) {
                int i2 = Math.min(cols, i1 + BLOCK), count = i2 - i1;
                for (int r = 0; r < nr; r++) System.arraycopy(w, (r0 + r) * cols + i1, w1, r * BLOCK, count);
                for (int i = 0; i < count; i++) {
                    int col = i1 + i;
                    float d = hinv[col * cols + col];
                    for (int r = 0; r < nr; r++) {
                        int row = r0 + r;
                        Rtn.Grid grid;
                        if (o.groupSize() == -1) {
                            grid = cur[r];
                        } else if (sg != null) {
                            grid = sg[(perm[col] / gs) * rows + row];
                        } else {
                            if (col % gs == 0) {
                                // the group's grid from W as it stands (previous blocks' updates, not this block's)
                                int len = Math.min(gs, cols - col);
                                float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY;
                                for (int c = 0; c < len; c++) {
                                    float v = w[row * cols + col + c];
                                    mn = Math.min(mn, v);
                                    mx = Math.max(mx, v);
                                }
                                cur[r] = Rtn.grid(mn, mx, o.bits(), o.sym(), o.minZeroOne());
                                scales[(col / gs) * rows + row] = cur[r].scale();
                                zeros[(col / gs) * rows + row] = cur[r].zero();
                            }
                            grid = cur[r];
                        }
                        float x = w1[r * BLOCK + i];
                        int q = grid.quantize(x);
                        codes[row * cols + col] = (byte) q;
                        float dq = grid.dequantize(q);
                        l += (double) (x - dq) * (x - dq) / ((double) d * d) / 2;
                        float e = (x - dq) / d;
                        err[r * BLOCK + i] = e;
                        if (i + 1 < count) axpy(-e, hinv, col * cols + col + 1, w1, r * BLOCK + i + 1, count - i - 1);
                    }
                }
                // lazy batch update of the columns after the block: W[:, i2:] −= Err · Hinv[i1:i2, i2:]
                if (i2 < cols) Gemm.addProduct(-1f, err, 0, BLOCK, hinv, i1 * cols + i2, cols, w, r0 * cols + i2, cols, nr, count, cols - i2);
                // keep the (quantized) block values in W for the record
                for (int r = 0; r < nr; r++) System.arraycopy(w1, r * BLOCK, w, (r0 + r) * cols + i1, count);
            }
            loss.add(l);
        });
        int[] gIdx = new int[cols];
        byte[] out = new byte[rows * cols];
        for (int j = 0; j < cols; j++) {
            int c = perm[j];
            gIdx[c] = sg != null ? c / gs : j / gs;
            for (int r = 0; r < rows; r++) out[r * cols + c] = codes[r * cols + j];
        }
        if (sg != null) {
            for (int i = 0; i < sg.length; i++) {
                scales[i] = sg[i].scale();
                zeros[i] = sg[i].zero();
            }
        }
        return new Result(new QuantizedLinear(rows, cols, o.bits(), o.groupSize(), o.sym(), out, scales, zeros, gIdx, loss.sum()), damp);
    }

    private static Rtn.Grid rowGrid(float[] w, int off, int len, Options o) {
        float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < len; c++) {
            mn = Math.min(mn, w[off + c]);
            mx = Math.max(mx, w[off + c]);
        }
        return Rtn.grid(mn, mx, o.bits(), o.sym(), o.minZeroOne());
    }

    static void permuteColumns(float[] w, int rows, int cols, int[] perm) {
        float[] tmp = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) tmp[j] = w[r * cols + perm[j]];
            System.arraycopy(tmp, 0, w, r * cols, cols);
        }
    }

    static void permuteSymmetric(float[] h, int n, int[] perm) {
        permuteColumns(h, n, n, perm);
        float[] tmp = new float[n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) tmp[i] = h[perm[i] * n + j];
            for (int i = 0; i < n; i++) h[i * n + j] = tmp[i];
        }
    }

    private static void restoreUpper(float[] a, int n) {
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) a[i * n + j] = a[j * n + i];
    }

    /** Hinv: A replaced in place by the upper Cholesky factor of A⁻¹; false (A's lower triangle intact) if A is not positive definite. */
    static boolean upperCholeskyOfInverse(float[] a, int n, dev.featherweight.kernels.core.Parallel pool) {
        return CholeskyInverse.upperOfInverse(a, n, pool);
    }

    /** y[yo ..) += alpha · x[xo ..) for n elements. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int L = S.length(), i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = Math.fma(x[xo + i], alpha, y[yo + i]); // the lanes' fused operation: same bits at any width
    }

    /**
     * dot(a, b) with a fixed summation order: lanes are added one by one rather than with reduceLanes, whose
     * order may differ between the interpreter and compiled code — a resumed run must reproduce every bit. The lanes
     * are {@link MatmulKernel#VIRTUAL_LANES} whatever the CPU's width, so the bits are the same at 128, 256 and 512.
     */
    static double dot(float[] a, int ao, float[] b, int bo, int n) {
        int V = MatmulKernel.VIRTUAL_LANES, L = S.length(), end = n & -V;
        float[] lanes = LANES.get();
        double s = 0;
        for (int phase = 0; phase < V; phase += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int i = phase; i < end; i += V) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            acc.intoArray(lanes, 0);
            for (int k = 0; k < L; k++) s += lanes[k];
        }
        for (int i = end; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[S.length()]);

    /**
     * FLOPs of one quantize call, for benchmarks: Cholesky n³/3 + triangular inverse n³/3 + the column loop, where
     * column i updates the cols − i − 1 later weights of every row with one FMA each (rows · cols² flops).
     */
    public static double flops(int rows, int cols) {
        double n = cols;
        return 2 * n * n * n / 3 + (double) rows * n * n;
    }

    /** FLOPs of accumulating H over {@code tokens} tokens (upper triangle): tokens · cols² . */
    public static double hessianFlops(long tokens, int cols) {
        return (double) tokens * cols * (cols + 1);
    }
}
