package dev.featherweight.kernels.capacity;

import java.util.Locale;

/** Element types of a KV cache and their sizes (int4 packs two values per byte). */
public enum KvDType {
    FP32(4), FP16(2), BF16(2), FP8(1), INT8(1), INT4(0.5);

    public final double bytesPerElement;

    KvDType(double bytesPerElement) {
        this.bytesPerElement = bytesPerElement;
    }

    public static KvDType parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT).replace("-", ""));
        } catch (IllegalArgumentException e) {
            throw new CapacityException("unknown KV dtype '" + s + "' (fp32, fp16, bf16, fp8, int8, int4)");
        }
    }
}
