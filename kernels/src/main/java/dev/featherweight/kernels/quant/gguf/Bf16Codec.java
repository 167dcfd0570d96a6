package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.GgmlType;

/**
 * BF16: {@code ggml_fp32_to_bf16_row_ref} as ggml_quantize_chunk runs it for BF16 (round to nearest even
 * on the top 16 bits, NaN forced quiet, see {@link HalfFloats#fp32ToBf16}); the importance matrix does not apply.
 */
final class Bf16Codec extends BlockCodec {
    Bf16Codec() {
        super(GgmlType.BF16);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int i = 0; i < n; i++) putShort(y, 2 * i, HalfFloats.fp32ToBf16(x[xo + i]));
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) x[xo + i] = HalfFloats.bf16ToFp32(getShort(y, 2 * i));
    }
}
