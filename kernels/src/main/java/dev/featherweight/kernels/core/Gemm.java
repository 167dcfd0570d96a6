package dev.featherweight.kernels.core;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C += alpha · A · B for row-major float blocks inside larger arrays (offset + row stride each), single-threaded:
 * the rank-k update GPTQ's lazy batch update and the blocked triangular inverse are made of. Why it is shaped this
 * way: B's rows are contiguous, so C's rows are built by broadcasting one A element against a vector of B (no lane
 * reductions, so the result is the same bits however the caller splits the work); columns go in chunks of
 * {@value #COLS_CHUNK} so the chunk of B (k × chunk) stays in L1/L2 while every row of A passes over it, and four
 * rows of C times two vectors are kept in registers across the whole k loop (8 FMAs per 2 vector loads and 4
 * broadcasts). {@link #addGramLower} is the symmetric product both GPTQ steps need (Hessian, Cholesky update).
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    public static final int COLS_CHUNK = 64;

    private Gemm() {
    }

    /** C[0..m)[0..n) += alpha · Σ_{p<k} A[·][p] · B[p][·]. */
    public static void addProduct(float alpha, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride,
                           float[] c, int cOff, int cStride, int m, int k, int n) {
        if (m <= 0 || k <= 0 || n <= 0) return;
        int L = S.length();
        for (int c0 = 0; c0 < n; c0 += COLS_CHUNK) {
            int c1 = Math.min(n, c0 + COLS_CHUNK);
            int vEnd = c0 + ((c1 - c0) / (2 * L)) * (2 * L);
            int r = 0;
            for (; r + 3 < m; r += 4) {
                int a0 = aOff + r * aStride, a1 = a0 + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
                int o0 = cOff + r * cStride, o1 = o0 + cStride, o2 = o1 + cStride, o3 = o2 + cStride;
                for (int col = c0; col < vEnd; col += 2 * L) {
                    FloatVector s00 = FloatVector.zero(S), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
                    for (int p = 0; p < k; p++) {
                        int bp = bOff + p * bStride + col;
                        FloatVector x0 = FloatVector.fromArray(S, b, bp), x1 = FloatVector.fromArray(S, b, bp + L);
                        FloatVector v = FloatVector.broadcast(S, a[a0 + p]);
                        s00 = x0.fma(v, s00);
                        s01 = x1.fma(v, s01);
                        v = FloatVector.broadcast(S, a[a1 + p]);
                        s10 = x0.fma(v, s10);
                        s11 = x1.fma(v, s11);
                        v = FloatVector.broadcast(S, a[a2 + p]);
                        s20 = x0.fma(v, s20);
                        s21 = x1.fma(v, s21);
                        v = FloatVector.broadcast(S, a[a3 + p]);
                        s30 = x0.fma(v, s30);
                        s31 = x1.fma(v, s31);
                    }
                    accumulate(alpha, s00, c, o0 + col);
                    accumulate(alpha, s01, c, o0 + col + L);
                    accumulate(alpha, s10, c, o1 + col);
                    accumulate(alpha, s11, c, o1 + col + L);
                    accumulate(alpha, s20, c, o2 + col);
                    accumulate(alpha, s21, c, o2 + col + L);
                    accumulate(alpha, s30, c, o3 + col);
                    accumulate(alpha, s31, c, o3 + col + L);
                }
                for (int u = 0; u < 4; u++) scalarTail(alpha, a, aOff + (r + u) * aStride, b, bOff, bStride, c, cOff + (r + u) * cStride, k, vEnd, c1);
            }
            for (; r < m; r++) {
                int ar = aOff + r * aStride, or = cOff + r * cStride;
                for (int col = c0; col < vEnd; col += 2 * L) {
                    FloatVector s0 = FloatVector.zero(S), s1 = s0;
                    for (int p = 0; p < k; p++) {
                        int bp = bOff + p * bStride + col;
                        FloatVector v = FloatVector.broadcast(S, a[ar + p]);
                        s0 = FloatVector.fromArray(S, b, bp).fma(v, s0);
                        s1 = FloatVector.fromArray(S, b, bp + L).fma(v, s1);
                    }
                    accumulate(alpha, s0, c, or + col);
                    accumulate(alpha, s1, c, or + col + L);
                }
                scalarTail(alpha, a, ar, b, bOff, bStride, c, or, k, vEnd, c1);
            }
        }
    }

    private static final int GRAM_TILE = 64;
    private static final ThreadLocal<float[]> GRAM_OUT = ThreadLocal.withInitial(() -> new float[GRAM_TILE * GRAM_TILE]);

    /**
     * The lower triangle of C += alpha · P Pᵀ, for P with m rows of k contiguous floats: C[cOff + i·cStride + j] for
     * j ≤ i &lt; m. Pairs of {@value #GRAM_TILE}-row tiles on or below the diagonal are spread over the pool, each
     * computed by the matmul's register tiles ({@link MatmulKernel#timesTransposed}); every element is the same
     * sequence of operations whatever the thread count.
     */
    public static void addGramLower(float alpha, float[] p, int m, int k, float[] c, int cOff, int cStride, Parallel pool) {
        int tiles = (m + GRAM_TILE - 1) / GRAM_TILE;
        pool.forEach(tiles * (tiles + 1) / 2, task -> {
            int bi = (int) ((Math.sqrt(8.0 * task + 1) - 1) / 2);   // task → (bi, bj), bj ≤ bi, row by row
            while (bi * (bi + 1) / 2 > task) bi--;
            while ((bi + 1) * (bi + 2) / 2 <= task) bi++;
            int bj = task - bi * (bi + 1) / 2;
            int ni = Math.min(GRAM_TILE, m - bi * GRAM_TILE), nj = Math.min(GRAM_TILE, m - bj * GRAM_TILE);
            float[] t = GRAM_OUT.get();
            // t[u·TILE + r] = P[bi·TILE + u] · P[bj·TILE + r]
            MatmulKernel.timesTransposed(p, bj * GRAM_TILE * k, nj, k, p, bi * GRAM_TILE * k, ni, t, GRAM_TILE, 0);
            for (int u = 0; u < ni; u++) {
                int row = cOff + (bi * GRAM_TILE + u) * cStride + bj * GRAM_TILE;
                int last = bi == bj ? u : nj - 1;
                for (int r = 0; r <= last; r++) c[row + r] += alpha * t[u * GRAM_TILE + r];
            }
        });
    }

    private static void accumulate(float alpha, FloatVector sum, float[] c, int at) {
        FloatVector.fromArray(S, c, at).add(sum.mul(alpha)).intoArray(c, at);
    }

    private static void scalarTail(float alpha, float[] a, int ar, float[] b, int bOff, int bStride, float[] c, int or, int k, int from, int to) {
        for (int col = from; col < to; col++) {
            float s = 0;
            for (int p = 0; p < k; p++) s = Math.fma(a[ar + p], b[bOff + p * bStride + col], s);
            c[or + col] += alpha * s;
        }
    }
}
