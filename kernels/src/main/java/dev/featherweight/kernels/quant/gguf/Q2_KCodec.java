package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * Q2_K ({@code block_q2_K}, 256 weights in 16 sub-blocks of 16, 84 bytes = 2.625 bpw):
 * {@code scales[16]} (low nibble 4-bit scale, high nibble 4-bit min per sub-block), {@code qs[64]}
 * (2-bit quants, four 32-weight strips per byte), then fp16 {@code d} and {@code dmin}.
 * x ≈ d·sc·q - dmin·m.
 * <ul>
 * <li>No imatrix, {@code quantize_row_q2_K_ref}: per sub-block make_qkx2_quants(16, 3, weights |x|,
 *     rmin -0.5, rdelta 0.1, 15 steps, mean absolute error), scales/mins to 4 bits against their maxima,
 *     then the quants recomputed with the fp16-rounded d/dmin.</li>
 * <li>Imatrix, {@code quantize_row_q2_K_impl}: weights qw·sqrt(σ² + x²) with σ² = Σx²/256 of the
 *     super-block, make_qkx3_quants(16, 3, …, -0.9, 0.05, 36), and the 4-bit scales and mins found by
 *     make_qp_quants weighted by each sub-block's summed weight.</li>
 * </ul>
 */
final class Q2_KCodec extends BlockCodec {
    static final int QK_K = GgmlType.Q2_K.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q2_K.typeSize;
    private static final int SCALES = 0, QS = 16, D = 80, DMIN = 82;

    Q2_KCodec() {
        super(GgmlType.Q2_K, D, DMIN);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) quantizeRef(x, xo, n, y);
        else quantizeImpl(x, xo, n, y, qw);
    }

    private static void quantizeRef(float[] x, int xo, int n, byte[] y) {
        byte[] L = new byte[QK_K];
        float[] xt = new float[128];
        float[] wt = new float[128];
        float[] st = new float[LaneSearch.STATE];
        float[] Lt = new float[128];
        float[] Laux = new float[128];
        float[] mins = new float[QK_K / 16];
        float[] scales = new float[QK_K / 16];
        final float q4scale = 15.f;
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * BLOCK_BYTES;
            // Sixteen sub-blocks of 16, searched eight at a time, one per SIMD lane.
            for (int g = 0; g < 2; g++) {
                LaneSearch.transpose(x, bx + 128 * g, 16, 8, xt);
                for (int k = 0; k < 128; k++) wt[k] = Math.abs(xt[k]);
                LaneSearch.makeQkx2Quants(16, 3, xt, wt, Lt, Laux, scales, mins, 8 * g, -0.5f, 0.1f, 15, true, st);
                LaneSearch.untranspose(Lt, 16, 8, L, 128 * g);
            }
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            if (maxScale > 0) {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) y[by + SCALES + j] = (byte) nearestInt(iscale * scales[j]);
                putFp16(y, by + D, maxScale / q4scale);
            } else {
                for (int j = 0; j < QK_K / 16; ++j) y[by + SCALES + j] = 0;
                putFp16(y, by + D, 0.f);
            }
            if (maxMin > 0) {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < QK_K / 16; ++j) y[by + SCALES + j] |= (byte) (nearestInt(iscale * mins[j]) << 4);
                putFp16(y, by + DMIN, maxMin / q4scale);
            } else {
                putFp16(y, by + DMIN, 0.f);
            }
            requantize(x, bx, y, by, getFp16(y, by + D), getFp16(y, by + DMIN), L);
            pack(L, y, by);
        }
    }

    private static void quantizeImpl(float[] x, int xo, int n, byte[] y, float[] qw) {
        byte[] L = new byte[QK_K];
        float[] mins = new float[QK_K / 16];
        float[] scales = new float[QK_K / 16];
        float[] sw = new float[QK_K / 16];
        float[] weight = new float[QK_K];
        float[] xt = new float[128];
        float[] wt = new float[128];
        float[] Lt = new float[128];
        float[] LauxT = new float[128];
        float[] st = new float[LaneSearch.STATE];
        byte[] Ls = new byte[QK_K / 16];
        byte[] Lm = new byte[QK_K / 16];
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * BLOCK_BYTES;
            java.util.Arrays.fill(sw, 0);
            float sumx2 = 0;
            for (int j = 0; j < QK_K; ++j) sumx2 += x[bx + j] * x[bx + j];
            float sigma2 = sumx2 / QK_K;
            for (int j = 0; j < QK_K / 16; ++j) {
                int qo = QK_K * i + 16 * j;
                for (int l = 0; l < 16; ++l) {
                    float xl = x[bx + 16 * j + l];
                    weight[16 * j + l] = qw[qo + l] * (float) Math.sqrt(sigma2 + xl * xl);
                }
                for (int l = 0; l < QK_K / 16; ++l) sw[j] += weight[16 * j + l];
            }
            // make_qkx3_quants(16, 3, …, -0.9, 0.05, 36) eight sub-blocks at a time (see Q4_K for why the
            // lane version of make_qkx2_quants computes it).
            for (int g = 0; g < 2; g++) {
                LaneSearch.transpose(x, bx + 128 * g, 16, 8, xt);
                LaneSearch.transpose(weight, 128 * g, 16, 8, wt);
                LaneSearch.makeQkx2Quants(16, 3, xt, wt, Lt, LauxT, scales, mins, 8 * g, -0.9f, 0.05f, 36, false, st);
                LaneSearch.untranspose(Lt, 16, 8, L, 128 * g);
            }
            float dm = QuantSearch.makeQpQuants(QK_K / 16, 15, scales, Ls, sw);
            float mm = QuantSearch.makeQpQuants(QK_K / 16, 15, mins, Lm, sw);
            putFp16(y, by + D, dm);
            putFp16(y, by + DMIN, mm);
            dm = getFp16(y, by + D);
            mm = getFp16(y, by + DMIN);
            for (int j = 0; j < QK_K / 16; ++j) y[by + SCALES + j] = (byte) ((Ls[j] & 0xFF) | (Lm[j] << 4));
            requantize(x, bx, y, by, dm, mm, L);
            pack(L, y, by);
        }
    }

    /** Final quants from the stored (fp16-rounded) super-scales; sub-blocks with a zero scale keep the search's L. */
    private static void requantize(float[] x, int bx, byte[] y, int by, float dAll, float mAll, byte[] L) {
        int[] tmp = new int[LaneSearch.LANES];
        for (int j = 0; j < QK_K / 16; ++j) {
            int sc = y[by + SCALES + j] & 0xFF;
            float d = dAll * (sc & 0xF);
            if (d == 0) continue;
            float dm = mAll * (sc >> 4);
            LaneSearch.requantize(x, bx + 16 * j, 16, dm, d, 0, 3, 0, L, 16 * j, tmp);
        }
    }

    private static void pack(byte[] L, byte[] y, int by) {
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                y[by + QS + j / 4 + l] = (byte) (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        int out = xo;
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int by = i * BLOCK_BYTES;
            float d = getFp16(y, by + D);
            float min = getFp16(y, by + DMIN);
            int q = by + QS;
            int is = 0;
            for (int nn = 0; nn < QK_K; nn += 128) {
                int shift = 0;
                for (int j = 0; j < 4; ++j) {
                    int sc = y[by + SCALES + is++] & 0xFF;
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l) x[out++] = dl * (((y[q + l] & 0xFF) >> shift) & 3) - ml;
                    sc = y[by + SCALES + is++] & 0xFF;
                    dl = d * (sc & 0xF);
                    ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l) x[out++] = dl * (((y[q + l + 16] & 0xFF) >> shift) & 3) - ml;
                    shift += 2;
                }
                q += 32;
            }
        }
    }
}
