package dev.featherweight.kernels.core;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batched matmul every {@link WeightMatrix} shares. Why it is tiled this way: a batch of prompt tokens
 * reads the same weights for every token, so each thread takes a tile of rows, decodes them once into a
 * float scratch sized to stay in L2 (≤ 128 KiB), then streams the tokens through it two at a time
 * against four rows at a time (8 independent FMA chains, 6 vector loads per 8 FMAs). Every weight row is
 * read from the mapped file and decoded exactly once per batch.
 */
public final class MatmulKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int TILE_FLOATS = 64 * 1024;
    /**
     * Products of fewer multiply-adds than this run on the calling thread: waking a worker costs a few microseconds,
     * about what 32 Ki multiply-adds take (a one-token product of a small model).
     */
    public static final long INLINE_WORK = 1 << 15;

    private MatmulKernel() {
    }

    /** Rows per tile for a row length: a multiple of 4 filling about 128 KiB. */
    static int tileRows(int cols, int rows) {
        int r = Math.max(4, (TILE_FLOATS / Math.max(1, cols)) & ~3);
        return Math.min(r, (rows + 3) & ~3);
    }

    public static void matmul(WeightMatrix w, float[] x, int nTokens, float[] out, Parallel pool) {
        tiled(w, x, nTokens, out, pool, 0, false);
    }

    /**
     * out = x·Wᵀ in the order of ggml's CPU backend built for vectors of {@code lanes} floats (16 = AVX-512, 8 = AVX2),
     * whatever this CPU's width, for a float weight (F32, or F16 with x already rounded to f16: the products are the
     * same). llamafile's tinyBLAS when it takes the product (rows a multiple of 4, cols of lanes): one FMA chain per
     * output and lane over the columns ≡ lane (mod lanes), then {@link #ggmlHsum}. Otherwise ggml_vec_dot_f32's
     * (f16: ggml_vec_dot_f16's) order, {@link #ggmlVecDot}. tinyBLAS also declines a product of one token (llama.cpp's
     * generation), which is not followed here: every batched llama.cpp run (perplexity, KL divergence, HellaSwag,
     * imatrix) multiplies many tokens at once, whatever the batch this caller splits.
     */
    public static void matmulGgml(WeightMatrix w, float[] x, int nTokens, float[] out, Parallel pool, int lanes, boolean f16) {
        if (lanes != 8 && lanes != 16) throw new IllegalArgumentException("lanes must be 8 or 16, got " + lanes);
        tiled(w, x, nTokens, out, pool, lanes, f16);
    }

    private static void tiled(WeightMatrix w, float[] x, int nTokens, float[] out, Parallel pool, int ggmlLanes, boolean f16) {
        int rows = w.rows(), cols = w.cols();
        if (x.length < (long) nTokens * cols) throw new IllegalArgumentException("x holds " + x.length + " floats, need " + (long) nTokens * cols);
        if (out.length < (long) nTokens * rows) throw new IllegalArgumentException("out holds " + out.length + " floats, need " + (long) nTokens * rows);
        int tile = tileRows(cols, rows);
        int nTiles = (rows + tile - 1) / tile;
        // Fewer tiles than threads would idle a core: shrink tiles for small matrices.
        while (nTiles < 2 * pool.threads() && tile > 4) {
            tile = Math.max(4, (tile / 2) & ~3);
            nTiles = (rows + tile - 1) / tile;
        }
        final int tileF = tile, nTilesF = nTiles;
        ThreadLocal<float[]> scratch = SCRATCH;
        pool.forEach(nTilesF, (long) rows * cols * nTokens, INLINE_WORK, ti -> {
            int r0 = ti * tileF, nr = Math.min(tileF, rows - r0);
            float[] wt = scratch.get();
            if (wt.length < nr * cols) {
                wt = new float[nr * cols];
                scratch.set(wt);
            }
            for (int r = 0; r < nr; r++) w.decodeRow(r0 + r, wt, r * cols);
            if (ggmlLanes == 0) {
                timesTransposed(wt, 0, nr, cols, x, 0, nTokens, out, rows, r0);
            } else if (rows % 4 == 0 && cols % ggmlLanes == 0) {
                timesTransposedTinyBlas(wt, nr, cols, x, nTokens, out, rows, r0, ggmlLanes);
            } else {
                float[] dotScratch = new float[4 * ggmlLanes];
                for (int t = 0; t < nTokens; t++) {
                    for (int r = 0; r < nr; r++) out[t * rows + r0 + r] = ggmlVecDot(wt, r * cols, x, t * cols, cols, ggmlLanes, f16, dotScratch);
                }
            }
        });
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * out[t·outStride + r0 + r] = dot(w[wOff + r·cols ..], x[xOff + t·cols ..]) over cols floats, for r &lt; nr and
     * t &lt; nTokens: C = X·Wᵀ for row-major float blocks (the same register tiles and fixed-order lane sums as the
     * matmul, so results are reproducible bit for bit). Single-threaded; callers split the work.
     */
    public static void timesTransposed(float[] w, int wOff, int nr, int cols, float[] x, int xOff, int nTokens, float[] out, int outStride, int r0) {
        // the tiles' 16 accumulators are stored here once per pass and their lanes added from memory: extracting lanes
        // from a register one at a time cost more than the FMAs of a 4×4 tile at hidden 256 (same order, same bits)
        float[] lanes = new float[16 * S.length()];
        int t = 0;
        // 4 tokens × 4 rows: 16 accumulators, 8 loads per 16 FMAs; the 4 token rows stay in L1/L2 across the tile.
        for (; t + 3 < nTokens; t += 4) {
            int r = 0;
            for (; r + 3 < nr; r += 4) dot4x4(w, wOff + r * cols, cols, x, xOff + t * cols, out, t * outStride + r0 + r, outStride, lanes);
            for (; r < nr; r++) {
                for (int u = 0; u < 4; u++) out[(t + u) * outStride + r0 + r] = dot(w, wOff + r * cols, x, xOff + (t + u) * cols, cols);
            }
        }
        for (; t + 1 < nTokens; t += 2) {
            int x0 = xOff + t * cols, x1 = x0 + cols;
            int r = 0;
            for (; r + 3 < nr; r += 4) dot4x2(w, wOff + r * cols, cols, x, x0, x1, out, t * outStride + r0 + r, (t + 1) * outStride + r0 + r, lanes);
            for (; r < nr; r++) {
                out[t * outStride + r0 + r] = dot(w, wOff + r * cols, x, x0, cols);
                out[(t + 1) * outStride + r0 + r] = dot(w, wOff + r * cols, x, x1, cols);
            }
        }
        if (t < nTokens) {
            int x0 = xOff + t * cols;
            for (int r = 0; r < nr; r++) out[t * outStride + r0 + r] = dot(w, wOff + r * cols, x, x0, cols);
        }
    }

    /**
     * Rows w0.. (4 consecutive rows of cols) times tokens x0.. (4 consecutive rows); out[o + u·stride + k] for token u,
     * row k. Summation order of {@link #VIRTUAL_LANES} lanes whatever the CPU's width: a CPU with fewer lanes runs
     * one pass per lane group ({@code phase}) over the same elements a wider one would give those lanes.
     */
    private static void dot4x4(float[] w, int w0, int cols, float[] x, int x0, float[] out, int o, int stride, float[] lanes) {
        int w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        int y1 = x0 + cols, y2 = y1 + cols, y3 = y2 + cols;
        float[] s = new float[16];
        int L = S.length(), upper = cols & -VIRTUAL_LANES;
        for (int phase = 0; phase < VIRTUAL_LANES; phase += L) {
            FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int i = phase; i < upper; i += VIRTUAL_LANES) {
                FloatVector v0 = FloatVector.fromArray(S, w, w0 + i);
                FloatVector v1 = FloatVector.fromArray(S, w, w1 + i);
                FloatVector v2 = FloatVector.fromArray(S, w, w2 + i);
                FloatVector v3 = FloatVector.fromArray(S, w, w3 + i);
                FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
                a00 = v0.fma(xv, a00); a01 = v1.fma(xv, a01); a02 = v2.fma(xv, a02); a03 = v3.fma(xv, a03);
                xv = FloatVector.fromArray(S, x, y1 + i);
                a10 = v0.fma(xv, a10); a11 = v1.fma(xv, a11); a12 = v2.fma(xv, a12); a13 = v3.fma(xv, a13);
                xv = FloatVector.fromArray(S, x, y2 + i);
                a20 = v0.fma(xv, a20); a21 = v1.fma(xv, a21); a22 = v2.fma(xv, a22); a23 = v3.fma(xv, a23);
                xv = FloatVector.fromArray(S, x, y3 + i);
                a30 = v0.fma(xv, a30); a31 = v1.fma(xv, a31); a32 = v2.fma(xv, a32); a33 = v3.fma(xv, a33);
            }
            // accumulator of token u and row c at lanes[(4u + c)·L]
            a00.intoArray(lanes, 0); a01.intoArray(lanes, L); a02.intoArray(lanes, 2 * L); a03.intoArray(lanes, 3 * L);
            a10.intoArray(lanes, 4 * L); a11.intoArray(lanes, 5 * L); a12.intoArray(lanes, 6 * L); a13.intoArray(lanes, 7 * L);
            a20.intoArray(lanes, 8 * L); a21.intoArray(lanes, 9 * L); a22.intoArray(lanes, 10 * L); a23.intoArray(lanes, 11 * L);
            a30.intoArray(lanes, 12 * L); a31.intoArray(lanes, 13 * L); a32.intoArray(lanes, 14 * L); a33.intoArray(lanes, 15 * L);
            addLanes(s, lanes, 16, L);
        }
        for (int i = upper; i < cols; i++) {
            float c0 = w[w0 + i], c1 = w[w1 + i], c2 = w[w2 + i], c3 = w[w3 + i];
            for (int u = 0; u < 4; u++) {
                float xu = x[x0 + u * cols + i];
                s[u * 4] += c0 * xu;
                s[u * 4 + 1] += c1 * xu;
                s[u * 4 + 2] += c2 * xu;
                s[u * 4 + 3] += c3 * xu;
            }
        }
        for (int u = 0; u < 4; u++) {
            int ou = o + u * stride;
            out[ou] = s[u * 4];
            out[ou + 1] = s[u * 4 + 1];
            out[ou + 2] = s[u * 4 + 2];
            out[ou + 3] = s[u * 4 + 3];
        }
    }

    private static void dot4x2(float[] w, int w0, int cols, float[] x, int x0, int x1, float[] out, int o0, int o1, float[] lanes) {
        int w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        float[] s = new float[8]; // row c, token a at 2c and token b at 2c + 1
        int L = S.length(), upper = cols & -VIRTUAL_LANES;
        for (int phase = 0; phase < VIRTUAL_LANES; phase += L) {
            FloatVector a00 = FloatVector.zero(S), a10 = a00, a20 = a00, a30 = a00;
            FloatVector a01 = a00, a11 = a00, a21 = a00, a31 = a00;
            for (int i = phase; i < upper; i += VIRTUAL_LANES) {
                FloatVector xa = FloatVector.fromArray(S, x, x0 + i);
                FloatVector xb = FloatVector.fromArray(S, x, x1 + i);
                FloatVector v0 = FloatVector.fromArray(S, w, w0 + i);
                FloatVector v1 = FloatVector.fromArray(S, w, w1 + i);
                FloatVector v2 = FloatVector.fromArray(S, w, w2 + i);
                FloatVector v3 = FloatVector.fromArray(S, w, w3 + i);
                a00 = v0.fma(xa, a00); a01 = v0.fma(xb, a01);
                a10 = v1.fma(xa, a10); a11 = v1.fma(xb, a11);
                a20 = v2.fma(xa, a20); a21 = v2.fma(xb, a21);
                a30 = v3.fma(xa, a30); a31 = v3.fma(xb, a31);
            }
            // accumulator of row c for token a at lanes[2c·L], for token b at lanes[(2c + 1)·L]
            a00.intoArray(lanes, 0); a01.intoArray(lanes, L); a10.intoArray(lanes, 2 * L); a11.intoArray(lanes, 3 * L);
            a20.intoArray(lanes, 4 * L); a21.intoArray(lanes, 5 * L); a30.intoArray(lanes, 6 * L); a31.intoArray(lanes, 7 * L);
            addLanes(s, lanes, 8, L);
        }
        for (int i = upper; i < cols; i++) {
            float xa = x[x0 + i], xb = x[x1 + i];
            s[0] += w[w0 + i] * xa; s[1] += w[w0 + i] * xb;
            s[2] += w[w1 + i] * xa; s[3] += w[w1 + i] * xb;
            s[4] += w[w2 + i] * xa; s[5] += w[w2 + i] * xb;
            s[6] += w[w3 + i] * xa; s[7] += w[w3 + i] * xb;
        }
        out[o0] = s[0]; out[o0 + 1] = s[2]; out[o0 + 2] = s[4]; out[o0 + 3] = s[6];
        out[o1] = s[1]; out[o1 + 1] = s[3]; out[o1 + 2] = s[5]; out[o1 + 3] = s[7];
    }

    /**
     * The lane count every float sum of the forward pass is ordered by, whatever the CPU's: lane k of a sum holds the
     * elements ≡ k (mod 16) and the lanes are added one by one, lane 0 first. A 16-lane CPU does that in one pass; an
     * 8- or 4-lane one in 2 or 4 passes over the same elements, so logits, perplexities and calibrated artifacts are
     * the same bits at 128, 256 and 512 bits.
     */
    public static final int VIRTUAL_LANES = 16;

    static {
        if (VIRTUAL_LANES % S.length() != 0) throw new ExceptionInInitializerError("vectors of " + S.length() + " floats: more than " + VIRTUAL_LANES);
    }

    /**
     * Σ of the lanes, lane 0 first — the order of the Vector API's Java fallback. lanewise reduceLanes(ADD) may
     * add in another order once C2 compiles it, so the same forward pass would give different bits before and
     * after warm-up; calibration (GPTQ/AWQ, resumable runs) must reproduce every bit.
     */
    public static float sumLanes(FloatVector v) {
        return addLanes(0f, v);
    }

    /** sums[k] += lanes[k·L], lanes[k·L + 1], … in that order, for k &lt; n: {@link #addLanes(float, FloatVector)} of n stored vectors. */
    private static void addLanes(float[] sums, float[] lanes, int n, int L) {
        for (int k = 0; k < n; k++) {
            float acc = sums[k];
            for (int i = k * L, end = i + L; i < end; i++) acc += lanes[i];
            sums[k] = acc;
        }
    }

    /** s + lane 0 + lane 1 + … in that order: one pass of a {@link #VIRTUAL_LANES} sum on a narrower CPU. */
    public static float addLanes(float s, FloatVector v) {
        // lane(i) with the constant indices of this unrolled loop is one register extract each: no store to memory
        // and no thread-local buffer (which cost more than the 4×4 tile's FMAs on a model of hidden 256)
        for (int i = 0; i < S.length(); i++) s += v.lane(i);
        return s;
    }

    /** Dot product of a[ao ..) and b[bo ..) over n floats, in the {@link #VIRTUAL_LANES} order (two chains of 16). */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int L = S.length(), end = n & -VIRTUAL_LANES;
        float s = 0;
        for (int phase = 0; phase < VIRTUAL_LANES; phase += L) {
            FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
            int i = phase;
            for (; i + 2 * VIRTUAL_LANES - phase <= n; i += 2 * VIRTUAL_LANES) {
                acc0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc0);
                acc1 = FloatVector.fromArray(S, a, ao + i + VIRTUAL_LANES).fma(FloatVector.fromArray(S, b, bo + i + VIRTUAL_LANES), acc1);
            }
            if (i + VIRTUAL_LANES - phase <= n) acc0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc0);
            s = addLanes(s, acc0.add(acc1));
        }
        for (int i = end; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** The vectors of the llama.cpp-order kernels: at most 8 floats, so both 8 and 16 emulated lanes are whole passes. */
    private static final VectorSpecies<Float> G = S.length() > 8 ? FloatVector.SPECIES_256 : S;

    /**
     * llama.cpp's horizontal sum of one vector of {@code lanes} floats a[o ..]: tinyBLAS's hsum on AVX (upper 128 bits
     * onto the lower, then movehl and movehdup) and gcc 12's {@code _mm512_reduce_add_ps} (upper 256 onto the lower,
     * then the same) are one tree — halves folded onto the lower half down to four lanes c0 … c3, then
     * (c0 + c2) + (c1 + c3).
     */
    public static float ggmlHsum(float[] a, int o, int lanes) {
        float c0, c1, c2, c3;
        if (lanes == 16) {
            float b0 = a[o] + a[o + 8], b1 = a[o + 1] + a[o + 9], b2 = a[o + 2] + a[o + 10], b3 = a[o + 3] + a[o + 11];
            float b4 = a[o + 4] + a[o + 12], b5 = a[o + 5] + a[o + 13], b6 = a[o + 6] + a[o + 14], b7 = a[o + 7] + a[o + 15];
            c0 = b0 + b4;
            c1 = b1 + b5;
            c2 = b2 + b6;
            c3 = b3 + b7;
        } else if (lanes == 8) {
            c0 = a[o] + a[o + 4];
            c1 = a[o + 1] + a[o + 5];
            c2 = a[o + 2] + a[o + 6];
            c3 = a[o + 3] + a[o + 7];
        } else {
            throw new IllegalArgumentException("lanes must be 8 or 16, got " + lanes);
        }
        return (c0 + c2) + (c1 + c3);
    }

    /**
     * ggml_vec_dot_f32 (f16: ggml_vec_dot_f16 on f16-valued inputs) as built for vectors of {@code lanes} floats: four
     * accumulators over steps of 4·lanes, folded (0 + 2, 1 + 3, then 0 + 1), the vector summed — AVX-512 by the tree,
     * AVX2 by two hadds after the 128-bit fold, (t0 + t1) + (t2 + t3) — and the tail: f16 in double; f32 in float as gcc
     * 12 compiled it for AVX2 (products of four at a time added in order, the last n mod 4 fused). Scalar: the fallback
     * of shapes tinyBLAS declines. scratch: at least 4·lanes floats.
     */
    public static float ggmlVecDot(float[] a, int ao, float[] b, int bo, int n, int lanes, boolean f16, float[] scratch) {
        int step = 4 * lanes, np = n - n % step;
        float[] s = scratch;
        java.util.Arrays.fill(s, 0, step, 0f);
        for (int i = 0; i < np; i += step) {
            for (int k = 0; k < step; k++) s[k] = Math.fma(a[ao + i + k], b[bo + i + k], s[k]);
        }
        for (int k = 0; k < lanes; k++) {
            s[k] += s[2 * lanes + k];
            s[lanes + k] += s[3 * lanes + k];
            s[k] += s[lanes + k];
        }
        float r = lanes == 16 ? ggmlHsum(s, 0, 16) : ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
        int i = np;
        if (f16) {
            double d = r;
            for (; i < n; i++) d += a[ao + i] * b[bo + i];
            return (float) d;
        }
        for (; i + 4 <= n; i += 4) {
            for (int k = 0; k < 4; k++) r += a[ao + i + k] * b[bo + i + k];
        }
        for (; i < n; i++) r = Math.fma(a[ao + i], b[bo + i], r);
        return r;
    }

    /** {@link #timesTransposed} in tinyBLAS's order for {@code lanes} lanes (cols a multiple of lanes); the same tiles. */
    private static void timesTransposedTinyBlas(float[] w, int nr, int cols, float[] x, int nTokens, float[] out, int outStride, int r0, int lanes) {
        float[] buf = new float[16 * lanes];
        int t = 0;
        for (; t + 3 < nTokens; t += 4) {
            int r = 0;
            for (; r + 3 < nr; r += 4) tinyBlas4x4(w, r * cols, cols, x, t * cols, out, t * outStride + r0 + r, outStride, buf, lanes);
            for (; r < nr; r++) {
                for (int u = 0; u < 4; u++) out[(t + u) * outStride + r0 + r] = tinyBlasDot(w, r * cols, x, (t + u) * cols, cols, buf, lanes);
            }
        }
        for (; t < nTokens; t++) {
            for (int r = 0; r < nr; r++) out[t * outStride + r0 + r] = tinyBlasDot(w, r * cols, x, t * cols, cols, buf, lanes);
        }
    }

    /** 4 rows × 4 tokens, one FMA chain per output and lane; a CPU with fewer lanes runs one pass per lane group. */
    private static void tinyBlas4x4(float[] w, int w0, int cols, float[] x, int x0, float[] out, int o, int stride, float[] buf, int lanes) {
        int w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        int y1 = x0 + cols, y2 = y1 + cols, y3 = y2 + cols;
        int L = G.length();
        for (int phase = 0; phase < lanes; phase += L) {
            FloatVector a00 = FloatVector.zero(G), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int i = phase; i < cols; i += lanes) {
                FloatVector v0 = FloatVector.fromArray(G, w, w0 + i);
                FloatVector v1 = FloatVector.fromArray(G, w, w1 + i);
                FloatVector v2 = FloatVector.fromArray(G, w, w2 + i);
                FloatVector v3 = FloatVector.fromArray(G, w, w3 + i);
                FloatVector xv = FloatVector.fromArray(G, x, x0 + i);
                a00 = v0.fma(xv, a00); a01 = v1.fma(xv, a01); a02 = v2.fma(xv, a02); a03 = v3.fma(xv, a03);
                xv = FloatVector.fromArray(G, x, y1 + i);
                a10 = v0.fma(xv, a10); a11 = v1.fma(xv, a11); a12 = v2.fma(xv, a12); a13 = v3.fma(xv, a13);
                xv = FloatVector.fromArray(G, x, y2 + i);
                a20 = v0.fma(xv, a20); a21 = v1.fma(xv, a21); a22 = v2.fma(xv, a22); a23 = v3.fma(xv, a23);
                xv = FloatVector.fromArray(G, x, y3 + i);
                a30 = v0.fma(xv, a30); a31 = v1.fma(xv, a31); a32 = v2.fma(xv, a32); a33 = v3.fma(xv, a33);
            }
            // the lanes of token u and row c at buf[(4u + c)·lanes ..]
            a00.intoArray(buf, phase); a01.intoArray(buf, lanes + phase); a02.intoArray(buf, 2 * lanes + phase); a03.intoArray(buf, 3 * lanes + phase);
            a10.intoArray(buf, 4 * lanes + phase); a11.intoArray(buf, 5 * lanes + phase); a12.intoArray(buf, 6 * lanes + phase); a13.intoArray(buf, 7 * lanes + phase);
            a20.intoArray(buf, 8 * lanes + phase); a21.intoArray(buf, 9 * lanes + phase); a22.intoArray(buf, 10 * lanes + phase); a23.intoArray(buf, 11 * lanes + phase);
            a30.intoArray(buf, 12 * lanes + phase); a31.intoArray(buf, 13 * lanes + phase); a32.intoArray(buf, 14 * lanes + phase); a33.intoArray(buf, 15 * lanes + phase);
        }
        for (int u = 0; u < 4; u++) {
            for (int c = 0; c < 4; c++) out[o + u * stride + c] = ggmlHsum(buf, (4 * u + c) * lanes, lanes);
        }
    }

    /** One output of tinyBLAS: a chain per lane over the columns ≡ lane (mod lanes), then {@link #ggmlHsum}. */
    private static float tinyBlasDot(float[] a, int ao, float[] b, int bo, int n, float[] buf, int lanes) {
        int L = G.length();
        for (int phase = 0; phase < lanes; phase += L) {
            FloatVector acc = FloatVector.zero(G);
            for (int i = phase; i < n; i += lanes) acc = FloatVector.fromArray(G, a, ao + i).fma(FloatVector.fromArray(G, b, bo + i), acc);
            acc.intoArray(buf, phase);
        }
        return ggmlHsum(buf, 0, lanes);
    }
}
