package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.core.Gemm;
import dev.featherweight.kernels.core.Parallel;

/**
 * U, the upper Cholesky factor of A⁻¹ (A⁻¹ = Uᵀ U), computed in place in A's n × n row-major array: GPTQ's Hinv.
 * With P the order reversal, PAP = L Lᵀ gives A⁻¹ = (P L⁻ᵀ P)(P L⁻¹ P), and P L⁻¹ P is upper triangular with a
 * positive diagonal, hence the factor. Reversing both indices is reversing the flat array, so no second n² buffer
 * is needed (a 7B down_proj's H alone is 485 MB).
 *
 * <p>Both n³/6-FMA steps are blocked by panels of {@value #NB} so that almost all of their work is a matrix
 * product on all threads: the Cholesky's trailing update is a symmetric rank-{@value #NB} product
 * ({@link Gemm#addGramLower}), and the triangular inverse's off-diagonal rows are a product with the
 * rows already inverted ({@link Gemm}). Every element is computed by the same sequence of operations whatever the
 * thread count, so a resumed quantization reproduces its bytes.
 */
final class CholeskyInverse {
    static final int NB = 128;

    private CholeskyInverse() {
    }

    /**
     * Replaces A (symmetric positive definite) by U; returns false when A is not positive definite, with A's
     * lower triangle intact (only the upper triangle and diagonal of A are written before the failure is found).
     */
    static boolean upperOfInverse(float[] a, int n, Parallel pool) {
        reverse(a);
        if (!choleskyLower(a, n, pool)) {
            reverse(a);
            return false;
        }
        // The strict upper triangle held A (for a retry with more damping); from here on it must read as zeros.
        for (int i = 0; i < n; i++) java.util.Arrays.fill(a, i * n + i + 1, (i + 1) * n, 0f);
        invertLower(a, n, pool);
        reverse(a);
        return true;
    }

    private static void reverse(float[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            float t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /**
     * In-place lower Cholesky, right-looking by panels: factor the diagonal block, solve the panel below it, then
     * subtract the panel's outer product from the trailing lower triangle. Only the lower triangle and diagonal
     * are read or written.
     */
    static boolean choleskyLower(float[] a, int n, Parallel pool) {
        float[] panel = new float[0];
        for (int panelStart = 0; panelStart < n; panelStart += NB) {
            final int k0 = panelStart, k1 = Math.min(n, k0 + NB), kb = k1 - k0;
            for (int i = k0; i < k1; i++) {
                int ri = i * n;
                for (int j = k0; j <= i; j++) {
                    int rj = j * n;
                    double s = a[ri + j] - Gptq.dot(a, ri + k0, a, rj + k0, j - k0);
                    if (i == j) {
                        if (!(s > 0)) return false;
                        a[ri + i] = (float) Math.sqrt(s);
                    } else {
                        a[ri + j] = (float) (s / a[rj + j]);
                    }
                }
            }
            int m = n - k1;
            if (m == 0) break;
            int rowsPerTask = 32;
            pool.forEach((m + rowsPerTask - 1) / rowsPerTask, task -> {
                int i1 = Math.min(n, k1 + (task + 1) * rowsPerTask);
                for (int i = k1 + task * rowsPerTask; i < i1; i++) {
                    int ri = i * n;
                    for (int j = k0; j < k1; j++) {
                        int rj = j * n;
                        a[ri + j] = (float) ((a[ri + j] - Gptq.dot(a, ri + k0, a, rj + k0, j - k0)) / a[rj + j]);
                    }
                }
            });
            if (panel.length < m * kb) panel = new float[m * kb];
            for (int i = 0; i < m; i++) System.arraycopy(a, (k1 + i) * n + k0, panel, i * kb, kb);
            Gemm.addGramLower(-1f, panel, m, kb, a, k1 * n + k1, n, pool);
        }
        return true;
    }

    /**
     * In-place inverse X = L⁻¹ of a lower-triangular L whose strict upper triangle is zero, by row panels B top
     * to bottom: X[B, :b0] = −D⁻¹ (L[B, :b0] · X[:b0, :b0] + L[B, B] · X[B, :b0]) where the first product is one
     * matrix product (rows above are final) and the second is solved row by row; then X[B, B] = L[B, B]⁻¹.
     */
    static void invertLower(float[] a, int n, Parallel pool) {
        float[] t = new float[Math.min(NB, n) * n], row = new float[NB];
        int chunk = Gemm.COLS_CHUNK;
        for (int blockStart = 0; blockStart < n; blockStart += NB) {
            final int b0 = blockStart, b1 = Math.min(n, b0 + NB), nb = b1 - b0, width = b0;
            if (b0 > 0) {
                int tasks = (width + chunk - 1) / chunk;
                // T[i][c] = Σ_{k<b0} L[i][k] X[k][c]; X[k][c] = 0 for k < c, so each column chunk starts at k = c0.
                pool.forEach(tasks, task -> {
                    int c0 = task * chunk, cw = Math.min(width, c0 + chunk) - c0;
                    for (int i = 0; i < nb; i++) java.util.Arrays.fill(t, i * width + c0, i * width + c0 + cw, 0f);
                    for (int k0 = c0; k0 < b0; k0 += NB) {
                        int kc = Math.min(b0, k0 + NB) - k0;
                        Gemm.addProduct(1f, a, b0 * n + k0, n, a, k0 * n + c0, n, t, c0, width, nb, kc, cw);
                    }
                });
                // Rows of B in order (each needs the rows of B above it), columns in parallel.
                pool.forEach(tasks, task -> {
                    int c0 = task * chunk, cw = Math.min(width, c0 + chunk) - c0;
                    for (int i = b0; i < b1; i++) {
                        int ti = (i - b0) * width + c0;
                        Gemm.addProduct(1f, a, i * n + b0, n, a, b0 * n + c0, n, t, ti, width, 1, i - b0, cw);
                        float inv = -1f / a[i * n + i];
                        for (int c = 0; c < cw; c++) a[i * n + c0 + c] = t[ti + c] * inv;
                    }
                });
            }
            // the diagonal block, row by row from the rows above it
            for (int i = b0; i < b1; i++) {
                int ri = i * n;
                java.util.Arrays.fill(row, 0, nb, 0f);
                for (int k = b0; k < i; k++) {
                    float lik = a[ri + k];
                    if (lik != 0) Gptq.axpy(lik, a, k * n + b0, row, 0, k - b0 + 1);
                }
                float inv = 1f / a[ri + i];
                for (int j = b0; j < i; j++) a[ri + j] = -row[j - b0] * inv;
                a[ri + i] = inv;
            }
        }
    }
}
