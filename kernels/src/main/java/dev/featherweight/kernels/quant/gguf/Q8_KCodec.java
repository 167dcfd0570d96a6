package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * Q8_K ({@code block_q8_K}, 256 weights, 292 bytes): f32 {@code d}, int8 {@code qs[256]}, int16
 * {@code bsums[16]} (sum of each 16 quants). Not a file type: llama.cpp's CPU backend quantizes
 * activations to it for the K-quant dot products. {@code quantize_row_q8_K_ref}: iscale = -127/max
 * (max = signed value of largest magnitude), q = min(127, nearest_int(iscale·x)), d = 1/iscale.
 * The importance matrix does not apply.
 */
final class Q8_KCodec extends BlockCodec {
    static final int QK_K = GgmlType.Q8_K.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q8_K.typeSize;
    private static final int DF32 = 0, QS = 4, BSUMS = 260;

    Q8_KCodec() {
        super(GgmlType.Q8_K);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * BLOCK_BYTES;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < QK_K; ++j) {
                float ax = Math.abs(x[bx + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[bx + j];
                }
            }
            if (amax == 0) {
                for (int k = 0; k < BLOCK_BYTES; k++) y[by + k] = 0; // d = 0, qs = 0; bsums are zero too
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < QK_K; ++j) {
                int v = nearestInt(iscale * x[bx + j]);
                y[by + QS + j] = (byte) Math.min(127, v);
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) sum += y[by + QS + j * 16 + ii];
                putShort(y, by + BSUMS + 2 * j, (short) sum);
            }
            putInt(y, by + DF32, Float.floatToRawIntBits(1 / iscale));
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int by = i * BLOCK_BYTES;
            float d = Float.intBitsToFloat(getInt(y, by + DF32));
            for (int j = 0; j < QK_K; ++j) x[xo + i * QK_K + j] = d * y[by + QS + j];
        }
    }
}
