package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/** F32: the weights themselves, little-endian (a copy; the importance matrix does not apply). */
final class F32Codec extends BlockCodec {
    F32Codec() {
        super(GgmlType.F32);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int i = 0; i < n; i++) putInt(y, 4 * i, Float.floatToRawIntBits(x[xo + i]));
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) x[xo + i] = Float.intBitsToFloat(getInt(y, 4 * i));
    }
}
