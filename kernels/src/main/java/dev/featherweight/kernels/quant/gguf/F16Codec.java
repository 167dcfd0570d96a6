package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * F16: {@code ggml_fp32_to_fp16_row} as ggml_quantize_chunk runs it for F16 (IEEE half, round to nearest
 * even, see {@link HalfFloats#fp32ToFp16}); the importance matrix does not apply.
 */
final class F16Codec extends BlockCodec {
    F16Codec() {
        super(GgmlType.F16);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int i = 0; i < n; i++) putShort(y, 2 * i, HalfFloats.fp32ToFp16(x[xo + i]));
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) x[xo + i] = HalfFloats.fp16ToFp32(getShort(y, 2 * i));
    }

    /** Straight from the mapping; Float.float16ToFloat is an intrinsic (vcvtph2ps) on x86. */
    @Override
    public void decodeRow(MemorySegment src, long base, float[] dst, int off, int n) {
        for (int c = 0; c < n; c++) dst[off + c] = Float.float16ToFloat(src.get(LE_SHORT, base + 2L * c));
    }
}
