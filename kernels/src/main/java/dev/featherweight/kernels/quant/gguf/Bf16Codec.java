package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;

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

    /** Straight from the mapping: the high 16 bits of a float. */
    @Override
    public void decodeRow(MemorySegment src, long base, float[] dst, int off, int n) {
        for (int c = 0; c < n; c++) dst[off + c] = Float.intBitsToFloat(src.get(LE_SHORT, base + 2L * c) << 16);
    }
}
