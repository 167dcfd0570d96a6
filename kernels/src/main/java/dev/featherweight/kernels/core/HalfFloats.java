package dev.featherweight.kernels.core;

/**
 * fp32 ↔ fp16 / bf16 conversions exactly as ggml-base does them (ggml-impl.h), because every block
 * scale of every GGUF type goes through them and a single differently rounded scale changes the bytes.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    private static final float SCALE_TO_INF = 0x1.0p+112f;
    private static final float SCALE_TO_ZERO = 0x1.0p-110f;

    /**
     * {@code ggml_compute_fp32_to_fp16}: the portable bit trick ggml-base uses when F16C is not compiled
     * in (it is not: ggml-base is built without -march=native). Round to nearest even, overflow to ±inf,
     * subnormals rounded correctly, every NaN becomes the quiet NaN 0x7E00 with the input's sign.
     */
    public static short fp32ToFp16(float f) {
        // Multiplying by 2^112 then 2^-110 lets the FPU do the rounding of the mantissa, including
        // into the subnormal range, exactly once.
        float base = (Math.abs(f) * SCALE_TO_INF) * SCALE_TO_ZERO;
        int w = Float.floatToRawIntBits(f);
        int shl1W = w + w;
        int sign = w & 0x80000000;
        int bias = shl1W & 0xFF000000;
        if (Integer.compareUnsigned(bias, 0x71000000) < 0) bias = 0x71000000;
        base = Float.intBitsToFloat((bias >>> 1) + 0x07800000) + base;
        int bits = Float.floatToRawIntBits(base);
        int expBits = (bits >>> 13) & 0x00007C00;
        int mantissaBits = bits & 0x00000FFF;
        int nonsign = expBits + mantissaBits;
        int isNaN = Integer.compareUnsigned(shl1W, 0xFF000000) > 0 ? 0x7E00 : nonsign;
        return (short) ((sign >>> 16) | isNaN);
    }

    /** {@code GGML_FP16_TO_FP32}: exact (ggml reads it from a table of all 65536 values). */
    public static float fp16ToFp32(short h) {
        return Float.float16ToFloat(h);
    }

    /**
     * {@code ggml_compute_fp32_to_bf16}: round to nearest even on the upper 16 bits; a NaN keeps its top
     * bits and is forced quiet (bit 6 of the bf16 set) instead of being rounded (which could turn it into inf).
     */
    public static short fp32ToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** {@code GGML_BF16_TO_FP32}: the 16 bits become the top half of the float. */
    public static float bf16ToFp32(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }
}
