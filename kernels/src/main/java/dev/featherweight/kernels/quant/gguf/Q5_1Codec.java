package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * Q5_1 ({@code block_q5_1}: fp16 d, fp16 m, qh[4], qs[16]; 6.0 bpw). x ≈ d·q + m.
 * <ul>
 * <li>No imatrix, {@code quantize_row_q5_1_ref}: m = min, d = (max-min)/31, q = (uint8)((x-min)/d + 0.5) (no clamp).</li>
 * <li>Imatrix, {@code quantize_row_q5_1_impl}: weights qw·sqrt(σ² + x²) (σ² of the whole row), then
 *     {@code make_qkx3_quants(32, 31, …, -0.9, 0.05, 36)}; m = -(returned min).</li>
 * </ul>
 */
final class Q5_1Codec extends BlockCodec {
    static final int QK = GgmlType.Q5_1.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q5_1.typeSize;

    Q5_1Codec() {
        super(GgmlType.Q5_1, 0, 2 /* d, m */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) quantizeRef(x, xo, n, y);
        else quantizeImpl(x, xo, n, y, qw);
    }

    private static void quantizeRef(float[] x, int xo, int n, byte[] y) {
        float[] mm = new float[2];
        int[] q = new int[QK];
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            LaneSearch.minMax32(x, bx, mm); // equals C's "if (v < min) min = v" loop unless a zero or NaN is involved
            float min = mm[0];
            float max = mm[1];
            if (min == 0 || max == 0 || Float.isNaN(min) || Float.isNaN(max)) {
                // -0.0 vs +0.0 and NaN order matter for the stored fp16 min: redo it exactly as the C loop
                min = Float.MAX_VALUE;
                max = -Float.MAX_VALUE;
                for (int j = 0; j < QK; j++) {
                    float v = x[bx + j];
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
            }
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putFp16(y, by, d);
            putFp16(y, by + 2, min);
            int qh = 0;
            LaneSearch.truncQuants32(x, bx, min, id, 0.5f, Integer.MAX_VALUE, q); // (uint8)((x - min)·id + 0.5)
            for (int j = 0; j < QK / 2; ++j) {
                int xi0 = q[j] & 0xFF;
                int xi1 = q[j + QK / 2] & 0xFF;
                y[by + 8 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            putInt(y, by + 4, qh);
        }
    }

    private static void quantizeImpl(float[] x, int xo, int n, byte[] y, float[] qw) {
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        byte[] Laux = new byte[QK];
        float[] min = new float[1];
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) sumX2 += x[xo + j] * x[xo + j];
        float sigma2 = sumX2 / n;
        for (int ib = 0, nb = n / QK; ib < nb; ++ib) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            for (int j = 0; j < QK; ++j) {
                weight[j] = qw[ib * QK + j] * (float) Math.sqrt(sigma2 + x[bx + j] * x[bx + j]);
            }
            float d = QuantSearch.makeQkx3Quants(QK, 31, x, bx, weight, 0, L, 0, min, 0, Laux, -0.9f, 0.05f, 36, false);
            putFp16(y, by, d);
            putFp16(y, by + 2, -min[0]);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                int xi0 = L[j] & 0xFF;
                int xi1 = L[j + 16] & 0xFF;
                y[by + 8 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            putInt(y, by + 4, qh);
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int by = ib * BLOCK_BYTES;
            int bx = xo + ib * QK;
            float d = getFp16(y, by);
            float m = getFp16(y, by + 2);
            int qh = getInt(y, by + 4);
            for (int j = 0; j < QK / 2; ++j) {
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int q = y[by + 8 + j] & 0xFF;
                x[bx + j] = ((q & 0x0F) | xh0) * d + m;
                x[bx + j + QK / 2] = ((q >> 4) | xh1) * d + m;
            }
        }
    }
}
