package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * Q3_K ({@code block_q3_K}, 256 weights in 16 sub-blocks of 16, 110 bytes = 3.4375 bpw):
 * {@code hmask[32]} (third bit of weight j in byte j%32, bit j/32), {@code qs[64]} (low 2 bits, packed as
 * Q2_K), {@code scales[12]} (16 six-bit scales stored +32), fp16 {@code d}. x ≈ d·(s-32)·(q-4).
 * <ul>
 * <li>No imatrix, {@code quantize_row_q3_K_ref}: per sub-block make_q3_quants(16, 4, rmse) — weights x² and
 *     coordinate descent; 6-bit scales against the signed scale of largest magnitude (iscale -32/max).</li>
 * <li>Imatrix, {@code quantize_row_q3_K_impl}: weights qw·sqrt(σ² + x²) with σ² = 2·Σx²/256,
 *     make_qx_quants(16, 4, rmse 1, weights), then the 6-bit scales by make_qx_quants(16, 32, rmse 1)
 *     over the scales weighted by the sub-blocks' summed weights.</li>
 * </ul>
 * Both finish alike: quants recomputed from the fp16-rounded d, high bits into hmask.
 */
final class Q3_KCodec extends BlockCodec {
    static final int QK_K = GgmlType.Q3_K.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q3_K.typeSize;
    private static final int HMASK = 0, QS = 32, SCALES = 96, D = 108;

    Q3_KCodec() {
        super(GgmlType.Q3_K, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) quantizeRef(x, xo, n, y);
        else quantizeImpl(x, xo, n, y, qw);
    }

    private static void quantizeRef(float[] x, int xo, int n, byte[] y) {
        byte[] L = new byte[QK_K];
        float[] scales = new float[QK_K / 16];
        float[] xt = new float[128];
        float[] st = new float[LaneSearch.STATE];
        float[] Lt = new float[128];
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * BLOCK_BYTES;
            float maxScale = 0;
            float amax = 0;
            // Sixteen sub-blocks of 16, searched eight at a time, one per SIMD lane.
            for (int g = 0; g < 2; g++) {
                LaneSearch.transpose(x, bx + 128 * g, 16, 8, xt);
                LaneSearch.makeQ3Quants(16, 4, xt, Lt, scales, 8 * g, st);
                LaneSearch.untranspose(Lt, 16, 8, L, 128 * g);
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                float scale = Math.abs(scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            for (int k = 0; k < 12; k++) y[by + SCALES + k] = 0;
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) {
                    byte l = (byte) nearestInt(iscale * scales[j]);
                    l = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                    putScale(y, by, j, l);
                }
                putFp16(y, by + D, 1 / iscale);
            } else {
                putFp16(y, by + D, 0.f);
            }
            finish(x, bx, y, by, L);
        }
    }

    private static void quantizeImpl(float[] x, int xo, int n, byte[] y, float[] qw) {
        byte[] L = new byte[QK_K];
        float[] scales = new float[QK_K / 16];
        float[] weight = new float[QK_K];
        float[] sw = new float[QK_K / 16];
        float[] xt = new float[128];
        float[] wt = new float[128];
        float[] Lt = new float[128];
        float[] LauxT = new float[128];
        float[] st = new float[LaneSearch.STATE];
        byte[] Ls = new byte[QK_K / 16];
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * BLOCK_BYTES;
            float sumx2 = 0;
            for (int j = 0; j < QK_K; ++j) sumx2 += x[bx + j] * x[bx + j];
            float sigma2 = 2 * sumx2 / QK_K;
            for (int j = 0; j < QK_K / 16; ++j) {
                int qo = QK_K * i + 16 * j;
                for (int l = 0; l < 16; ++l) {
                    float xl = x[bx + 16 * j + l];
                    weight[16 * j + l] = qw[qo + l] * (float) Math.sqrt(sigma2 + xl * xl);
                }
                float sumw = 0;
                for (int l = 0; l < 16; ++l) sumw += weight[16 * j + l];
                sw[j] = sumw;
            }
            // make_qx_quants(16, 4, …, rmse 1, weight) eight sub-blocks at a time, one per SIMD lane.
            for (int g = 0; g < 2; g++) {
                LaneSearch.transpose(x, bx + 128 * g, 16, 8, xt);
                LaneSearch.transpose(weight, 128 * g, 16, 8, wt);
                LaneSearch.makeQxQuants(16, 4, xt, wt, Lt, LauxT, scales, 8 * g, st);
                LaneSearch.untranspose(Lt, 16, 8, L, 128 * g);
            }
            for (int k = 0; k < 12; k++) y[by + SCALES + k] = 0;
            float dBlock = QuantSearch.makeQxQuants(QK_K / 16, 32, scales, 0, Ls, 0, 1, sw, 0);
            for (int j = 0; j < QK_K / 16; ++j) putScale(y, by, j, Ls[j]);
            putFp16(y, by + D, dBlock);
            finish(x, bx, y, by, L);
        }
    }

    /** Packs the 6-bit scale l (0..63) of sub-block j: low nibble in scales[j%8] (high half for j ≥ 8), top 2 bits in scales[8 + j%4]. */
    private static void putScale(byte[] y, int by, int j, int l) {
        if (j < 8) y[by + SCALES + j] = (byte) (l & 0xF);
        else y[by + SCALES + j - 8] |= (byte) ((l & 0xF) << 4);
        l >>= 4;
        y[by + SCALES + j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
    }

    /** The signed 6-bit scale of sub-block j (stored value - 32). */
    private static int getScale(byte[] y, int by, int j) {
        int sc = j < 8 ? y[by + SCALES + j] & 0xF : (y[by + SCALES + j - 8] & 0xFF) >> 4;
        return (byte) ((sc | (((y[by + SCALES + 8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    }

    /** Requantizes with the fp16-rounded d (sub-blocks with zero scale keep L), moves bit 2 into hmask, packs the low 2 bits. */
    private static void finish(float[] x, int bx, byte[] y, int by, byte[] L) {
        int[] tmp = new int[LaneSearch.LANES];
        float dAll = getFp16(y, by + D);
        for (int j = 0; j < QK_K / 16; ++j) {
            float d = dAll * getScale(y, by, j);
            if (d == 0) continue;
            LaneSearch.requantize(x, bx + 16 * j, 16, 0f, d, -4, 3, 4, L, 16 * j, tmp);
        }
        for (int k = 0; k < QK_K / 8; k++) y[by + HMASK + k] = 0;
        int m = 0;
        int hm = 1;
        for (int j = 0; j < QK_K; ++j) {
            // branch-free form of "if (L[j] > 3) { set the hmask bit; L[j] -= 4; }" (L is 0..7)
            int high = (L[j] >> 2) & 1;
            y[by + HMASK + m] |= (byte) (hm * high);
            L[j] &= 3;
            if (++m == QK_K / 8) {
                m = 0;
                hm <<= 1;
            }
        }
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
            float dAll = getFp16(y, by + D);
            int q = by + QS;
            int m = 1;
            int is = 0;
            for (int nn = 0; nn < QK_K; nn += 128) {
                int shift = 0;
                for (int j = 0; j < 4; ++j) {
                    float dl = dAll * getScale(y, by, is++);
                    for (int l = 0; l < 16; ++l) {
                        int v = ((y[q + l] & 0xFF) >> shift) & 3;
                        x[out++] = dl * (v - ((y[by + HMASK + l] & m) != 0 ? 0 : 4));
                    }
                    dl = dAll * getScale(y, by, is++);
                    for (int l = 0; l < 16; ++l) {
                        int v = ((y[q + l + 16] & 0xFF) >> shift) & 3;
                        x[out++] = dl * (v - ((y[by + HMASK + l + 16] & m) != 0 ? 0 : 4));
                    }
                    shift += 2;
                    m <<= 1;
                }
                q += 32;
            }
        }
    }
}
