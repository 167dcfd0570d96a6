package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * Q5_0 ({@code block_q5_0}: fp16 d, qh[4] = u32 of the 5th bits (bit j ↔ weight j), qs[16] low nibbles
 * as Q4_0; 5.5 bpw). x ≈ d·(q - 16).
 * <ul>
 * <li>No imatrix, {@code quantize_row_q5_0_ref}: d = (signed value of largest magnitude)/-16,
 *     q = min(31, (int8)(x/d + 16.5)).</li>
 * <li>Imatrix, {@code quantize_row_q5_0_impl}: weights qw·sqrt(σ² + x²) (σ² of the whole row), then
 *     {@code make_qx_quants(32, 16, …)}.</li>
 * </ul>
 */
final class Q5_0Codec extends BlockCodec {
    static final int QK = GgmlType.Q5_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q5_0.typeSize;

    Q5_0Codec() {
        super(GgmlType.Q5_0, 0 /* d */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) quantizeRef(x, xo, n, y);
        else quantizeImpl(x, xo, n, y, qw);
    }

    private static void quantizeRef(float[] x, int xo, int n, byte[] y) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < QK; j++) {
                float v = x[bx + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putFp16(y, by, d);
            int qh = 0;
            for (int j = 0; j < QK / 2; ++j) {
                float x0 = x[bx + j] * id;
                float x1 = x[bx + QK / 2 + j] * id;
                int xi0 = Math.min(31, (byte) (int) (x0 + 16.5f)) & 0xFF;
                int xi1 = Math.min(31, (byte) (int) (x1 + 16.5f)) & 0xFF;
                y[by + 6 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            putInt(y, by + 2, qh);
        }
    }

    private static void quantizeImpl(float[] x, int xo, int n, byte[] y, float[] qw) {
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) sumX2 += x[xo + j] * x[xo + j];
        float sigma2 = sumX2 / n;
        for (int ib = 0, nb = n / QK; ib < nb; ++ib) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            for (int j = 0; j < QK; ++j) {
                weight[j] = qw[ib * QK + j] * (float) Math.sqrt(sigma2 + x[bx + j] * x[bx + j]);
            }
            float d = QuantSearch.makeQxQuants(QK, 16, x, bx, L, 0, 1, weight, 0);
            putFp16(y, by, d);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                int xi0 = L[j] & 0xFF;
                int xi1 = L[j + 16] & 0xFF;
                y[by + 6 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            putInt(y, by + 2, qh);
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int by = ib * BLOCK_BYTES;
            int bx = xo + ib * QK;
            float d = getFp16(y, by);
            int qh = getInt(y, by + 2);
            for (int j = 0; j < QK / 2; ++j) {
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int q = y[by + 6 + j] & 0xFF;
                x[bx + j] = (((q & 0x0F) | xh0) - 16) * d;
                x[bx + j + QK / 2] = (((q >> 4) | xh1) - 16) * d;
            }
        }
    }
}
