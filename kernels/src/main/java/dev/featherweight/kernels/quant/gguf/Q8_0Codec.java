package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * Q8_0 ({@code block_q8_0}: fp16 d, int8 qs[32]; 8.5 bpw). {@code quantize_q8_0} always runs
 * {@code quantize_row_q8_0_ref} and ignores the importance matrix: d = amax/127, q = roundf(x/d)
 * (multiplying by the reciprocal; ties away from zero).
 */
final class Q8_0Codec extends BlockCodec {
    static final int QK = 32;
    static final int BLOCK_BYTES = 34;

    Q8_0Codec() {
        super(GgmlType.Q8_0);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            float amax = 0.0f;
            for (int j = 0; j < QK; j++) {
                float a = Math.abs(x[bx + j]);
                amax = amax > a ? amax : a; // C MAX(): a NaN is dropped like there
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putFp16(y, by, d);
            for (int j = 0; j < QK; j++) {
                y[by + 2 + j] = (byte) QuantSearch.roundAwayFromZero(x[bx + j] * id);
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int by = ib * BLOCK_BYTES;
            float d = getFp16(y, by);
            for (int j = 0; j < QK; j++) x[xo + ib * QK + j] = y[by + 2 + j] * d;
        }
    }
}
