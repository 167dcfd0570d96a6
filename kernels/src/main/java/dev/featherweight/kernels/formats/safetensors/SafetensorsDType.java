package dev.featherweight.kernels.formats.safetensors;

import dev.featherweight.kernels.core.GgmlType;

import java.util.Map;

/** safetensors dtype names and the element types they map to, both ways. */
public final class SafetensorsDType {
    private static final Map<String, GgmlType> TO_GGML = Map.of(
            "F32", GgmlType.F32, "F16", GgmlType.F16, "BF16", GgmlType.BF16, "F64", GgmlType.F64,
            "I8", GgmlType.I8, "U8", GgmlType.U8, "I16", GgmlType.I16, "I32", GgmlType.I32, "I64", GgmlType.I64,
            "F8_E4M3", GgmlType.F8_E4M3);

    private SafetensorsDType() {
    }

    /** The element type of a safetensors dtype name, or null when unsupported. */
    public static GgmlType toGgml(String dtype) {
        return TO_GGML.get(dtype);
    }

    /** The safetensors dtype name of an element type; block-quantized ggml types have none. */
    public static String name(GgmlType type) {
        for (Map.Entry<String, GgmlType> e : TO_GGML.entrySet()) if (e.getValue() == type) return e.getKey();
        throw new IllegalArgumentException(type + " cannot be stored in safetensors");
    }
}
