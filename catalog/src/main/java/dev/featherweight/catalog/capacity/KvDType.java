package dev.featherweight.catalog.capacity;

import java.util.Locale;

/**
 * Element types of a KV cache and their sizes. int4 packs two values per byte; llama.cpp's block types
 * ({@code -ctk q8_0 / q4_0}) carry an fp16 scale per 32 values: 34 and 18 bytes per 32.
 */
public enum KvDType {
    FP32(4), FP16(2), BF16(2), FP8(1), INT8(1), INT4(0.5), Q8_0(34.0 / 32), Q4_0(18.0 / 32);

    public final double bytesPerElement;

    KvDType(double bytesPerElement) {
        this.bytesPerElement = bytesPerElement;
    }

    /** fp32, fp16, bf16, fp8, int8, int4, q8_0, q4_0 (also llama.cpp's f32 / f16), case-insensitive. */
    public static KvDType parse(String s) {
        String n = s.trim().toUpperCase(Locale.ROOT).replace("-", "");
        if (n.equals("F32")) return FP32;
        if (n.equals("F16")) return FP16;
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new CapacityException("unknown KV dtype '" + s + "' (fp32, fp16, bf16, fp8, int8, int4, q8_0, q4_0)");
        }
    }
}
