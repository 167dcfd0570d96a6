package dev.featherweight.catalog.capacity;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Nominal bits per weight of a precision or quantization, scales and zero points included, for sizing
 * a model that has not been quantized yet. A real artifact's tensor bytes always take precedence.
 */
public final class WeightsDType {
    /** name → bits per weight. K-quant mixes are the bpw llama.cpp reports for a 7B Llama. */
    private static final Map<String, Double> BITS = new LinkedHashMap<>();

    static {
        BITS.put("fp32", 32.0);
        BITS.put("fp16", 16.0);
        BITS.put("bf16", 16.0);
        BITS.put("fp8", 8.0);
        BITS.put("int8", 8.0);          // LLM.int8: int8 weights + one fp32 scale per row (negligible)
        BITS.put("q8_0", 8.5);
        BITS.put("q6_k", 6.5625);
        BITS.put("q5_k_m", 5.69);
        BITS.put("q5_0", 5.5);
        BITS.put("q4_k_m", 4.85);
        BITS.put("q4_0", 4.5);
        BITS.put("q3_k_m", 3.91);
        BITS.put("q2_k", 2.96);
        BITS.put("gptq-4bit", 4.0 + 16.0 / 128 + 4.0 / 128); // int4 + fp16 scale + 4-bit zero per group of 128
        BITS.put("awq-4bit", 4.0 + 16.0 / 128 + 4.0 / 128);
        BITS.put("nf4", 4.0 + 32.0 / 64);                       // fp32 absmax per 64-block
        BITS.put("nf4-dq", 4.0 + 8.0 / 64 + 32.0 / (64 * 256)); // 8-bit absmax + fp32 per 256 absmax
        BITS.put("int4", 4.0);
    }

    private WeightsDType() {
    }

    public static double bitsPerWeight(String name) {
        Double b = BITS.get(name.trim().toLowerCase(Locale.ROOT));
        if (b == null) throw new CapacityException("unknown weights dtype '" + name + "' (known: " + String.join(", ", BITS.keySet()) + ")");
        return b;
    }

    /** Weight bytes of a shape at a nominal precision. */
    public static long bytes(ModelShape shape, String name) {
        return Math.round(shape.params() * bitsPerWeight(name) / 8.0);
    }
}
